"""The audit service's settings, read from the environment (FIREWATCH_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREWATCH_", env_file=".env", extra="ignore")

    store_url: str = Field(default="sqlite:///var/firewatch/eventlog.db")
    tokens_file: Path = Field(default=Path("var/firewatch/tokens.json"))
    audit_api_host: str = "127.0.0.1"
    audit_api_port: int = Field(default=50056, ge=0, le=65535)
    audit_api_tls_cert: Path | None = None
    audit_api_tls_key: Path | None = None
    audit_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs seals and bundles; keep it "
        "outside the database host's reach",
    )
    audit_seal_file: Path | None = Field(
        default=None,
        description="JSON Lines file that receives every seal record (the copy outside "
        "the database); put it on storage the database administrator does not control",
    )
    audit_seal_webhook: str | None = Field(
        default=None,
        description="URL of an external notary that receives every seal record as a JSON "
        "POST (at least once, in order)",
    )
    audit_seal_interval_seconds: float = Field(
        default=300.0, ge=0, description="seal the log this often; 0 turns periodic seals off"
    )
