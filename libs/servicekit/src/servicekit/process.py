"""What every long-running Firewatch process does first: log in the one format and
serve its Prometheus metrics.

Owns only that start-up step (issue 18, ADR 0020). A process's `main()` calls
`start("<service>-<role>")` before anything logs: logging goes through
`servicekit.logs` (JSON lines with FIREWATCH_LOG_FORMAT=json), and the default
registry, which holds every metric the process defines, is served on
FIREWATCH_METRICS_PORT when it is set. nameko workers need not call it: their config's
LOGGING uses `servicekit.logs.formatter`, and the reliable consumer serves the metrics.
"""

from __future__ import annotations

import os

import structlog

from servicekit import metrics
from servicekit.logs import configure_logging

log = structlog.get_logger("servicekit.process")


def start(process: str, *, json: bool | None = None) -> int | None:
    """Configure logging, name the process in `firewatch_process_info` and serve the
    metrics if FIREWATCH_METRICS_PORT is set; returns the metrics port (None: off)."""
    configure_logging(json=json)
    metrics.PROCESS.info({"process": process})
    # Nothing is logged on success: a process's first output line is its own banner,
    # which make run and the tests wait for.
    try:
        return metrics.serve(os.environ.get(metrics.METRICS_PORT_ENV))
    except OSError as exc:
        # As for the workers (servicekit.consumer): a taken port must not stop the
        # process from serving its API; say so loudly instead.
        log.exception("process.metrics_not_served", process=process, error=str(exc))
        return None
