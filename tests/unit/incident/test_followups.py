"""A published postmortem closes the incident's root-cause follow-up, idempotently:
the incident stops saying "root cause pending" once the cause is written down."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import InvalidCommandError
from eventlog import FakeClock, NewEvent, Ownership, RecordedEvent, StreamState
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain
from incident_service.app import IncidentApplication
from incident_service.followups import FollowUpReactions

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


class Log:
    def __init__(self, path: Path) -> None:
        self.clock = FakeClock(T0)
        self.postmortem = SQLiteEventStore(
            path, writer="postmortem", ownership=Ownership.platform(), clock=self.clock
        )
        incident = SQLiteEventStore(
            path, writer="incident", ownership=Ownership.platform(), clock=self.clock
        )
        self.app = IncidentApplication(incident, self.clock)
        self.reactions = FollowUpReactions(self.app)

    def resolved_on_a_rollback(self) -> uuid.UUID:
        result = self.app.declare(
            title="checkout 5xx", severity="P1", services=["checkout"], declared_by="alice"
        )
        ref = result.reference
        self.app.execute(
            ref,
            domain.RecordMitigation,
            actor="alice",
            kind="rollback",
            description="rolled back to 1.4.1",
            temporary=True,
            applied_by="alice",
        )
        self.app.execute(
            ref, domain.Resolve, actor="alice", summary="rolled back", resolved_by="alice"
        )
        return result.incident_id

    def published(self, incident_id: uuid.UUID, **data: Any) -> RecordedEvent:
        stream = f"postmortem-{incident_id}"
        body = {
            "published_by": "carol",
            "root_cause": "the pool size exceeded the database's connection limit",
            "closes_root_cause_follow_up": True,
            "future_field": "ignored",
            **data,
        }
        self.postmortem.append(stream, [NewEvent("PostmortemPublished", body)], StreamState.ANY)
        return self.postmortem.read_stream(stream, backwards=True, limit=1)[0]


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return Log(tmp_path / "log.db")


def test_a_published_postmortem_closes_the_follow_up_and_the_pending_root_cause(log: Log) -> None:
    incident = log.resolved_on_a_rollback()
    before = log.app.get(str(incident)).state
    assert before.root_cause_pending
    assert before.follow_up_required

    result = log.reactions.handle(log.published(incident))
    assert result is not None
    assert result.event_types == ("RootCauseFollowUpClosed",)
    after = log.app.get(str(incident)).state
    assert not after.root_cause_pending
    assert not after.follow_up_required


def test_a_redelivered_or_republished_postmortem_appends_nothing(log: Log) -> None:
    incident = log.resolved_on_a_rollback()
    event = log.published(incident)
    log.reactions.handle(event)
    again = log.reactions.handle(event)
    assert again is not None
    assert again.replayed  # the same key: the first result, nothing appended
    republished = log.reactions.handle(log.published(incident, root_cause="amended cause"))
    assert republished is not None
    assert republished.event_types == ()
    closed = [e for e in log.app.get(str(incident)).events if e.type == "RootCauseFollowUpClosed"]
    assert len(closed) == 1


def test_a_postmortem_that_owes_no_follow_up_is_ignored(log: Log) -> None:
    incident = log.resolved_on_a_rollback()
    assert log.reactions.handle(log.published(incident, closes_root_cause_follow_up=False)) is None
    assert log.app.get(str(incident)).state.root_cause_pending


def test_a_malformed_postmortem_event_is_refused_with_the_field_named(log: Log) -> None:
    incident = log.resolved_on_a_rollback()
    with pytest.raises(InvalidCommandError) as refused:
        log.reactions.handle(log.published(incident, root_cause=None))
    assert refused.value.field == "root_cause"
