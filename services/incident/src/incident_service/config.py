"""The incident service's settings, read from the environment (or a .env file).

Every process of the service (worker, api) reads the same names, so one environment
file configures a deployment. Defaults suit `make run` on one machine.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IncidentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREWATCH_", env_file=".env", extra="ignore")

    store_url: str = Field(
        default="sqlite:///var/firewatch/eventlog.db",
        description="event log URL: sqlite:///path, postgresql://..., esdb://...",
    )
    broker_url: str = Field(default="amqp://guest:guest@127.0.0.1:5672//")
    tokens_file: Path = Field(default=Path("var/firewatch/tokens.json"))
    incident_api_host: str = "127.0.0.1"
    incident_api_port: int = Field(default=50051, ge=0, le=65535)
    incident_api_tls_cert: Path | None = None
    incident_api_tls_key: Path | None = None
