"""The detection processes' settings, read from the environment (or a .env file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DetectionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREWATCH_", env_file=".env", extra="ignore")

    store_url: str = Field(default="sqlite:///var/firewatch/eventlog.db")
    tokens_file: Path | None = None
    detection_http_host: str = "127.0.0.1"
    detection_http_port: int = Field(default=8080, ge=0, le=65535)
    detection_http_max_in_flight: int = Field(default=16, ge=1, le=1024)
    """Ingest requests handled at once; more are answered 503 with Retry-After and
    nothing is appended for them (ADR 0023)."""
    detection_http_tls_cert: Path | None = None
    detection_http_tls_key: Path | None = None
    """Both set: the ingest is served over https (PEM files); plain HTTP otherwise."""
    detection_config: Path | None = None
    """YAML routing/grouping config (see services/detection/config.example.yaml)."""
    detection_tick_seconds: float = Field(default=1.0, gt=0)
    detection_api_enabled: bool = False
    """Also serve the gRPC AlertService from the HTTP (writer) process, on the same
    application instance: one writer, one ticker (ADR 0008)."""
    detection_checks_enabled: bool = True
    """Run synthetic checks in the writer (ADR 0021); a replica never does."""
    detection_check_workers: int = Field(default=32, ge=1, le=512)
    """Threads probing at once: how many hanging targets it takes to delay others."""
    detection_api_host: str = "127.0.0.1"
    detection_api_port: int = Field(default=50052, ge=0, le=65535)
    detection_api_tls_cert: Path | None = None
    detection_api_tls_key: Path | None = None
