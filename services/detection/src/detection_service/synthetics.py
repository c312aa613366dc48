"""The synthetic-check scheduler: when each check runs, on which thread, and what the
process's /metrics says about it.

Owns timing and concurrency only (ADR 0021). One scheduler thread wakes at the
earliest due time (at least every `resolution` seconds), hands every due check to a
bounded pool of OS threads and sets its next due time to `due + interval` (never
`now + interval`, so runs do not drift). A check's first run is offset within its
interval by a hash of its name (as Prometheus spreads scrapes), so 200 checks defined
together do not all start in the same instant and queue behind each other;
a check still running when it falls due again is skipped and counted, never queued,
so one hanging target costs at most its own slots, never another check's. The writer
is a plain-threads process (ADR 0008), so blocking sockets in a pool are the natural
fit: no eventlet, no asyncio. Deciding what a result means lives in `checks.py`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from detection_service.app import DetectionApplication
from detection_service.check import CheckSpec, Outcome
from detection_service.probes import ProbeResult, run_probe

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 32


class CheckMetrics:
    """Per-check Prometheus series, registered on the process's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.up = Gauge(
            "firewatch_check_up", "1 if the check's last run passed", ["check"], registry=registry
        )
        self.duration = Histogram(
            "firewatch_check_duration_seconds",
            "Total time of a check's run, all steps",
            ["check"],
            registry=registry,
        )
        self.runs = Counter(
            "firewatch_check_runs",
            "Check runs by outcome (up, down, checker_error)",
            ["check", "outcome"],
            registry=registry,
        )
        self.skipped = Counter(
            "firewatch_check_skipped_runs",
            "Runs skipped because the previous run of the same check was still going",
            ["check"],
            registry=registry,
        )
        self.lateness = Histogram(
            "firewatch_check_schedule_lateness_seconds",
            "How long after its due time a run started",
            registry=registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
        )

    def observe(self, result: ProbeResult) -> None:
        if result.outcome is not Outcome.CHECKER_ERROR:
            self.up.labels(result.check).set(1 if result.outcome is Outcome.UP else 0)
        self.duration.labels(result.check).observe(result.total_ms / 1000.0)
        self.runs.labels(result.check, result.outcome.value).inc()


class CheckScheduler:
    def __init__(
        self,
        app: DetectionApplication,
        *,
        workers: int = DEFAULT_WORKERS,
        resolution: float = 0.5,
        metrics: CheckMetrics | None = None,
        on_lateness: Callable[[float], None] | None = None,
        spread: bool = True,
    ) -> None:
        self.app = app
        self.resolution = resolution
        self.metrics = metrics
        self.on_lateness = on_lateness
        self.spread = spread
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check")
        self._next: dict[str, datetime] = {}
        self._specs: dict[str, CheckSpec] = {}
        """The active checks as last read; serves while the writer's lock is busy."""
        self._running: dict[str, Future[ProbeResult | None]] = {}
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="check-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)
        try:
            # The hour so far would die with the process: record it (ADR 0026).
            self.app.checks.flush_summaries(self.app.clock())
        except Exception:
            log.exception("check summaries could not be recorded at shutdown")

    def _loop(self) -> None:
        pause = 0.0
        while not self._stop.wait(pause):
            try:
                self.submit_due()
            except Exception:
                log.exception("check scheduling failed; retrying")
            pause = self._until_next()

    def _until_next(self) -> float:
        """Sleep until the earliest due run, but at most `resolution` (a check defined
        meanwhile starts within it) and at least 1 ms."""
        with self._guard:
            earliest = min(self._next.values(), default=None)
        if earliest is None:
            return self.resolution
        left = (earliest - self.app.clock()).total_seconds()
        return min(self.resolution, max(0.001, left))

    def submit_due(self) -> list[Future[ProbeResult | None]]:
        """Start every check that is due now; returns their futures (tests wait on them)."""
        now = self.app.clock()
        specs = self._current_specs()
        started: list[Future[ProbeResult | None]] = []
        with self._guard:
            for name in list(self._next):
                if name not in specs:
                    del self._next[name]  # removed
            for name, spec in specs.items():
                due = self._next.get(name)
                if due is None:
                    due = self._next[name] = now + self._offset(name, spec.interval)
                if due > now:
                    continue
                interval = timedelta(seconds=spec.interval)
                following = due + interval
                if following <= now:
                    # Far behind (a paused process, a clock jump): run once, realign.
                    following = now + interval
                self._next[name] = following
                running = self._running.get(name)
                if running is not None and not running.done():
                    if self.metrics is not None:
                        self.metrics.skipped.labels(name).inc()
                    continue
                future = self._pool.submit(self._run, name, due, spec)
                self._running[name] = future
                started.append(future)
        return started

    def _current_specs(self) -> dict[str, CheckSpec]:
        # Never wait for the writer's lock here: a tick evaluating every rule, or a
        # burst of ingest, holds it for tens of milliseconds, and every check due
        # meanwhile would start that late. The last list read serves instead; a check
        # defined or removed in between is seen at the next pass (`resolution`).
        fresh = self.app.checks.active_specs(wait=not self._specs)
        if fresh is not None:
            self._specs = {spec.name: spec for spec in fresh}
        return self._specs

    def _offset(self, name: str, interval: float) -> timedelta:
        if not self.spread:
            return timedelta(0)
        fraction = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") / 2**32
        return timedelta(seconds=fraction * interval)

    def _run(self, name: str, due: datetime, spec: CheckSpec) -> ProbeResult | None:
        lateness = max(0.0, (self.app.clock() - due).total_seconds())
        if self.metrics is not None:
            self.metrics.lateness.observe(lateness)
        if self.on_lateness is not None:
            self.on_lateness(lateness)
        try:
            # The spec as scheduled, not re-read under the writer's lock: the probe
            # starts on time; only recording its result waits for the lock (and a
            # result for a check removed meanwhile is dropped there).
            result = run_probe(spec, due)
            self.app.record_check_result(result)
        except Exception:
            log.exception("check %s: recording its result failed", name)
            return None
        if self.metrics is not None:
            self.metrics.observe(result)
        return result
