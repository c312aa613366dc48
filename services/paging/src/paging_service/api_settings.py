"""The paging gRPC API's settings, read from the environment (or a .env file).

Names follow the incident API's (FIREWATCH_STORE_URL, FIREWATCH_TOKENS_FILE, and
FIREWATCH_PAGING_API_* for the listener), so one environment file configures a whole
deployment. Defaults suit `make run` on one machine: the incident API is on 50051, so
this one listens on 50053.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PagingApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREWATCH_", env_file=".env", extra="ignore")

    store_url: str = Field(
        default="sqlite:///var/firewatch/eventlog.db",
        description="event log URL: sqlite:///path, postgresql://..., esdb://...",
    )
    tokens_file: Path = Field(default=Path("var/firewatch/tokens.json"))
    paging_api_host: str = "127.0.0.1"
    paging_api_port: int = Field(default=50053, ge=0, le=65535)
    paging_api_tls_cert: Path | None = None
    paging_api_tls_key: Path | None = None
