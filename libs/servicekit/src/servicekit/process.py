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

from servicekit import metrics
from servicekit.logs import configure_logging


def start(process: str, *, json: bool | None = None) -> int | None:
    """Configure logging, name the process in `firewatch_process_info` and serve the
    metrics if FIREWATCH_METRICS_PORT is set; returns the metrics port (None: off)."""
    configure_logging(json=json)
    metrics.PROCESS.info({"process": process})
    # Nothing is logged here: a process's first output line is its own banner, which
    # make run and the tests wait for.
    return metrics.serve(os.environ.get(metrics.METRICS_PORT_ENV))
