"""Logging for every Firewatch process: one structlog configuration, one line per event.

Owns only the process-wide configuration. Modules get their loggers with
`structlog.get_logger(name)` or `logging.getLogger(name)`, and never configure anything
themselves: both end in the same root handler and the same renderer, so one deployment
has one log format (issue 18, ADR 0020):

- `FIREWATCH_LOG_FORMAT=json`: JSON lines, for log shippers (the images' default);
- anything else (`console`, unset): readable `key=value` lines, what `make run` shows.

Every line carries the structlog context variables bound where the work happens: a
reliable handler binds the event it handles (`correlation_id`, `causation_id` = the
event's id, `event_type`), a gRPC method the command's, so one incident's lines can be
found across every process. nameko workers get the same format through their config's
LOGGING (`formatters: {firewatch: {(): servicekit.logs.formatter}}`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

LOG_FORMAT_ENV = "FIREWATCH_LOG_FORMAT"

WORKER_WARNINGS = "ignore:::nameko.cli.commands"
"""PYTHONWARNINGS for a nameko worker's process. `nameko run` imports eventlet before it
reads the config whose LOGGING sets this module up, and eventlet warns on import: a
multi-line plain-text EventletDeprecationWarning (known: the workers run on nameko,
hence eventlet), printed before any handler exists, so it cannot be routed and would
break a JSON-lines log on every start. This drops only warnings attributed
to the nameko module that imports eventlet; every later warning is logged (`formatter`)."""

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def wants_json(json: bool | None = None) -> bool:
    """An explicit choice wins; otherwise FIREWATCH_LOG_FORMAT=json."""
    if json is not None:
        return json
    return os.environ.get(LOG_FORMAT_ENV, "console").strip().lower() == "json"


def formatter(json: bool | None = None) -> logging.Formatter:
    """The one formatter: renders structlog events and plain `logging` records alike.

    Also routes structlog through `logging`, so it is all a process needs: nameko's
    LOGGING dictConfig builds it with `(): servicekit.logs.formatter`. Warnings become
    log records too (logger `py.warnings`), one line each in the same format, instead of
    multi-line plain text on stderr."""
    _configure_structlog()
    logging.captureWarnings(True)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if wants_json(json)
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(*, json: bool | None = None, level: int = logging.INFO) -> None:
    """One handler on the root logger, on stderr, with `formatter()`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(json))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


def _configure_structlog() -> None:
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.stdlib.filter_by_level,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


@contextmanager
def event_context(event: Any) -> Iterator[None]:
    """Bind the handled event's ids for every line logged while handling it: the
    correlation id it carries, and its own id as the cause of what the handler does."""
    metadata = getattr(event, "metadata", None)
    with structlog.contextvars.bound_contextvars(
        correlation_id=getattr(metadata, "correlation_id", None),
        causation_id=str(event.id),
        event_type=event.type,
    ):
        yield
