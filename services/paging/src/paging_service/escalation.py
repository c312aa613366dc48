"""The Escalation aggregate (stream `escalation-<incident id>`): the durable-timer state
machine that pages level after level until somebody acknowledges.

Owns *when* each step is due and whether it still should fire. Time is durable: every
timer is an event with a `due_at` (EscalationStepScheduled, EscalationDeferred,
UnacknowledgedTimeoutScheduled); the scheduler (`due` projection + `app.tick`) fires
what is due by sending a command here, and this decider refuses anything that an ack,
a cancellation or an earlier firing has made moot. Exactly once comes from the
application deriving each firing's event ids from (incident, step), so a crashed and
retried firing re-appends the same ids and the log drops them.

Rules:
- the first event snapshots the policy (see policy.py): later policy edits never touch
  a running escalation;
- step due times follow the plan (round start + level delays), not the time a step
  happened to fire, so a worker that was down fires every overdue step on recovery,
  in order, each once;
- a low-urgency step that falls outside its targets' business hours is deferred until
  they begin; a severity raised to high urgency brings a deferred step back to now;
- an acknowledgement stops the escalation and, if the policy says so, schedules an
  un-acknowledged timeout that starts a new round if the incident is still open then;
- the incident's resolution cancels everything pending, and wins even when it arrives
  before the escalation started;
- a page that could not be delivered by any method (PageDeliveryExhausted) is never
  the end of the road: the next level is brought forward to now, and when no level is
  left the escalation is exhausted and the platform's operators are paged through the
  fallback route configured at install time (ADR 0011).

Pure: commands carry `at` and everything looked up elsewhere (who is on call, when
business hours begin); this module reads no clock and no store.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from paging_service.common import EVENTS, Command, Instant, Severity, Urgency, derived_id
from paging_service.policy import PolicySnapshot, Step, plan

STREAM_CATEGORY = "escalation"


def stream_for(incident_id: uuid.UUID) -> str:
    return f"{STREAM_CATEGORY}-{incident_id}"


def page_id_for(incident_id: uuid.UUID, step: int, user_id: str) -> uuid.UUID:
    """The page a fired step sends to one responder: derived, so it exists once."""
    return derived_id("page", incident_id, step, user_id)


FALLBACK_RECIPIENT = "platform-operators"
"""The user id of the fallback page: the operators' route configured at install time."""


def fallback_page_id_for(incident_id: uuid.UUID, round_: int) -> uuid.UUID:
    """The operators' page when a round of escalation reached nobody: derived, so a
    retried exhaustion creates it once."""
    return derived_id("fallback-page", incident_id, round_)


class Status(enum.StrEnum):
    NOT_STARTED = "not_started"
    ACTIVE = "active"
    """Paging; a step may be pending."""
    ACKNOWLEDGED = "acknowledged"
    """Stopped by an acknowledgement; an un-ack timeout may be pending."""
    CANCELLED = "cancelled"
    """The incident was resolved: nothing will ever fire again."""


class StopReason(enum.StrEnum):
    ACKNOWLEDGED = "acknowledged"


# ---------------------------------------------------------------------- events


@EVENTS.register
class EscalationStarted(DomainEvent):
    incident_id: uuid.UUID
    policy: PolicySnapshot
    severity: Severity
    urgency: Urgency
    service: str | None
    title: str
    started_at: datetime


@EVENTS.register
class EscalationStepScheduled(DomainEvent):
    """Step `step` (a sequence number within the escalation) is due at `due_at`."""

    step: int
    round: int
    """0 for the first round; +1 each time an un-ack timeout re-triggers."""
    level: int
    repeat: int
    """Which pass over the policy's levels (0 = the first)."""
    due_at: datetime


@EVENTS.register
class EscalationDeferred(DomainEvent):
    """A low-urgency step waits for its targets' business hours."""

    step: int
    until: datetime
    deferred_at: datetime


@EVENTS.register
class EscalationStepFired(DomainEvent):
    step: int
    round: int
    level: int
    repeat: int
    responders: tuple[str, ...]
    """Users paged, resolved from the level's targets when the step fired."""
    due_at: datetime
    fired_at: datetime


@EVENTS.register
class EscalationStopped(DomainEvent):
    reason: StopReason
    by: str
    page_id: uuid.UUID | None
    """The page that was acknowledged, if the ack came through one."""
    via: str
    stopped_at: datetime


@EVENTS.register
class UnacknowledgedTimeoutScheduled(DomainEvent):
    round: int
    due_at: datetime


