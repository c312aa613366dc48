"""One log format for every process (servicekit.logs): structlog events and plain
`logging` records render alike, as JSON lines or readable lines, and carry the ids of
the event being handled."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import structlog

from eventlog.model import EventMetadata, RecordedEvent
from servicekit.logs import configure_logging, event_context, formatter

CORRELATION = "7d0c6b5e-2a44-4f0e-9d59-2f7f6c1a0b11"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def recorded() -> RecordedEvent:
    return RecordedEvent(
        id=uuid.UUID("018f0000-0000-7000-8000-000000000001"),
        stream="incident-1",
        version=0,
        position=1,
        type="IncidentDeclared",
        schema_version=1,
        data={},
        metadata=EventMetadata(correlation_id=CORRELATION, actor="alice"),
        recorded_at=datetime(2026, 12, 4, tzinfo=UTC),
        prev_hash="",
        hash="",
    )


def lines(stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line]


def test_json_lines_for_structlog_and_stdlib_alike_with_the_handled_events_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    monkeypatch.setenv("FIREWATCH_LOG_FORMAT", "json")
    configure_logging()
    with event_context(recorded()):
        structlog.get_logger("servicekit.test").info("consumer.handled", queue="q")
        logging.getLogger("paging_service.worker").warning("paging: page %s sent", "p-1")
    logging.getLogger("paging_service.worker").info("outside any event")

    first, second, third = (json.loads(line) for line in lines(stream))
    for inside in (first, second):
        assert inside["correlation_id"] == CORRELATION
        assert inside["causation_id"] == "018f0000-0000-7000-8000-000000000001"
        assert inside["event_type"] == "IncidentDeclared"
        assert inside["timestamp"].endswith("Z")
    assert (first["event"], first["level"], first["queue"]) == ("consumer.handled", "info", "q")
    assert (second["event"], second["level"]) == ("paging: page p-1 sent", "warning")
    assert second["logger"] == "paging_service.worker"
    assert "correlation_id" not in third


def test_console_lines_are_readable_key_value_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    monkeypatch.delenv("FIREWATCH_LOG_FORMAT", raising=False)
    configure_logging()
    with event_context(recorded()):
        logging.getLogger("comms_service.worker").info("comms: room opened")
    (line,) = lines(stream)
    assert "comms: room opened" in line
    assert f"correlation_id={CORRELATION}" in line
    assert not line.startswith("{")


def test_a_nameko_logging_config_builds_the_same_formatter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stdout", stream)
    monkeypatch.setenv("FIREWATCH_LOG_FORMAT", "json")
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"firewatch": {"()": "servicekit.logs.formatter"}},
            "handlers": {
                "console": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stdout",
                    "formatter": "firewatch",
                }
            },
            "root": {"level": "INFO", "handlers": ["console"]},
        }
    )
    structlog.get_logger("servicekit.consumer").info("consumer.platform", queue="q")
    (line,) = lines(stream)
    assert json.loads(line)["event"] == "consumer.platform"
    assert isinstance(formatter(json=False), logging.Formatter)


def test_a_taken_metrics_port_is_reported_and_the_process_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from servicekit import metrics
    from servicekit.process import start

    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    monkeypatch.setenv("FIREWATCH_LOG_FORMAT", "json")
    monkeypatch.setattr(metrics, "_serving", [])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("FIREWATCH_METRICS_PORT", str(taken.getsockname()[1]))
        assert start("test-api") is None
    (line,) = (json.loads(text) for text in lines(stream))
    assert (line["event"], line["process"]) == ("process.metrics_not_served", "test-api")
    assert "Address already in use" in line["exception"]


def test_a_warning_is_one_log_line_in_the_format_not_plain_text_on_stderr() -> None:
    # In its own process: pytest handles warnings its own way.
    code = (
        "import warnings\n"
        "from servicekit.logs import configure_logging\n"
        "configure_logging(json=True)\n"
        "warnings.warn('first line\\nsecond line', UserWarning)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "default"},
        check=True,
    )
    (line,) = result.stderr.splitlines()
    record = json.loads(line)
    assert (record["logger"], record["level"]) == ("py.warnings", "warning")
    assert "UserWarning: first line\nsecond line" in record["event"]
