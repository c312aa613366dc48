"""Postmortem-service benchmarks, each against a baseline measured in the same run.

1. Incident metrics (MTTA/MTTD/MTTM/MTTR, counts, action-item rates; definition v1)
   recomputed over 10,000 incidents of ~100 events each (about a million events) in a
   SQLite log, against a raw read of every event of the same log: time and events/s.
   Target: at least 0.3x the raw read's events/s.
2. Prefill (generated timeline, responders, durations) of one incident with 10,000
   correlated events: p50 over repeated calls on a warm application, and the first
   (cold) call, which builds the correlation index.

Nothing here asserts a time: results are printed and written to docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eventlog import EventMetadata, NewEvent, Ownership, StreamState
from eventlog.clock import system_clock
from eventlog.sqlite import SQLiteEventStore
from postmortem_service import metrics
from postmortem_service.app import PostmortemApplication

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TARGET = 0.3
MAX_BATCH = 1000


def _iso(at: datetime) -> str:
    return at.isoformat()


def incident_events(number: int, notes: int, at: datetime) -> list[NewEvent]:
    """One incident's life as the incident service writes it (payload shapes only)."""
    incident_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{number}"))
    meta = EventMetadata(correlation_id=incident_id, actor="bench")

    def event(event_type: str, /, **data: Any) -> NewEvent:
        return NewEvent(type=event_type, data=data, id=uuid.uuid4(), metadata=meta)

    severity = ("P1", "P2", "P3", "P4")[number % 4]
    events = [
        event("IncidentDeclared", incident_id=incident_id, number=number, title="bench",
              severity=severity, services=[f"svc-{number % 17}"], source_alerts=[],
              declared_by="bench", declared_at=_iso(at)),
        event("CommanderAssigned", commander="alice", previous_commander=None,
              assigned_by="bench", assigned_at=_iso(at + timedelta(minutes=1))),
    ]  # fmt: skip
    if number % 3:
        events.append(
            event("SourceAlertAcknowledged", alert_key="k", acknowledged_by="alice",
                  acknowledged_at=_iso(at + timedelta(minutes=2)))
        )  # fmt: skip
    events += [
        event("TimelineNoteAdded", text=f"note {i}", author="alice",
              added_at=_iso(at + timedelta(seconds=180 + i)))
        for i in range(notes)
    ]  # fmt: skip
    events += [
        event("MitigationApplied", kind="rollback", description="rolled back", temporary=True,
              applied_by="alice", applied_at=_iso(at + timedelta(minutes=20)),
              recorded_at=_iso(at + timedelta(minutes=21))),
        event("IncidentResolved", summary="ok", resolved_by="alice",
              resolved_at=_iso(at + timedelta(minutes=45)), root_cause_pending=True),
    ]  # fmt: skip
    return events


@dataclass(frozen=True)
class MetricsResult:
    incidents: int
    events: int
    """Every event in the log."""
    read: int
    """The events the definition reads (its type filter)."""
    metrics_seconds: float
    raw_seconds: float
    raw_same_seconds: float

    @property
    def metrics_rate(self) -> float:
        return self.read / self.metrics_seconds

    @property
    def raw_same_rate(self) -> float:
        return self.read / self.raw_same_seconds

    @property
    def raw_rate(self) -> float:
        return self.events / self.raw_seconds

    @property
    def ratio(self) -> float:
        """Against a raw read of the same events: the target's measure."""
        return self.metrics_rate / self.raw_same_rate


@dataclass(frozen=True)
class PrefillResult:
    events: int
    calls: int
    cold_ms: float
    p50_ms: float
    p90_ms: float


def seed(path: Path, incidents: int, notes: int) -> int:
    store = SQLiteEventStore(path, writer="incident", ownership=Ownership.platform())
    total = 0
    try:
        for number in range(1, incidents + 1):
            at = T0 + timedelta(hours=number)
            batch = incident_events(number, notes, at)
            incident_id = batch[0].data["incident_id"]
            expected: int | StreamState = StreamState.NO_STREAM
            for start in range(0, len(batch), MAX_BATCH):  # the log's limit per append
                chunk = batch[start : start + MAX_BATCH]
                expected = store.append(f"incident-{incident_id}", chunk, expected).current_version
            total += len(batch)
    finally:
        store.close()
    return total


