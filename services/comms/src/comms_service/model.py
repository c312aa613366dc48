"""The communications read model: every comms-owned stream's state, plus the indexes the
scheduler, the status page and the report need. A pure fold over the log (appkit's
AggregateStates), rebuilt by replaying it.

Indexes:
- **requested messages** (the outbox): each event that implies a message (a channel
  opened, a war-room post, a stakeholder update, a reminder, an overdue escalation, a
  published status-page update, an opt-in request) names a dispatch id derived from
  it; the dispatches not queued yet are follow-ups the scheduler creates, so a crash
  between the two appends loses nothing;
- **timers**: each incident's open promise (reminder and overdue times), each
  dispatch's next due instant and the in-flight attempts' sender instances;
- **promises**: kept or missed, by incident and by the severity they were made under;
- **component history**: every status a component had and when, public and internal,
  for uptime bars;
- **check series**: detection's `check-*` streams (read, never written: any service may
  read any category) folded by `contracts.checkseries`, so a component labelled on a
  synthetic check gets measured uptime bars that a restart rebuilds from the log
  (ADR 0026).

It never decides, appends, reads the clock or talks to a broker.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appkit import Aggregate, AggregateStates, Decider
from comms_service import dispatch as dsp
from comms_service import room as rm
from comms_service import sender as snd
from comms_service import status_incident as si
from comms_service import statuspage as sp
from comms_service import subscriber as sub
from comms_service.common import EVENTS, derived_id
from contracts import checkseries
from eventlog import EventFilter, RecordedEvent, category_of


@dataclass(frozen=True, slots=True)
class Request:
    """A message some event implies: dispatch `dispatch_id`, built from `stream`'s state."""

    dispatch_id: uuid.UUID
    purpose: dsp.Purpose
    stream: str
    event_type: str
    data: dict[str, Any]
    at: datetime


@dataclass(slots=True)
class PromiseRecord:
    incident: str
    reference: str
    severity: str
    seq: int
    due_by: datetime
    outcome: str = "open"
    """"open", "kept" or "missed"."""


@dataclass(slots=True)
class Indexes:
    requests: dict[uuid.UUID, Request] = field(default_factory=dict)
    public_updates: list[tuple[str, rm.StakeholderUpdatePosted]] = field(default_factory=list)
    """Public-audience updates (room stream, event): mirrored onto the incident's linked
    status-page incidents."""
    queued: set[uuid.UUID] = field(default_factory=set)
    promises: dict[tuple[str, int], PromiseRecord] = field(default_factory=dict)
    component_history: dict[str, list[tuple[datetime, sp.ComponentStatus, str]]] = field(
        default_factory=dict
    )
    """component -> [(at, status, the stream that set it)]; public or not is decided
    when read (a draft becomes public when it is published)."""
    open_dispatches: set[str] = field(default_factory=set)
    """Dispatch streams with a target not yet delivered or given up: all the scheduler
    needs to look at."""


def notice_id(update_id: uuid.UUID) -> uuid.UUID:
    return derived_id("notice", update_id)


def confirm_id(subscriber_stream: str, requested_at: datetime) -> uuid.UUID:
    return derived_id("confirm", subscriber_stream, requested_at.isoformat())


