"""Profile detection's ingest path in one process: where a webhook's time goes.

    PYTHONPATH=. .venv/bin/python -m tests.benchmarks.detection_profile \
        [alerts] [batch] [app|http] [--time]

`app` calls `DetectionApplication.ingest_alertmanager` directly; `http` posts the same
webhooks through the WSGI application (`DetectionHttp`, werkzeug's test client: request
parsing, auth, JSON, metrics, but no socket or cheroot). A fresh SQLite log in a
temporary directory, the bench's routing config, cProfile around the loop only. Prints
the rate under the profiler and the top functions by cumulative and own time (ADR 0024).
A tool, not a benchmark: the profiler's overhead distorts absolute numbers.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

from werkzeug.test import Client

from detection_service.app import DetectionApplication
from detection_service.http import DetectionHttp
from detection_service.routing import load_config
from eventlog import Ownership
from eventlog.clock import system_clock
from eventlog.sqlite import SQLiteEventStore
from tests.benchmarks import alertmanager_bench as am
from tests.benchmarks.detection_bench import CONFIG


def main(argv: list[str]) -> int:
    alerts = int(argv[0]) if argv else 2000
    batch = int(argv[1]) if len(argv) > 1 else 10
    mode = argv[2] if len(argv) > 2 else "app"
    timing_only = "--time" in argv  # no profiler: the rate alone, to compare commits
    with tempfile.TemporaryDirectory(prefix="firewatch-detection-profile-") as name:
        folder = Path(name)
        (folder / "detection.yaml").write_text(CONFIG)
        store = SQLiteEventStore(
            folder / "log.db", writer="detection", ownership=Ownership.platform()
        )
        app = DetectionApplication(store, system_clock, load_config(folder / "detection.yaml"))
        key = app.create_integration("alertmanager", "alertmanager", created_by="bench").key
        source = app.authenticate(key)
        payloads = am.to_webhook_v4(am.alert_stream(alerts, group_size=batch, run_id="profile"))
        bodies = [json.dumps(p).encode() for p in payloads]
        client = Client(DetectionHttp(app))
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

        def run() -> None:
            if mode == "app":
                for payload in payloads:
                    app.ingest_alertmanager(payload, source)
                return
            for body in bodies:
                response = client.post("/v1/alertmanager", data=body, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(response.get_data(as_text=True))

        profile = cProfile.Profile()
        started = time.perf_counter()
        if not timing_only:
            profile.enable()
        run()
        profile.disable()
        seconds = time.perf_counter() - started
        store.close()
    print(
        f"{mode}: {alerts} alerts in {len(payloads)} requests of {batch}: {seconds:.2f} s under "
        f"cProfile, {alerts / seconds:,.0f} alerts/s, "
        f"{seconds / len(payloads) * 1e3:.2f} ms/request"
        + (" (no profiler)" if timing_only else "")
    )
    if timing_only:
        return 0
    for order, count in (("cumulative", 40), ("tottime", 20)):
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats(order).print_stats(count)
        print(text.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
