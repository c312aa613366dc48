"""The paging processes' settings (environment or a .env file) and the routing file.

Owns configuration only: what every paging process reads (the worker, the ack-link
HTTP process) and the YAML file that chooses an escalation policy per service. Defaults
suit `make run` on one machine; production sets the SMTP relay, the public ack URL base
and a real secret.

Environment (prefix FIREWATCH_):
  STORE_URL                       the event log (default sqlite:///var/firewatch/eventlog.db)
  SMTP_HOST / SMTP_PORT           the mail relay (default 127.0.0.1:8025, `make run`'s mailbox)
  SMTP_SENDER                     From: address (default firewatch@localhost)
  SMTP_STARTTLS                   true to upgrade the connection (default false)
  SMTP_USERNAME / SMTP_PASSWORD   SMTP AUTH, when the relay wants it
  SMTP_TIMEOUT_SECONDS            per-connection socket timeout (default 10)
  WEBHOOK_TIMEOUT_SECONDS         per-request timeout of webhook/Slack posts (default 10)
  PAGING_HTTP_HOST / _PORT        where the ack-link server listens (default 127.0.0.1:8081)
  PAGING_ACK_SECRET               HMAC key of ack links, >= 32 bytes (or PAGING_ACK_SECRET_FILE)
  PAGING_ACK_URL_BASE             public base of ack links (default http://<http host:port>/ack)
  PAGING_ACK_TTL_HOURS            how long an ack link stays valid (default 24)
  PAGING_ROUTING_FILE             YAML: service -> policy, urgency per service (optional)
  PAGING_DEFAULT_POLICY           the policy when no service matches (default "default")
  PAGING_RETRY_BASE_SECONDS       first backoff after a temporary failure (default 30)
  PAGING_RETRY_FACTOR             backoff multiplier (default 4)
  PAGING_RETRY_MAX_ATTEMPTS       attempts per method before failing over (default 4)
  PAGING_OUTCOME_TIMEOUT_SECONDS  an attempt with no outcome by then is sent again, marked
                                  as a possible repeat (default 120; a restarted worker
                                  resends its dead predecessor's attempts at once)
  PAGING_MAX_CONCURRENT_SENDS     sends in flight per worker process (default 20)
  PAGING_SENDER                   this worker's slot: a stable name, one running process
                                  per name (default: the host name; in Kubernetes, a
                                  StatefulSet pod name)
  PAGING_FALLBACK_EMAILS          comma-separated operator addresses paged when an
                                  escalation reaches nobody (set at install time; empty:
                                  the exhaustion is only recorded and logged)

Routing file (PAGING_ROUTING_FILE), every key optional:

    default_policy: primary          # overrides PAGING_DEFAULT_POLICY
    services:                        # service (as the incident names it) -> policy id
      checkout: checkout-oncall
      payments: payments-oncall
    urgency:                         # severity -> high|low; the defaults are shown
      default: {P1: high, P2: high, P3: low, P4: low}
      services:
        payments: {P3: high}         # payments pages P3 at night too

An incident naming several services uses the policy of the first one listed that has
one, else the default policy.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from paging_service.ack_token import MIN_SECRET_BYTES
from paging_service.common import Severity, Urgency
from paging_service.page import PlannedMethod, RetryPolicy
from paging_service.policy import DEFAULT_URGENCY, UrgencyRules
from paging_service.user import ContactKind

_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+$")


def _default_sender() -> str:
    """The host name, made a valid slot (a pod name already is)."""
    name = re.sub(r"[^A-Za-z0-9._:@+=-]", "-", socket.gethostname())[:100].lstrip("-.")
    return name or "paging"


class SettingsError(ValueError):
    """A setting or the routing file is missing or wrong; the message names it."""


class PagingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREWATCH_", env_file=".env", extra="ignore")

    store_url: str = Field(default="sqlite:///var/firewatch/eventlog.db")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_sender: str = "firewatch@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)

    paging_http_host: str = "127.0.0.1"
    paging_http_port: int = Field(default=8081, ge=0, le=65535)
    paging_http_tls_cert: Path | None = None
    paging_http_tls_key: Path | None = None
    """Both set: the ack-link server speaks https (PEM files, ADR 0023)."""
    paging_ack_secret: SecretStr | None = None
    paging_ack_secret_file: Path | None = None
    paging_ack_url_base: str | None = None
    paging_ack_ttl_hours: float = Field(default=24.0, gt=0)

    paging_routing_file: Path | None = None
    paging_default_policy: str = "default"

    paging_retry_base_seconds: float = Field(default=30.0, gt=0)
    paging_retry_factor: int = Field(default=4, ge=1)
    paging_retry_max_attempts: int = Field(default=4, ge=1)
    paging_retry_cap_seconds: float = Field(default=900.0, gt=0)
    paging_outcome_timeout_seconds: float = Field(default=120.0, gt=0)
    paging_max_concurrent_sends: int = Field(default=20, ge=1, le=1000)
    paging_sender: str = Field(default_factory=_default_sender)
    paging_fallback_emails: str = ""

    def fallback_plan(self) -> tuple[PlannedMethod, ...]:
        """The operators' route as a page plan: every address at once."""
        plan: list[PlannedMethod] = []
        for index, raw in enumerate(self.paging_fallback_emails.split(",")):
            address = raw.strip()
            if not address:
                continue
            if not _EMAIL.match(address):
                raise SettingsError(
                    f"FIREWATCH_PAGING_FALLBACK_EMAILS: {address!r} is not an email address"
                )
            plan.append(
                PlannedMethod(
                    method_id=f"fallback-{index}",
                    kind=ContactKind.EMAIL,
                    address=address,
                    after_minutes=0,
                )
            )
        return tuple(plan)

    def ack_secret(self, *, required: bool) -> bytes | None:
        """The ack-link key from PAGING_ACK_SECRET or PAGING_ACK_SECRET_FILE."""
        raw: str | None = None
        if self.paging_ack_secret is not None:
            raw = self.paging_ack_secret.get_secret_value()
        elif self.paging_ack_secret_file is not None:
            try:
                raw = self.paging_ack_secret_file.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise SettingsError(
                    f"FIREWATCH_PAGING_ACK_SECRET_FILE: cannot read it: {error}"
                ) from None
        if raw is None:
            if required:
                raise SettingsError(
                    "FIREWATCH_PAGING_ACK_SECRET (or _FILE) is required: the key that signs "
                    "acknowledgement links (e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'`)"
                )
            return None
        secret = raw.encode()
        if len(secret) < MIN_SECRET_BYTES:
            raise SettingsError(
                f"FIREWATCH_PAGING_ACK_SECRET must be at least {MIN_SECRET_BYTES} bytes"
            )
        return secret

    def ack_url_base(self) -> str:
        if self.paging_ack_url_base:
            return self.paging_ack_url_base.rstrip("/")
        scheme = "https" if self.paging_http_tls_cert and self.paging_http_tls_key else "http"
        return f"{scheme}://{self.paging_http_host}:{self.paging_http_port}/ack"

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.paging_retry_max_attempts,
            base=timedelta(seconds=self.paging_retry_base_seconds),
            factor=self.paging_retry_factor,
            cap=timedelta(seconds=self.paging_retry_cap_seconds),
            outcome_timeout=timedelta(seconds=self.paging_outcome_timeout_seconds),
        )

    def routing(self) -> Routing:
        if self.paging_routing_file is None:
            return Routing(default_policy=self.paging_default_policy)
        try:
            text = self.paging_routing_file.read_text(encoding="utf-8")
        except OSError as error:
            raise SettingsError(f"FIREWATCH_PAGING_ROUTING_FILE: cannot read it: {error}") from None
        return Routing.parse(
            text,
            source=str(self.paging_routing_file),
            default_policy=self.paging_default_policy,
        )


