"""The postmortem processes' settings (environment or a .env file) and the opening
policy file.

Environment (prefix FIREWATCH_):
  STORE_URL                          the event log (default sqlite:///var/firewatch/eventlog.db)
  SMTP_HOST / SMTP_PORT / SMTP_SENDER / SMTP_STARTTLS / SMTP_USERNAME / SMTP_PASSWORD
  SMTP_TIMEOUT_SECONDS / WEBHOOK_TIMEOUT_SECONDS      as for paging
  POSTMORTEM_DUE_BUSINESS_DAYS       completion due date after resolution (default 5)
  POSTMORTEM_POLICY_FILE             YAML: which severities need a postmortem, per service
  POSTMORTEM_REMIND_BEFORE_HOURS     first reminder before an item's due date (default 48)
  POSTMORTEM_OVERDUE_EVERY_HOURS     reminders while overdue (default 168: weekly)
  POSTMORTEM_ESCALATE_AFTER_HOURS    overdue P1/P2 items go to the owner's team (default 168)
  POSTMORTEM_OUTCOME_TIMEOUT_SECONDS a reminder whose outcome is unknown by then is sent
                                     again, marked as a possible repeat (default 120)
  POSTMORTEM_SENDER                  this worker's name in ReminderAttempted (default host)
  POSTMORTEM_WEBHOOK_URLS            comma-separated receivers of signed change webhooks
  POSTMORTEM_WEBHOOK_SECRET          HMAC-SHA256 key of those webhooks (>= 32 bytes)
  POSTMORTEM_HTTP_HOST / _PORT       the internal web pages (default 127.0.0.1:8083)
  POSTMORTEM_HTTP_TOKEN              bearer token the pages require (empty: open, loopback only)

Policy file (POSTMORTEM_POLICY_FILE), every key optional:

    default: {P1: required, P2: required, P3: optional, P4: optional}
    services:
      payments: {P3: required}      # payments writes one for P3 too
      sandbox: {P1: optional, P2: none}
"""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventlog import EventStore
from eventlog.clock import Clock
from postmortem_service.action import ReminderPolicy
from postmortem_service.app import (
    DEFAULT_REQUIREMENTS,
    OpeningPolicy,
    PostmortemApplication,
    Requirement,
)

_LEVELS = {Requirement.REQUIRED, Requirement.OPTIONAL, Requirement.NONE}


class SettingsError(ValueError):
    """A setting or the policy file is wrong; the message names it."""


class PostmortemSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREWATCH_", env_file=".env", extra="ignore")

    store_url: str = "sqlite:///var/firewatch/eventlog.db"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_sender: str = "firewatch@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)

    postmortem_due_business_days: int = Field(default=5, ge=1, le=60)
    postmortem_policy_file: Path | None = None
    postmortem_remind_before_hours: float = Field(default=48.0, ge=0)
    postmortem_overdue_every_hours: float = Field(default=168.0, gt=0)
    postmortem_escalate_after_hours: float = Field(default=168.0, ge=0)
    postmortem_outcome_timeout_seconds: float = Field(default=120.0, gt=0)
    postmortem_sender: str = Field(default_factory=lambda: socket.gethostname()[:60] or "pm")
    postmortem_webhook_urls: str = ""
    postmortem_webhook_secret: SecretStr | None = None
    postmortem_http_host: str = "127.0.0.1"
    postmortem_http_port: int = Field(default=8083, ge=0, le=65535)
    postmortem_http_tls_cert: Path | None = None
    postmortem_http_tls_key: Path | None = None
    """Both set: the pages are served over https (PEM files, ADR 0023)."""
    postmortem_http_token: SecretStr | None = None

    def reminder_policy(self) -> ReminderPolicy:
        return ReminderPolicy(
            remind_before=timedelta(hours=self.postmortem_remind_before_hours),
            overdue_every=timedelta(hours=self.postmortem_overdue_every_hours),
            escalate_after=timedelta(hours=self.postmortem_escalate_after_hours),
            outcome_timeout=timedelta(seconds=self.postmortem_outcome_timeout_seconds),
        )

    def opening_policy(self) -> OpeningPolicy:
        if self.postmortem_policy_file is None:
            return OpeningPolicy()
        try:
            raw: Any = yaml.safe_load(self.postmortem_policy_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise SettingsError(f"POSTMORTEM_POLICY_FILE: {error}") from None
        return parse_policy(raw or {})

    def application(
        self, store: EventStore, clock: Clock, *, sender: str | None = None
    ) -> PostmortemApplication:
        """The application as every process builds it (worker, gRPC API, pages): the
        same opening policy, reminder policy and due business days, so a postmortem
        opened or reassigned through the API is due when the worker's would be."""
        return PostmortemApplication(
            store,
            clock,
            opening=self.opening_policy(),
            reminders=self.reminder_policy(),
            due_business_days=self.postmortem_due_business_days,
            sender=sender or self.postmortem_sender,
        )

    def webhook_targets(self) -> list[str]:
        urls = [u.strip() for u in self.postmortem_webhook_urls.split(",") if u.strip()]
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise SettingsError(f"POSTMORTEM_WEBHOOK_URLS: {url!r} is not an http(s) URL")
        if urls and (
            self.postmortem_webhook_secret is None
            or len(self.postmortem_webhook_secret.get_secret_value().encode()) < 32
        ):
            raise SettingsError("POSTMORTEM_WEBHOOK_SECRET must be at least 32 bytes")
        return urls


def parse_policy(raw: dict[str, Any]) -> OpeningPolicy:
    def levels(where: str, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise SettingsError(f"{where}: expected a mapping like {{P3: required}}")
        for severity, level in value.items():
            if severity not in DEFAULT_REQUIREMENTS or level not in _LEVELS:
                raise SettingsError(
                    f"{where}.{severity}: must map P1-P4 to one of {', '.join(sorted(_LEVELS))}"
                )
        return {str(k): str(v) for k, v in value.items()}

    default = {**DEFAULT_REQUIREMENTS, **levels("default", raw.get("default", {}))}
    services = {
        str(name): levels(f"services.{name}", value)
        for name, value in (raw.get("services") or {}).items()
    }
    return OpeningPolicy(default, services)