@EVENTS.register
class UnacknowledgedTimeoutFired(DomainEvent):
    round: int
    fired_at: datetime


@EVENTS.register
class EscalationCancelled(DomainEvent):
    reason: str
    cancelled_at: datetime


@EVENTS.register
class EscalationAdvanced(DomainEvent):
    """A page of the escalation reached nobody, so the next level is due now instead
    of at its planned time (an EscalationStepScheduled for it follows)."""

    step: int
    """The step brought forward."""
    because_page_id: uuid.UUID
    reason: str
    advanced_at: datetime


@EVENTS.register
class EscalationExhausted(DomainEvent):
    """Every level was tried and a page still reached nobody: the platform raises its
    own alert to the operators' fallback route (none when it is not configured)."""

    round: int
    because_page_id: uuid.UUID
    reason: str
    fallback_page_id: uuid.UUID | None
    exhausted_at: datetime


@EVENTS.register
class EscalationSeverityChanged(DomainEvent):
    from_severity: Severity | None
    to_severity: Severity
    urgency: Urgency
    changed_at: datetime


# ---------------------------------------------------------------------- commands


class StartEscalation(Command):
    incident_id: uuid.UUID
    policy: PolicySnapshot
    severity: Severity
    urgency: Urgency
    service: str | None = None
    title: str = ""


class FireStep(Command):
    step: int
    responders: tuple[str, ...]
    business_open_at: Instant | None = None
    """For low urgency: the first instant >= at inside a target's business hours
    (None when unknown: fire now rather than never)."""


class Acknowledge(Command):
    by: str
    page_id: uuid.UUID | None = None
    via: str = "api"
    paged_only: bool = False
    """`by` is a person (a signed link, or an API token bound to a paging user): refuse
    the ack unless that person was paged for this incident (docs/adr/0017)."""


class FireUnackTimeout(Command):
    round: int


class Cancel(Command):
    reason: str = "incident resolved"


class ChangeSeverity(Command):
    severity: Severity
    urgency: Urgency


class PageUndeliverable(Command):
    """One of the escalation's pages was exhausted (PageDeliveryExhausted)."""

    page_id: uuid.UUID
    reason: str
    fallback_configured: bool = False


EscalationCommand = (
    StartEscalation
    | FireStep
    | Acknowledge
    | FireUnackTimeout
    | Cancel
    | ChangeSeverity
    | PageUndeliverable
)

# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class PendingStep:
    step: int
    round: int
    level: int
    repeat: int
    due_at: datetime
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class FiredStep:
    step: int
    round: int
    level: int
    repeat: int
    responders: tuple[str, ...]
    fired_at: datetime


@dataclass(frozen=True, slots=True)
class Escalation:
    status: Status = Status.NOT_STARTED
    incident_id: uuid.UUID | None = None
    policy: PolicySnapshot | None = None
    severity: Severity | None = None
    urgency: Urgency = Urgency.HIGH
    service: str | None = None
    title: str = ""
    started_at: datetime | None = None
    round: int = 0
    round_started_step: int = 0
    """The sequence number of the current round's first step."""
    next_step: int = 0
    """The sequence number the next scheduled step will get."""
    pending: PendingStep | None = None
    unack_due: datetime | None = None
    fired: tuple[FiredStep, ...] = ()
    acknowledged_by: str | None = None
    acknowledged_page: uuid.UUID | None = None
    acknowledged_via: str = ""
    cancel_reason: str | None = None
    exhausted_round: int | None = None
    """The round in which every level reached nobody (EscalationExhausted)."""
    fallback_pages: tuple[uuid.UUID, ...] = ()

    @property
    def page_ids(self) -> tuple[uuid.UUID, ...]:
        assert self.incident_id is not None or not self.fired
        return (
            *(
                page_id_for(self.incident_id, f.step, user)  # type: ignore[arg-type]
                for f in self.fired
                for user in f.responders
            ),
            *self.fallback_pages,
        )

    def plan(self) -> list[Step]:
        return plan(self.policy) if self.policy is not None else []

    @property
    def paged_users(self) -> tuple[str, ...]:
        """Everyone a fired step paged so far, in order, once each."""
        return tuple(dict.fromkeys(user for f in self.fired for user in f.responders))


INITIAL = Escalation()