class _UrgencyDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: dict[Severity, Urgency] = {}
    services: dict[str, dict[Severity, Urgency]] = {}


class _RoutingDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_policy: str | None = Field(default=None, min_length=1)
    services: dict[str, str] = {}
    urgency: _UrgencyDoc = _UrgencyDoc()


@dataclass(frozen=True, slots=True)
class Routing:
    """Which escalation policy pages for which service, and how urgently."""

    default_policy: str
    policies: Mapping[str, str] = field(default_factory=dict)
    urgency: UrgencyRules = field(default_factory=UrgencyRules)

    def policy_for(self, services: Sequence[str]) -> tuple[str, str | None]:
        """(policy id, the service it was chosen for, or None for the default)."""
        for service in services:
            if service in self.policies:
                return self.policies[service], service
        return self.default_policy, (services[0] if services else None)

    @classmethod
    def parse(cls, text: str, *, source: str, default_policy: str) -> Routing:
        try:
            document: Any = yaml.safe_load(text) or {}
            parsed = _RoutingDoc.model_validate(document)
        except yaml.YAMLError as error:
            raise SettingsError(f"{source}: not valid YAML: {error}") from None
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}"
                for e in error.errors()
            )
            raise SettingsError(f"{source}: {problems}") from None
        urgency = UrgencyRules(
            default={**DEFAULT_URGENCY, **parsed.urgency.default},
            per_service=parsed.urgency.services,
        )
        return cls(
            default_policy=parsed.default_policy or default_policy,
            policies=dict(parsed.services),
            urgency=urgency,
        )
