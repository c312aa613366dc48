"""The communications scheduler: everything comms does because time passed.

Owns the worker's sender slot (`start_sender`) and `tick()`: it fires the promises'
reminders and overdue marks, starts and completes published maintenances on their
schedule (announcing each an hour ahead), mirrors public stakeholder updates to the
linked status-page incidents, has the outbox (`outbox.py`) queue requested messages,
expires attempts whose outcome is unknown and records the attempts that are due,
which it hands to the adapter as `Send`s. It also owns what the adapter reports back
(`record_outcomes`) and reading dispatches. It never sends, sleeps or reads the wall
clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appkit import CommandResult
from comms_service import dispatch as dsp
from comms_service import room as rm
from comms_service import sender as snd
from comms_service import status_incident as si
from comms_service.common import derived_id
from comms_service.model import CommsModel
from comms_service.outbox import Outbox
from comms_service.runtime import Runtime
from notify import DeliveryOutcome

MAX_TICK_PASSES = 100
MAINTENANCE_NOTICE = timedelta(hours=1)
"""Subscribers are reminded this long before a maintenance starts (unless it was
published later than that)."""


@dataclass(frozen=True, slots=True)
class Send:
    """One recorded attempt the adapter must now make, once."""

    dispatch_id: uuid.UUID
    purpose: str
    target: dsp.Target
    attempt: int
    subject: str
    body: str
    reference: str
    severity: str
    incident_id: uuid.UUID | None
    possible_repeat: bool
    idempotency_key: str
    """Stable per attempt; a possible repeat carries the attempt it may repeat."""
    source: str | None = None
    """The stream whose event asked for this message (a status incident for notices)."""
    data: dict[str, str] | None = None
    """Structured facts for machine receivers (a component update's statuses)."""


OutcomeReport = tuple[str, int, DeliveryOutcome]
"""(target_id, attempt, notify's outcome) of one send: the outcome whole, so an unknown
one cannot be dropped on the way to the ledger."""


def _outcome(report: OutcomeReport) -> dsp.Outcome:
    target_id, attempt, outcome = report
    return dsp.Outcome(
        target_id=target_id,
        attempt=attempt,
        delivered=outcome.delivered,
        reason=outcome.reason[:500],
        permanent=outcome.permanent,
        unknown=outcome.unknown,
    )


class Scheduler:
    def __init__(self, runtime: Runtime, outbox: Outbox) -> None:
        self.runtime = runtime
        self.outbox = outbox
        self._mirrored_upto = 0
        """How many public updates this process has mirrored (each is idempotent, so a
        restart that starts from 0 repeats nothing)."""

    def start_sender(self) -> None:
        runtime = self.runtime
        command = snd.StartSender(
            at=runtime.clock(), sender=runtime.sender, instance=runtime.instance
        )
        runtime.run(
            snd.STREAM_CATEGORY, snd.stream_for(runtime.sender), command, actor=runtime.actor
        )

    def tick(self, *, limit: int = dsp.MAX_BATCH) -> list[Send]:
        """Fire due timers, queue requested messages, expire unknown outcomes and record
        the attempts that are due; returns what this call recorded, to send once."""
        sends: list[Send] = []
        for _ in range(MAX_TICK_PASSES):
            now = self.runtime.clock()
            progressed = self._fire_timers(now)
            progressed = self.outbox.queue_requested() or progressed
            fresh = self._attempt_due(now, limit)
            sends.extend(fresh)
            if not progressed and not fresh:
                break
        return sends

    def _fire_timers(self, now: datetime) -> bool:
        fired = self._maintenance_windows(now)
        fired = self.mirror_public_updates() or fired
        for stream, state in self.runtime.model.streams(rm.STREAM_CATEGORY):
            promise = state.promise
            if promise is None:
                continue
            if not promise.reminded and promise.remind_at <= now:
                result = self.runtime.run(
                    rm.STREAM_CATEGORY,
                    stream,
                    rm.FireReminder(at=now, seq=promise.seq),
                    actor=self.runtime.actor,
                    key=f"remind/{promise.seq}",
                )
                fired = fired or result.appended
            if not promise.overdue and promise.due_by <= now:
                result = self.runtime.run(
                    rm.STREAM_CATEGORY,
                    stream,
                    rm.MarkOverdue(at=now, seq=promise.seq),
                    actor=self.runtime.actor,
                    key=f"overdue/{promise.seq}",
                )
                fired = fired or result.appended
        return fired

    def mirror_public_updates(self) -> bool:
        """A public-audience update also appears on the incident's linked status-page
        incidents that are still open (drafts too: publishing stays explicit). Keyed by
        the update, so a retry or a crash in between posts it once."""
        model = self.runtime.model
        mirrored = False
        pending = model.ix.public_updates[self._mirrored_upto :]
        for room_stream, posted in pending:
            room: rm.Room = model.state(room_stream)[0]
            for stream, state in model.streams(si.STREAM_CATEGORY):
                drafted = state.drafted
                if (
                    drafted is None
                    or drafted.incident_id != room.incident_id
                    or drafted.kind is not si.Kind.INCIDENT
                    or state.closed
                    or drafted.drafted_at > posted.posted_at
                ):
                    continue
                update_id = derived_id(
                    "status-update", drafted.status_incident_id, posted.update_id
                )
                if update_id in state.update_ids:
                    continue
                command = si.PostStatusUpdate(
                    at=posted.posted_at,
                    update_id=update_id,
                    status=si.IncidentStatus(posted.status.value),
                    body=posted.body,
                    posted_by=posted.posted_by,
                )
                result = self.runtime.run(
                    si.STREAM_CATEGORY,
                    stream,
                    command,
                    actor=posted.posted_by,
                    key=f"mirror/{posted.update_id}",
                )
                mirrored = mirrored or result.appended
        self._mirrored_upto += len(pending)
        return mirrored

    def _maintenance_windows(self, now: datetime) -> bool:
        """A published maintenance is announced an hour before it starts, then starts
        and completes on its schedule (subscribers are told each time); each step is
        keyed, so it happens once."""
        fired = False
        for stream, state in self.runtime.model.streams(si.STREAM_CATEGORY):
            drafted = state.drafted
            if drafted is None or drafted.kind is not si.Kind.MAINTENANCE or not state.public:
                continue
            assert drafted.scheduled_for is not None
            assert drafted.scheduled_until is not None
            reminder = derived_id("status-update", drafted.status_incident_id, "auto/reminder")
            if (
                state.status is si.IncidentStatus.SCHEDULED
                and drafted.scheduled_for - MAINTENANCE_NOTICE <= now < drafted.scheduled_for
                and reminder not in state.update_ids
                and (state.published_at or now) < drafted.scheduled_for - MAINTENANCE_NOTICE
            ):
                status, body, key = (
                    si.IncidentStatus.SCHEDULED,
                    f"Reminder: this maintenance starts at "
                    f"{drafted.scheduled_for.strftime('%Y-%m-%d %H:%M UTC')}.",
                    "auto/reminder",
                )
            elif state.status is si.IncidentStatus.SCHEDULED and drafted.scheduled_for <= now:
                status, body, key = (
                    si.IncidentStatus.IN_PROGRESS,
                    "Scheduled maintenance is in progress. We will provide updates as necessary.",
                    "auto/started",
                )
            elif (
                state.status in (si.IncidentStatus.IN_PROGRESS, si.IncidentStatus.VERIFYING)
                and drafted.scheduled_until <= now
            ):
                status, body, key = (
                    si.IncidentStatus.COMPLETED,
                    "The scheduled maintenance has been completed.",
                    "auto/completed",
                )
            else:
                continue
            command = si.PostStatusUpdate(
                at=now,
                update_id=derived_id("status-update", drafted.status_incident_id, key),
                status=status,
                body=body,
                posted_by="statuspage",
            )
            result = self.runtime.run(
                si.STREAM_CATEGORY, stream, command, actor=self.runtime.actor, key=key
            )
            fired = fired or result.appended
        return fired

    def _attempt_due(self, now: datetime, limit: int) -> list[Send]:
        sends: list[Send] = []
        instances = self.runtime.model.sender_instances()
        model = self.runtime.model
        for stream in sorted(model.ix.open_dispatches):
            state: dsp.Dispatch = model.state(stream)[0]
            due = dsp.due_at(state)
            replaced = any(
                instances.get(s) not in (None, i) for s, i in dsp.in_flight_senders(state)
            )
            if (due is None or due > now) and not replaced:
                continue
            self.runtime.run(
                dsp.STREAM_CATEGORY,
                stream,
                dsp.ExpireAttempts(at=now, current_instances=instances),
                actor=self.runtime.actor,
            )
            while True:
                result = self.runtime.run(
                    dsp.STREAM_CATEGORY,
                    stream,
                    dsp.AttemptDue(
                        at=now,
                        sender=self.runtime.sender,
                        sender_instance=self.runtime.instance,
                        limit=limit,
                    ),
                    actor=self.runtime.actor,
                )
                if not result.appended:
                    break
                sends.extend(self._sends(result.state, result.events[0]))
        return sends

    def _sends(self, state: dsp.Dispatch, event: Any) -> list[Send]:
        assert state.queued is not None
        queued = state.queued
        targets = {t.target_id: t for t in queued.targets}
        out = []
        for attempt in event.attempts:
            first = attempt.repeat_of or attempt.attempt
            out.append(
                Send(
                    dispatch_id=queued.dispatch_id,
                    purpose=queued.purpose,
                    target=targets[attempt.target_id],
                    attempt=attempt.attempt,
                    subject=queued.subject,
                    body=queued.body,
                    reference=queued.reference,
                    severity=queued.severity,
                    incident_id=queued.incident_id,
                    possible_repeat=attempt.repeat_of is not None,
                    idempotency_key=str(
                        derived_id("send", queued.dispatch_id, attempt.target_id, first)
                    ),
                    source=queued.source,
                    data=queued.data,
                )
            )
        return out

    def record_outcomes(
        self, dispatch_id: uuid.UUID, outcomes: Sequence[OutcomeReport]
    ) -> CommandResult[Any]:
        """For each send made: (target_id, attempt, notify's DeliveryOutcome)."""
        command = dsp.RecordOutcomes(
            at=self.runtime.clock(), outcomes=tuple(_outcome(o) for o in outcomes)
        )
        return self.runtime.run(
            dsp.STREAM_CATEGORY, dsp.stream_for(dispatch_id), command, actor=self.runtime.actor
        )

    def open_status(self, incident_id: uuid.UUID, destination: rm.Destination) -> str:
        """How the message that opened `destination` fared."""
        return open_status_in(self.runtime.model, incident_id, destination)

    def dispatch(self, dispatch_id: uuid.UUID) -> dsp.Dispatch:
        state, _ = self.runtime.model.state(dsp.stream_for(dispatch_id))
        return state  # type: ignore[no-any-return]

    def dispatches_for(self, incident_id: uuid.UUID) -> list[dsp.Dispatch]:
        return dispatches_of(self.runtime.model, incident_id)


# Reads over the model, shared with the replay renderers (comms_service.rendering),
# which run them on the model rebuilt as of an instant.


def open_status_in(model: CommsModel, incident_id: uuid.UUID, destination: rm.Destination) -> str:
    """How the message that opened `destination` fared, as `model` has it."""
    opened: dsp.Dispatch = model.state(
        dsp.stream_for(derived_id(rm.stream_for(incident_id), "opened", destination.role.value))
    )[0]
    target = opened.targets.get(f"{destination.role.value}.{destination.channel_id}")
    if target is None:
        return "pending"
    if target.status is dsp.TargetStatus.DELIVERED:
        return "delivered"
    if target.status is dsp.TargetStatus.FAILED:
        return f"failed: {target.reason}"
    if target.reason:
        return f"retrying: {target.reason}"
    return "pending"


def dispatches_of(model: CommsModel, incident_id: uuid.UUID) -> list[dsp.Dispatch]:
    """The dispatches queued for an incident, as `model` has them."""
    return [
        s
        for _, s in model.streams(dsp.STREAM_CATEGORY)
        if s.queued is not None and s.queued.incident_id == incident_id
    ]