def evolve(state: Escalation, event: DomainEvent) -> Escalation:
    match event:
        case EscalationStarted():
            return replace(
                state,
                status=Status.ACTIVE,
                incident_id=event.incident_id,
                policy=event.policy,
                severity=event.severity,
                urgency=event.urgency,
                service=event.service,
                title=event.title,
                started_at=event.started_at,
            )
        case EscalationStepScheduled():
            pending = PendingStep(event.step, event.round, event.level, event.repeat, event.due_at)
            return replace(
                state,
                status=Status.ACTIVE if state.status is not Status.CANCELLED else state.status,
                pending=pending,
                next_step=max(state.next_step, event.step + 1),
            )
        case EscalationDeferred():
            if state.pending is None or state.pending.step != event.step:
                return state
            return replace(state, pending=replace(state.pending, due_at=event.until, deferred=True))
        case EscalationStepFired():
            fired = FiredStep(
                event.step, event.round, event.level, event.repeat, event.responders, event.fired_at
            )
            still_pending = (
                state.pending if state.pending and state.pending.step != event.step else None
            )
            return replace(state, pending=still_pending, fired=(*state.fired, fired))
        case EscalationStopped():
            return replace(
                state,
                status=Status.ACKNOWLEDGED,
                pending=None,
                acknowledged_by=event.by,
                acknowledged_page=event.page_id,
                acknowledged_via=event.via,
            )
        case UnacknowledgedTimeoutScheduled():
            return replace(state, unack_due=event.due_at)
        case UnacknowledgedTimeoutFired():
            return replace(
                state,
                status=Status.ACTIVE,
                unack_due=None,
                round=event.round + 1,
                round_started_step=state.next_step,
                acknowledged_by=None,
                acknowledged_page=None,
            )
        case EscalationCancelled():
            return replace(
                state,
                status=Status.CANCELLED,
                pending=None,
                unack_due=None,
                cancel_reason=event.reason,
            )
        case EscalationSeverityChanged():
            return replace(state, severity=event.to_severity, urgency=event.urgency)
        case EscalationExhausted():
            fallback = (event.fallback_page_id,) if event.fallback_page_id else ()
            return replace(
                state,
                exhausted_round=event.round,
                fallback_pages=(*state.fallback_pages, *fallback),
            )
    return state


def fold(events: Iterable[DomainEvent], state: Escalation = INITIAL) -> Escalation:
    for event in events:
        state = evolve(state, event)
    return state


# ---------------------------------------------------------------------- decider


def decide(command: EscalationCommand, state: Escalation) -> Sequence[DomainEvent]:
    """The events a command produces; [] when it is moot (already done, cancelled,
    not due yet). Timers call this freely: only a real transition emits anything."""
    if isinstance(command, Cancel):
        if state.status is Status.CANCELLED:
            return []
        return [EscalationCancelled(reason=command.reason, cancelled_at=command.at)]
    if isinstance(command, StartEscalation):
        if state.status is not Status.NOT_STARTED:
            return []  # already running, or the incident was resolved first
        if not command.policy.levels:
            raise InvalidCommandError("policy.levels", "an escalation needs at least one level")
        return [
            EscalationStarted(
                incident_id=command.incident_id,
                policy=command.policy,
                severity=command.severity,
                urgency=command.urgency,
                service=command.service,
                title=command.title,
                started_at=command.at,
            ),
            EscalationStepScheduled(step=0, round=0, level=0, repeat=0, due_at=command.at),
        ]
    if state.status is Status.NOT_STARTED:
        raise NotFoundError("no escalation was started for this incident")
    match command:
        case FireStep():
            return _fire(command, state)
        case Acknowledge():
            return _acknowledge(command, state)
        case FireUnackTimeout():
            if (
                state.status is not Status.ACKNOWLEDGED
                or state.unack_due is None
                or state.round != command.round
                or state.unack_due > command.at
            ):
                return []
            return [
                UnacknowledgedTimeoutFired(round=command.round, fired_at=command.at),
                EscalationStepScheduled(
                    step=state.next_step,
                    round=state.round + 1,
                    level=0,
                    repeat=0,
                    due_at=command.at,
                ),
            ]
        case ChangeSeverity():
            if state.status is Status.CANCELLED or command.severity == state.severity:
                return []
            events: list[DomainEvent] = [
                EscalationSeverityChanged(
                    from_severity=state.severity,
                    to_severity=command.severity,
                    urgency=command.urgency,
                    changed_at=command.at,
                )
            ]
            pending = state.pending
            # A step waiting for business hours is due at once when the incident becomes
            # urgent; a step merely waiting for its delay keeps its time.
            if (
                command.urgency is Urgency.HIGH
                and pending is not None
                and pending.deferred
                and pending.due_at > command.at
            ):
                events.append(
                    EscalationStepScheduled(
                        step=pending.step,
                        round=pending.round,
                        level=pending.level,
                        repeat=pending.repeat,
                        due_at=command.at,
                    )
                )
            return events
        case PageUndeliverable():
            return _page_undeliverable(command, state)
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")


