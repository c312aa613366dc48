"""The runbooks processes' settings (environment or a .env file).

Environment (prefix FIREWATCH_):
  STORE_URL                        the event log (default sqlite:///var/firewatch/eventlog.db)
  RUNBOOKS_SENDER                  this worker's slot (default the host name; one live
                                   process per slot, e.g. a StatefulSet pod name)
  RUNBOOKS_OUTCOME_TIMEOUT_SECONDS an attempt without a result after this long counts
                                   as lost (default 120; must exceed every action's
                                   timeout)
  RUNBOOKS_API_HOST / _PORT        the gRPC API (default 127.0.0.1:50057)
  RUNBOOK_SECRET_<NAME>            secrets actions name (headers, HMAC keys)
"""

from __future__ import annotations

import socket

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RunbooksSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREWATCH_", env_file=".env", extra="ignore")

    store_url: str = "sqlite:///var/firewatch/eventlog.db"
    runbooks_sender: str = Field(default_factory=lambda: socket.gethostname()[:60] or "runbooks-0")
    runbooks_outcome_timeout_seconds: float = Field(default=120.0, gt=0)
    tokens_file: str = "var/firewatch/tokens.json"
    runbooks_api_host: str = "127.0.0.1"
    runbooks_api_port: int = Field(default=50057, ge=0, le=65535)
    runbooks_api_tls_cert: str | None = None
    runbooks_api_tls_key: str | None = None
