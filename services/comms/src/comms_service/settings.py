"""The communications processes' settings (environment, prefix FIREWATCH_) and the
channels file.

Environment:
  STORE_URL                      the event log (default sqlite:///var/firewatch/eventlog.db)
  SMTP_HOST / SMTP_PORT / SMTP_SENDER / SMTP_TIMEOUT_SECONDS   the mail relay
  WEBHOOK_TIMEOUT_SECONDS        per-request timeout of webhook/Slack posts (default 10)
  COMMS_SECRET                   HMAC key: opt-in and unsubscribe links, webhook signatures
                                 (or COMMS_SECRET_FILE; the same value in every process)
  COMMS_CHANNELS_FILE            YAML: where war rooms and stakeholder channels open
  COMMS_TEMPLATES_FILE           YAML: stakeholder update templates, name -> jinja2 source
                                 (replace internal/executive/public or add more; checked
                                 at start: a template that does not parse stops the process)
  COMMS_CONTACTS                 user=email,... : where reminders and escalations reach people
  COMMS_SENDER                   this worker's slot (default comms-<host name>; one running
                                 process per slot, e.g. a StatefulSet pod name)
  COMMS_OUTCOME_TIMEOUT_SECONDS  an attempt with no outcome by then is resent, labelled
  COMMS_RETRY_HOURS              how long a failing destination is retried (default 6)
  COMMS_RETRY_CAP_SECONDS        the longest wait between two tries (default 600; the
                                 backoff is 10 s x 3^n up to it, ADR 0036)
  STATUSPAGE_HOST / _PORT        the status page (default 127.0.0.1:8090)
  STATUSPAGE_URL                 its public URL (links in emails and feeds)
  STATUSPAGE_SUBSCRIBE_PER_MINUTE  public subscribe requests per client address (default 5)
  TOKENS_FILE                    API tokens (admin endpoints and the internal page)

Channels file (COMMS_CHANNELS_FILE):

    min_severity: P3                       # open channels for P1..P3
    war_room:    [{channel_id: war, kind: slack, address: https://chat/hooks/war}]
    stakeholder: [{channel_id: execs, kind: email, address: execs@example.com}]
    services:
      payments:
        min_severity: P4                   # every payments incident gets channels
        war_room: [...]
        stakeholder: [...]
    cadence:                               # minutes; null = no promise
      P1: 30
      services: {payments: {P1: 15}}

Templates file (COMMS_TEMPLATES_FILE): variables reference, title, severity, status,
commander, comms_lead, message, next_update_by.

    executive: "{{ reference }} ({{ severity }}): {{ message }} Next: {{ next_update_by }}"
    board: "{{ title }} is {{ status }}. {{ message }}"
"""

from __future__ import annotations

import re
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from comms_service import room as rm
from comms_service import templates as tpl
from comms_service.app import ChannelRouting
from comms_service.cadence import DEFAULT_INTERVALS, CadencePolicy, Interval
from comms_service.common import Severity
from comms_service.dispatch import RetryPolicy
from contracts.domain import InvalidCommandError

_TEMPLATE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class SettingsError(ValueError):
    """A configuration file that cannot be used; the message names the file and entry."""


def _default_sender() -> str:
    """The host name as a slot (one running worker per slot; a StatefulSet pod name)."""
    name = re.sub(r"[^a-z0-9._-]", "-", socket.gethostname().lower())[:60].strip("-.")
    return f"comms-{name}" if name else "comms"


class CommsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREWATCH_", extra="ignore")

    store_url: str = "sqlite:///var/firewatch/eventlog.db"
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_sender: str = "firewatch@localhost"
    smtp_timeout_seconds: float = 10.0
    webhook_timeout_seconds: float = 10.0
    comms_secret: SecretStr = SecretStr("firewatch-comms-development-secret-change-me")
    comms_secret_file: Path | None = None
    comms_channels_file: Path | None = None
    comms_templates_file: Path | None = None
    comms_contacts: str = ""
    comms_sender: str = Field(default_factory=_default_sender)
    comms_outcome_timeout_seconds: float = 120.0
    comms_retry_hours: float = Field(default=6.0, gt=0)
    """How long after a message was queued its failing deliveries are still retried."""
    comms_retry_cap_seconds: float = Field(default=600.0, gt=0)
    """The longest wait between two attempts (the backoff's cap)."""
    statuspage_host: str = "127.0.0.1"
    statuspage_port: int = 8090
    statuspage_tls_cert: Path | None = None
    statuspage_tls_key: Path | None = None
    """Both set: the status page is served over https (PEM files, ADR 0023)."""
    statuspage_url: str = ""
    statuspage_subscribe_per_minute: int = 5
    tokens_file: Path | None = None

    @property
    def page_url(self) -> str:
        scheme = "https" if self.statuspage_tls_cert and self.statuspage_tls_key else "http"
        return self.statuspage_url or f"{scheme}://{self.statuspage_host}:{self.statuspage_port}"

    def secret(self) -> bytes:
        if self.comms_secret_file is not None:
            return self.comms_secret_file.read_text(encoding="utf-8").strip().encode()
        return self.comms_secret.get_secret_value().encode()

    def contacts(self) -> dict[str, str]:
        pairs = (item.split("=", 1) for item in self.comms_contacts.split(",") if "=" in item)
        return {user.strip(): email.strip() for user, email in pairs}

    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            outcome_timeout=timedelta(seconds=self.comms_outcome_timeout_seconds),
            give_up_after=timedelta(hours=self.comms_retry_hours),
            cap=timedelta(seconds=self.comms_retry_cap_seconds),
        )

    def _file(self) -> dict[str, Any]:
        if self.comms_channels_file is None or not self.comms_channels_file.exists():
            return {}
        loaded = yaml.safe_load(self.comms_channels_file.read_text(encoding="utf-8")) or {}
        return loaded if isinstance(loaded, dict) else {}

    def templates(self) -> dict[str, str]:
        """The deployment's update templates (COMMS_TEMPLATES_FILE), each checked."""
        path = self.comms_templates_file
        if path is None:
            return {}
        where = f"FIREWATCH_COMMS_TEMPLATES_FILE {path}"
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise SettingsError(f"{where}: cannot be read ({error.strerror})") from None
        except yaml.YAMLError as error:
            raise SettingsError(f"{where}: is not YAML ({error})") from None
        if not isinstance(loaded, dict):
            raise SettingsError(f"{where}: must map template names to jinja2 sources")
        found: dict[str, str] = {}
        for name, source in loaded.items():
            if not isinstance(name, str) or not _TEMPLATE_NAME.match(name):
                raise SettingsError(
                    f"{where}: template name {name!r} must be lowercase letters, digits, . _ -"
                )
            if not isinstance(source, str) or not source.strip():
                raise SettingsError(f"{where}: template {name!r} must be non-empty text")
            try:
                tpl.check(source, field=f"templates.{name}")
                tpl.render(source, tpl.SAMPLE_VARIABLES, field=f"templates.{name}")
            except InvalidCommandError as error:
                raise SettingsError(f"{where}: template {name!r}: {error.problem}") from None
            found[name] = source
        return found

    def routing(self) -> ChannelRouting:
        raw = self._file()

        def specs(items: Any) -> tuple[rm.DestinationSpec, ...]:
            return tuple(rm.DestinationSpec.model_validate(item) for item in items or ())

        war_room, stakeholder = specs(raw.get("war_room")), specs(raw.get("stakeholder"))
        services = {
            name: (
                specs(entry.get("war_room")) or war_room,
                specs(entry.get("stakeholder")) or stakeholder,
            )
            for name, entry in (raw.get("services") or {}).items()
            if entry.get("war_room") or entry.get("stakeholder")
        }
        return ChannelRouting(
            war_room=war_room,
            stakeholder=stakeholder,
            per_service=services,
            min_severity=Severity(raw.get("min_severity", "P4")),
            per_service_min={
                name: Severity(entry["min_severity"])
                for name, entry in (raw.get("services") or {}).items()
                if entry.get("min_severity")
            },
        )

    def cadence(self) -> CadencePolicy:
        raw = self._file().get("cadence") or {}

        def intervals(entry: dict[str, Any]) -> dict[Severity, Interval | None]:
            out: dict[Severity, Interval | None] = {}
            for key, minutes in entry.items():
                if key in Severity.__members__:
                    severity = Severity(key)
                    default = DEFAULT_INTERVALS[severity]
                    business = default.business_hours if default else False
                    out[severity] = (
                        None if minutes is None else Interval(timedelta(minutes=minutes), business)
                    )
            return out

        return CadencePolicy(
            intervals={**DEFAULT_INTERVALS, **intervals(raw)},
            per_service={name: intervals(e) for name, e in (raw.get("services") or {}).items()},
        )