def _page_undeliverable(command: PageUndeliverable, state: Escalation) -> Sequence[DomainEvent]:
    """Bring the next level forward, or, with none left, exhaust the round once."""
    if state.status is not Status.ACTIVE or command.page_id in state.fallback_pages:
        # Acknowledged or resolved: nobody needs paging. The operators' own page
        # reaching nobody ends here (logged by the worker), or it would loop.
        return []
    assert state.incident_id is not None
    latest = state.fired[-1] if state.fired else None
    if latest is None or command.page_id not in {
        page_id_for(state.incident_id, latest.step, user) for user in latest.responders
    }:
        return []  # a later step has already paged someone: the escalation moved on
    pending = state.pending
    if pending is not None:
        if pending.due_at <= command.at:
            return []  # already due: the scheduler fires it now anyway
        return [
            EscalationAdvanced(
                step=pending.step,
                because_page_id=command.page_id,
                reason=command.reason,
                advanced_at=command.at,
            ),
            EscalationStepScheduled(
                step=pending.step,
                round=pending.round,
                level=pending.level,
                repeat=pending.repeat,
                due_at=command.at,
            ),
        ]
    if state.exhausted_round == state.round:
        return []
    fallback = (
        fallback_page_id_for(state.incident_id, state.round)
        if command.fallback_configured
        else None
    )
    return [
        EscalationExhausted(
            round=state.round,
            because_page_id=command.page_id,
            reason=command.reason,
            fallback_page_id=fallback,
            exhausted_at=command.at,
        )
    ]


def _fire(command: FireStep, state: Escalation) -> Sequence[DomainEvent]:
    pending = state.pending
    if (
        state.status is not Status.ACTIVE
        or pending is None
        or pending.step != command.step
        or pending.due_at > command.at
    ):
        return []
    if (
        state.urgency is Urgency.LOW
        and command.business_open_at is not None
        and command.business_open_at > command.at
    ):
        return [
            EscalationDeferred(
                step=pending.step, until=command.business_open_at, deferred_at=command.at
            )
        ]
    events: list[DomainEvent] = [
        EscalationStepFired(
            step=pending.step,
            round=pending.round,
            level=pending.level,
            repeat=pending.repeat,
            responders=tuple(dict.fromkeys(command.responders)),
            due_at=pending.due_at,
            fired_at=command.at,
        )
    ]
    steps = state.plan()
    position = pending.step - state.round_started_step
    if position + 1 < len(steps):
        assert state.policy is not None
        following = steps[position + 1]
        # From the step's effective due time, not from now: no drift, and a recovering
        # worker catches up on every overdue step in order.
        delay = state.policy.levels[pending.level].delay_minutes
        events.append(
            EscalationStepScheduled(
                step=pending.step + 1,
                round=pending.round,
                level=following.level,
                repeat=following.repeat,
                due_at=pending.due_at + timedelta(minutes=delay),
            )
        )
    return events


def _acknowledge(command: Acknowledge, state: Escalation) -> Sequence[DomainEvent]:
    if command.paged_only and command.by not in state.paged_users:
        # An ack names the person who took the page; someone who was never paged
        # taking it would make the timeline and time-to-acknowledge name the wrong
        # person. An unbound credential (a script, an admin token) is not refused.
        paged = ", ".join(state.paged_users) or "nobody yet"
        raise PreconditionFailedError(
            f"{command.by} was not paged for this incident (paged: {paged}); only a paged "
            "responder can acknowledge: add an on-call override for them, or acknowledge "
            "with an unbound admin token, which is recorded under the token's name"
        )
    if state.status is not Status.ACTIVE:
        return []  # already acknowledged, or resolved: acking twice is harmless
    events: list[DomainEvent] = [
        EscalationStopped(
            reason=StopReason.ACKNOWLEDGED,
            by=command.by,
            page_id=command.page_id,
            via=command.via,
            stopped_at=command.at,
        )
    ]
    assert state.policy is not None
    if state.policy.un_ack_timeout_minutes is not None:
        events.append(
            UnacknowledgedTimeoutScheduled(
                round=state.round,
                due_at=command.at + timedelta(minutes=state.policy.un_ack_timeout_minutes),
            )
        )
    return events