class CommsModel(AggregateStates):
    def __init__(self, deciders: Iterable[Decider[Any, Any]]) -> None:
        super().__init__("comms", EVENTS, deciders)
        self.ix = Indexes()
        self.checks = checkseries.CheckSeriesIndex()
        self.filter = EventFilter.of(categories=[*self.deciders, checkseries.CATEGORY])
        self.position = 0

    def apply(self, event: RecordedEvent) -> None:
        if category_of(event.stream) == checkseries.CATEGORY:
            self.checks.apply(event)
            self.position = event.position  # a new bar to draw: a new ETag
            return
        before = self._streams.get(event.stream)
        super().apply(event)
        self.position = event.position
        if event.type not in self.events:
            return
        category = category_of(event.stream)
        domain = self.events.from_recorded(event)
        if category == rm.STREAM_CATEGORY:
            self._room(event, domain, before[0] if before else rm.INITIAL)
        elif category == dsp.STREAM_CATEGORY:
            if isinstance(domain, dsp.DispatchQueued):
                self.ix.queued.add(domain.dispatch_id)
            if self._streams[event.stream][0].settled:
                self.ix.open_dispatches.discard(event.stream)
            else:
                self.ix.open_dispatches.add(event.stream)
        elif category == si.STREAM_CATEGORY:
            self._status(event, domain)
        elif category == sp.STREAM_CATEGORY and isinstance(domain, sp.ComponentStatusChanged):
            self.ix.component_history.setdefault(domain.component_id, []).append(
                (domain.changed_at, domain.new_status, event.stream)
            )
            # A real change by construction (the decider refuses a same-status one).
            self._request(
                derived_id("component-update", event.id),
                dsp.Purpose.COMPONENT_UPDATE,
                event,
                domain.changed_at,
            )
        elif (
            category == sub.STREAM_CATEGORY
            and isinstance(domain, sub.SubscriptionRequested | sub.SubscriptionChangeRequested)
            and domain.confirm_token_sha256
        ):
            self._request(
                confirm_id(event.stream, domain.requested_at)
                if isinstance(domain, sub.SubscriptionRequested)
                else derived_id("confirm-change", event.id),
                dsp.Purpose.CONFIRM_SUBSCRIPTION,
                event,
                domain.requested_at,
            )

    def _request(
        self, dispatch_id: uuid.UUID, purpose: dsp.Purpose, event: RecordedEvent, at: datetime
    ) -> None:
        self.ix.requests[dispatch_id] = Request(
            dispatch_id, purpose, event.stream, event.type, dict(event.data), at
        )

    def _room(self, event: RecordedEvent, domain: Any, before: rm.Room) -> None:
        state: rm.Room = self._streams[event.stream][0]
        match domain:
            case rm.IncidentTracked():
                for role in rm.Role:
                    self._request(
                        derived_id(event.stream, "opened", role.value),
                        dsp.Purpose.CHANNEL_OPENED,
                        event,
                        domain.tracked_at,
                    )
            case rm.WarRoomPosted():
                self._request(domain.message_id, dsp.Purpose.WAR_ROOM, event, domain.posted_at)
            case rm.StakeholderUpdatePosted():
                self._request(
                    domain.update_id, dsp.Purpose.STAKEHOLDER_UPDATE, event, domain.posted_at
                )
                if domain.audience == "public":
                    self.ix.public_updates.append((event.stream, domain))
                if domain.settled_promise is not None:
                    record = self.ix.promises.get((event.stream, domain.settled_promise))
                    if record is not None and record.outcome == "open":
                        record.outcome = "kept" if domain.promise_kept else "missed"
            case rm.UpdatePromised():
                previous = before.promise
                if previous is not None:
                    # Replaced by a shorter promise (a severity raise): settled by that.
                    record = self.ix.promises.get((event.stream, previous.seq))
                    if record is not None and record.outcome == "open":
                        record.outcome = "replaced"
                self.ix.promises[(event.stream, domain.seq)] = PromiseRecord(
                    event.stream,
                    state.reference,
                    (state.severity or "P?").__str__(),
                    domain.seq,
                    domain.due_by,
                )
            case rm.UpdateDue():
                self._request(
                    derived_id(event.stream, "due", domain.seq),
                    dsp.Purpose.REMINDER,
                    event,
                    domain.reminded_at,
                )
            case rm.UpdateOverdue():
                record = self.ix.promises.get((event.stream, domain.seq))
                if record is not None:
                    record.outcome = "missed"
                self._request(
                    derived_id(event.stream, "overdue", domain.seq),
                    dsp.Purpose.OVERDUE,
                    event,
                    domain.detected_at,
                )

    def _status(self, event: RecordedEvent, domain: Any) -> None:
        state: si.StatusIncident = self._streams[event.stream][0]
        drafted = state.drafted
        if drafted is None:
            return
        if isinstance(domain, si.StatusIncidentUpdated):
            for change in domain.affected_components:
                self.ix.component_history.setdefault(change.component_id, []).append(
                    (domain.posted_at, change.new_status, event.stream)
                )
            if state.public and domain.deliver_notifications:
                self._request(
                    notice_id(domain.update_id),
                    dsp.Purpose.SUBSCRIBER_NOTICE,
                    event,
                    domain.posted_at,
                )
        elif (
            isinstance(domain, si.StatusIncidentPublished)
            and state.updates
            and state.updates[-1].deliver_notifications
        ):
            # Published: the latest update is announced to subscribers.
            self._request(
                notice_id(state.updates[-1].update_id),
                dsp.Purpose.SUBSCRIBER_NOTICE,
                event,
                domain.published_at,
            )

    # ------------------------------------------------------------------ queries

    def pending_requests(self) -> list[Request]:
        return [r for i, r in self.ix.requests.items() if i not in self.ix.queued]

    def sender_instances(self) -> dict[str, str]:
        return {
            stream.split("-", 1)[1]: state.instance
            for stream, state in self.streams(snd.STREAM_CATEGORY)
            if state.instance
        }

    def streams(self, category: str) -> list[tuple[str, Any]]:
        return list(self._by_category.get(category, {}).items())


def aggregates(
    room_decide: Any, dispatch_decide: Any, dispatch_evolve: Any
) -> dict[str, Aggregate[Any, Any]]:
    """The service's aggregates (their deciders take deployment policies)."""

    def room_correlation(stream: str, state: rm.Room) -> str | None:
        return str(state.incident_id) if state.incident_id else stream.split("-", 1)[1]

    def dispatch_correlation(stream: str, state: dsp.Dispatch) -> str | None:
        if state.queued is not None and state.queued.incident_id is not None:
            return str(state.queued.incident_id)
        return None

    def status_correlation(stream: str, state: si.StatusIncident) -> str | None:
        if state.drafted is not None and state.drafted.incident_id is not None:
            return str(state.drafted.incident_id)
        return None

    def none(stream: str, state: object) -> str | None:
        return None

    return {
        rm.STREAM_CATEGORY: Aggregate(
            rm.STREAM_CATEGORY, rm.INITIAL, room_decide, rm.evolve, room_correlation
        ),
        dsp.STREAM_CATEGORY: Aggregate(
            dsp.STREAM_CATEGORY, dsp.INITIAL, dispatch_decide, dispatch_evolve, dispatch_correlation
        ),
        sp.STREAM_CATEGORY: Aggregate(sp.STREAM_CATEGORY, sp.INITIAL, sp.decide, sp.evolve, none),
        si.STREAM_CATEGORY: Aggregate(
            si.STREAM_CATEGORY, si.INITIAL, si.decide, si.evolve, status_correlation
        ),
        sub.STREAM_CATEGORY: Aggregate(
            sub.STREAM_CATEGORY, sub.INITIAL, sub.decide, sub.evolve, none
        ),
        snd.STREAM_CATEGORY: Aggregate(
            snd.STREAM_CATEGORY, snd.INITIAL, snd.decide, snd.evolve, none
        ),
    }
