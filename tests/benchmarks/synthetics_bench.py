"""Synthetic checks at scale: scheduling lateness and CPU per check, against the
same-run floor of bare HTTP requests.

Owns the benchmark of issue 15: 200 HTTP checks at a 10 s interval (the full plan)
run by the detection writer's own scheduler (`synthetics.CheckScheduler`, its default
pool) and its ticker (rules evaluated every second, as in production), on a real
SQLite log with the system clock, against a loopback target served by a separate
process (`python -m http.server`), so the CPU measured is the checker's alone.

Measured: lateness (a run's start minus its due time) p50/p99/max over every run, and
process CPU per run (`time.process_time` over the whole run, ticker included).
Floor, same run, same target: sequential bare `http.client` GETs, CPU per request.
Target: lateness p99 <= 100 ms.

Bounded: a fixed duration, everything on 127.0.0.1, the target process terminated
(then killed) by its own pid. Nothing here asserts a time: results are markdown.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from detection_service.app import DetectionApplication
from detection_service.synthetics import CheckScheduler
from eventlog import Ownership
from eventlog.clock import system_clock
from eventlog.sqlite import SQLiteEventStore

TARGET_P99_MS = 100.0


def _progress(message: str) -> None:
    print(f"[bench] synthetics: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Plan:
    checks: int
    interval: float
    duration: float
    floor_requests: int


FULL = Plan(checks=200, interval=10.0, duration=40.0, floor_requests=2000)
QUICK = Plan(checks=20, interval=1.0, duration=3.0, floor_requests=50)


@dataclass(frozen=True)
class Result:
    plan: Plan
    runs: int
    failed: int
    lateness_ms: list[float]
    cpu_per_run_ms: float
    floor_cpu_ms: float
    floor_wall_ms: float


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def target_process(directory: Path) -> Iterator[int]:
    (directory / "ok.txt").write_text("ok\n", encoding="utf-8")
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("the loopback target did not start") from None
                time.sleep(0.05)  # sleep-ok: polling a child process's port, with a deadline
        yield port
    finally:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def bare_requests(port: int, count: int) -> tuple[float, float]:
    """CPU ms and wall ms per bare GET (one connection each, as a check makes)."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/ok.txt")
        connection.getresponse().read()
        connection.close()
    return (
        (time.process_time() - cpu) * 1000 / count,
        (time.perf_counter() - wall) * 1000 / count,
    )


def measure(plan: Plan) -> Result:
    with tempfile.TemporaryDirectory(prefix="firewatch-synth-") as workdir:
        root = Path(workdir)
        store = SQLiteEventStore(
            root / "log.db", writer="detection", ownership=Ownership.platform()
        )
        app = DetectionApplication(store, system_clock)
        (root / "www").mkdir()
        with target_process(root / "www") as port:
            floor_cpu, floor_wall = bare_requests(port, plan.floor_requests)
            for index in range(plan.checks):
                app.define_check(
                    {
                        "name": f"bench-{index:03d}",
                        "kind": "http",
                        "interval": plan.interval,
                        "steps": [{"url": f"http://127.0.0.1:{port}/ok.txt", "timeout": 5}],
                    },
                    defined_by="bench",
                )
            lateness: list[float] = []
            guard = threading.Lock()

            def late(seconds: float) -> None:
                with guard:
                    lateness.append(seconds * 1000)

            stop = threading.Event()

            def ticker() -> None:
                while not stop.wait(1.0):
                    app.tick()

            scheduler = CheckScheduler(app, on_lateness=late)
            tick_thread = threading.Thread(target=ticker, daemon=True)
            cpu = time.process_time()
            scheduler.start()
            tick_thread.start()
            _progress(f"{plan.checks} checks every {plan.interval:g}s for {plan.duration:g}s")
            stop.wait(plan.duration)
            stop.set()
            scheduler.stop()
            tick_thread.join(timeout=10)
            cpu_used = time.process_time() - cpu
            runs = sum(
                len(app.check_results(f"bench-{i:03d}", limit=0)) for i in range(plan.checks)
            )
            failed = sum(
                1
                for i in range(plan.checks)
                for r in app.check_results(f"bench-{i:03d}", limit=0)
                if r.outcome.value != "up"
            )
        store.close()
    return Result(
        plan, runs, failed, lateness, cpu_used * 1000 / max(1, runs), floor_cpu, floor_wall
    )


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def markdown(result: Result) -> str:
    plan = result.plan
    p99 = _percentile(result.lateness_ms, 0.99)
    verdict = "PASS" if p99 <= TARGET_P99_MS else "MISS"
    lines = [
        "## Synthetic checks: scheduling lateness and CPU per check (issue 15)",
        "",
        f"{plan.checks} HTTP checks every {plan.interval:g} s for {plan.duration:g} s, run by "
        "the detection writer's scheduler and ticker on a SQLite log, against a loopback "
        "`python -m http.server` in its own process. Floor: bare `http.client` GETs to "
        "the same target in the same run.",
        "",
        "| measurement | value |",
        "|---|---|",
        f"| runs (failed) | {result.runs} ({result.failed}) |",
        f"| lateness p50 | {_percentile(result.lateness_ms, 0.5):.2f} ms |",
        f"| lateness p99 | {p99:.2f} ms |",
        f"| lateness max | {max(result.lateness_ms, default=float('nan')):.2f} ms |",
        f"| CPU per check run (probe, samples, rules) | {result.cpu_per_run_ms:.2f} ms |",
        f"| floor: CPU per bare request | {result.floor_cpu_ms:.2f} ms |",
        f"| floor: wall per bare request | {result.floor_wall_ms:.2f} ms |",
        f"| CPU per run / floor | {result.cpu_per_run_ms / result.floor_cpu_ms:.1f}x |"
        if result.floor_cpu_ms
        else "| CPU per run / floor | - |",
        "",
        f"| {verdict} | lateness p99 <= {TARGET_P99_MS:g} ms |",
        "",
    ]
    return "\n".join(lines)


def run(*, quick: bool) -> str:
    from tests.benchmarks import uptime_bench

    result = measure(QUICK if quick else FULL)
    _progress(f"{result.runs} runs, p99 lateness {_percentile(result.lateness_ms, 0.99):.1f} ms")
    # The bars those checks draw on the status page (ADR 0026), in the same section.
    return markdown(result) + "\n" + uptime_bench.run(quick=quick)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
