"""A nameko worker started as the deployments start it (`nameko run --config ...`)
writes JSON lines from its first line on (issue 18): eventlet's import-time
deprecation warning, printed before nameko reads the config, is filtered by
servicekit.logs.WORKER_WARNINGS, and later warnings are log records."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from servicekit.logs import WORKER_WARNINGS

SERVICE = """
import warnings

from nameko.timer import timer

warnings.warn("a warning while the worker\\nimports its service", UserWarning)


class Quiet:
    name = "quiet"

    @timer(interval=3600)
    def tick(self) -> None:
        pass
"""

CONFIG = """
LOGGING:
  version: 1
  disable_existing_loggers: false
  formatters:
    firewatch:
      (): servicekit.logs.formatter
  handlers:
    console:
      class: logging.StreamHandler
      stream: ext://sys.stderr
      formatter: firewatch
  root:
    level: INFO
    handlers: [console]
"""


def worker_output(tmp_path: Path, warnings_filter: str, timeout: float = 60) -> list[str]:
    """The worker's output lines up to nameko's "starting services" line."""
    (tmp_path / "quiet_service.py").write_text(SERVICE, encoding="utf-8")
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    env = {
        **os.environ,
        "FIREWATCH_LOG_FORMAT": "json",
        "PYTHONWARNINGS": warnings_filter,
        "PYTHONPATH": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "nameko", "run", "--config", "config.yaml", "quiet_service"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while not seen or "starting services" not in seen[-1]:
            left = deadline - time.monotonic()
            assert left > 0, f"the worker never started:\n{''.join(seen)}"
            seen.append(lines.get(timeout=left))
    finally:
        process.kill()  # nothing to stop cleanly: the service only has an hourly timer
        process.wait(timeout=30)
    return [line.rstrip("\n") for line in seen]


def test_a_worker_writes_json_lines_from_its_first_line(tmp_path: Path) -> None:
    output = worker_output(tmp_path, WORKER_WARNINGS)
    records = [json.loads(line) for line in output]  # every line: JSON
    warned = [r for r in records if r["logger"] == "py.warnings"]
    assert len(warned) == 1
    assert "imports its service" in warned[0]["event"]
    assert records[-1]["event"] == "starting services: quiet"


def test_without_the_filter_eventlet_warns_in_plain_text(tmp_path: Path) -> None:
    # The control: what the filter is for (if eventlet stops warning, drop both).
    output = worker_output(tmp_path, "default")
    assert any("EventletDeprecationWarning" in line for line in output)
    assert not output[0].startswith("{")