def metrics_vs_raw(workdir: Path, incidents: int, notes: int) -> MetricsResult:
    path = workdir / "metrics.db"
    total = seed(path, incidents, notes)
    store = SQLiteEventStore(path, writer="postmortem", ownership=Ownership.platform())
    try:
        started = time.perf_counter()
        count = 0
        for _ in store.read_all():
            count += 1
        raw = time.perf_counter() - started
        started = time.perf_counter()
        same = 0
        for _ in store.read_all(filter=metrics.FILTER):
            same += 1
        raw_same = time.perf_counter() - started
        started = time.perf_counter()
        report = metrics.compute(store.read_all(filter=metrics.FILTER), system_clock())
        computed = time.perf_counter() - started
    finally:
        store.close()
    assert count == total
    assert report.incidents == incidents
    assert report.events_read == same
    return MetricsResult(incidents, total, same, computed, raw, raw_same)


def prefill_p50(workdir: Path, events: int, calls: int) -> PrefillResult:
    path = workdir / "prefill.db"
    notes = events - 5
    seed(path, 1, notes)
    store = SQLiteEventStore(path, writer="postmortem", ownership=Ownership.platform())
    try:
        app = PostmortemApplication(store, system_clock)
        incident_id = uuid.uuid5(uuid.NAMESPACE_URL, "bench/1")
        started = time.perf_counter()
        filled = app.prefill(incident_id)
        cold = time.perf_counter() - started
        assert len(filled.entries) >= notes
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            app.prefill(incident_id)
            samples.append(time.perf_counter() - started)
    finally:
        store.close()
    ordered = sorted(samples)
    return PrefillResult(
        len(filled.entries),
        calls,
        cold * 1000,
        statistics.median(ordered) * 1000,
        ordered[int(0.9 * (len(ordered) - 1))] * 1000,
    )


def run(*, quick: bool) -> str:
    incidents, notes = (200, 95) if quick else (10_000, 95)
    prefill_events, calls = (1_000, 5) if quick else (10_000, 20)
    with tempfile.TemporaryDirectory(prefix="firewatch-pm-bench-") as workdir:
        result = metrics_vs_raw(Path(workdir), incidents, notes)
        prefill = prefill_p50(Path(workdir), prefill_events, calls)
    return markdown(result, prefill)


def markdown(result: MetricsResult, prefill: PrefillResult) -> str:
    verdict = "meets" if result.ratio >= TARGET else "MISSES"
    return "\n".join(
        [
            "## Postmortem service",
            "",
            f"Incident metrics (definition v{metrics.DEFINITION_VERSION}) recomputed over "
            f"{result.incidents:,} incidents ({result.events:,} events, SQLite), against a "
            "raw read of every event of the same log in the same run:",
            "",
            "| measurement | events | seconds | events/s | vs raw read of the same events |",
            "|---|---:|---:|---:|---:|",
            f"| metrics: decode and fold the events the definition reads | {result.read:,} | "
            f"{result.metrics_seconds:.2f} | {result.metrics_rate:,.0f} | {result.ratio:.2f}x |",
            f"| raw read_all of the same events (baseline) | {result.read:,} | "
            f"{result.raw_same_seconds:.2f} | {result.raw_same_rate:,.0f} | 1.00x |",
            f"| raw read_all of the whole log | {result.events:,} | {result.raw_seconds:.2f} | "
            f"{result.raw_rate:,.0f} | - |",
            "",
            f"Target: at least {TARGET}x the raw read of the same events: **{verdict}** "
            f"({result.ratio:.2f}x). Recomputing from the whole log takes "
            f"{result.metrics_seconds:.2f} s against {result.raw_seconds:.2f} s to merely read "
            "it: the log filters by event type, so timeline notes are skipped unread.",
            "",
            f"Prefill of one incident with {prefill.events:,} timeline events: "
            f"p50 **{prefill.p50_ms:.1f} ms**, p90 {prefill.p90_ms:.1f} ms over "
            f"{prefill.calls} warm calls; the first (cold) call, which also builds the "
            f"correlation index, {prefill.cold_ms:.1f} ms.",
            "",
        ]
    )
