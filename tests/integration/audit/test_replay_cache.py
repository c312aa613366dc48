"""The replay snapshot cache never serves a state the stored events no longer support."""

from __future__ import annotations

import pytest

from audit_service import replay as rp
from incident_service import domain
from incident_service.app import IncidentApplication
from tests.integration.audit.conftest import TamperableLog, declare_incident


def test_a_cached_snapshot_is_dropped_when_the_events_under_it_change(
    tampered_log: TamperableLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rp, "SNAPSHOT_EVERY", 2)
    monkeypatch.setattr(rp, "SNAPSHOTS", rp.SnapshotCache())
    reference = declare_incident(tampered_log)
    incidents = IncidentApplication(tampered_log.open("incident"), tampered_log.clock)
    incident_id = incidents.resolve_reference(reference)
    for commander in ("carol", "dave", "erin", "frank"):
        tampered_log.clock.advance(1)
        incidents.execute(
            incident_id,
            domain.AssignCommander,
            actor="alice",
            idempotency_key=None,
            commander=commander,
            assigned_by="alice",
        )
    store = tampered_log.open(None)
    stream = domain.stream_for(incident_id)
    first = rp.replay(store, stream, rp.AsOf())
    again = rp.replay(store, stream, rp.AsOf())
    assert again.state == first.state == rp.replay(store, stream, rp.AsOf(), use_cache=False).state
    assert first.state["commander"] == "frank"

    data = dict(store.read_stream(stream)[0].data)
    data["title"] = "nothing to see"
    tampered_log.rewrite_consistently(stream, 0, data)

    rewritten = rp.replay(store, stream, rp.AsOf())
    assert rewritten.state["title"] == "nothing to see"
    assert rewritten.state == rp.replay(store, stream, rp.AsOf(), use_cache=False).state


def test_the_linear_fold_equals_the_incident_domains_own_fold(
    tampered_log: TamperableLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = declare_incident(tampered_log)
    incidents = IncidentApplication(tampered_log.open("incident"), tampered_log.clock)
    incident_id = incidents.resolve_reference(reference)
    for n in range(150):
        tampered_log.clock.advance(1)
        incidents.execute(
            incident_id,
            domain.AddNote,
            actor="alice",
            idempotency_key=None,
            text=f"note {n}",
            author="alice",
        )
    events = tampered_log.open(None).read_stream(domain.stream_for(incident_id))

    ours = rp.fold_incident(events)
    # The snapshot cache's fold is the path that can diverge from the domain's: the
    # second fold resumes from the states the first one stored (every 50 events here).
    monkeypatch.setattr(rp, "SNAPSHOT_EVERY", 50)
    cache = rp.SnapshotCache()
    cached = cache.fold(stream := domain.stream_for(incident_id), events)
    resumed = cache.fold(stream, events)

    assert ours == domain.fold(domain.EVENTS.from_recorded(e) for e in events)
    assert cached == resumed == ours
    assert ours.notes == 150
