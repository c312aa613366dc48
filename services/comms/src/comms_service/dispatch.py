"""The Dispatch aggregate (stream `dispatch-<id>`): one message to a set of destinations,
and every attempt to deliver it to each of them.

Owns delivery bookkeeping for everything communications sends (war-room posts,
stakeholder updates, reminders, overdue escalations, subscriber notices, opt-in
emails), never delivery itself (ADR 0011, applied to communications):
- DispatchQueued fixes the message and its targets once;
- attempts are recorded *before* the adapter sends (DeliveriesAttempted, a batch, with
  the sender slot and instance and an outcome deadline), so only the call that wrote
  them sends them;
- outcomes come back in batches (DeliveryOutcomesRecorded): a temporary failure is
  retried with backoff (10 s x 3^n, capped at 10 min, for up to 6 hours after queuing:
  a receiver that is down for a while gets it later), a permanent one or the end of
  that horizon gives the target up; an *unknown* outcome (the channel handed the
  message over but got no answer: an HTTP read timeout, an SMTP connection lost after
  DATA) is neither: it is sent again after the same backoff, marked as a possible
  repeat carrying the first attempt's key, and never given up as a failure before the
  attempts run out;
- an attempt whose outcome will never be known (its sender instance was replaced after
  a crash, or its deadline passed) is recorded as DeliveriesUnconfirmed and sent again
  at once, marked as a possible repeat carrying the first attempt's key: nobody gets an
  update twice unlabelled, and none is lost.

Batches keep a 10,000-subscriber notice to a few dozen events. Pure.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pydantic import Field

from comms_service.common import EVENTS, Command, Value
from contracts.domain import InvalidCommandError
from contracts.events import DomainEvent

STREAM_CATEGORY = "dispatch"
MAX_BATCH = 500


def stream_for(dispatch_id: uuid.UUID) -> str:
    return f"{STREAM_CATEGORY}-{dispatch_id}"


class TargetKind(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    SLACK = "slack"


class Purpose(enum.StrEnum):
    CHANNEL_OPENED = "channel_opened"
    WAR_ROOM = "war_room"
    STAKEHOLDER_UPDATE = "stakeholder_update"
    REMINDER = "reminder"
    OVERDUE = "overdue"
    SUBSCRIBER_NOTICE = "subscriber_notice"
    COMPONENT_UPDATE = "component_update"
    CONFIRM_SUBSCRIPTION = "confirm_subscription"


class Target(Value):
    target_id: str
    kind: TargetKind
    address: str
    unsubscribe_url: str | None = None


class Attempt(Value):
    target_id: str
    attempt: int
    repeat_of: int | None = None


class Outcome(Value):
    target_id: str
    attempt: int
    delivered: bool
    reason: str = ""
    permanent: bool = False
    retry_at: datetime | None = None
    unknown: bool = False
    """Handed over, no answer: the receiver may have it. The next attempt is labelled a
    possible repeat of this one (or of the first unknown before it)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff 10 s x 3^n capped at 10 minutes, for up to 6 hours after the message was
    queued: a destination down for an afternoon still gets the update when it is back
    (at most `cap` late). The horizon, not a count, ends the retries; `max_attempts` is
    a backstop (also for attempts whose outcome stays unknown: a poison message must
    not loop for ever). The defaults make about 40 attempts in 6 hours. An attempt whose
    outcome is unknown is repeated (labelled) until `max_unknown` attempts of the target
    had an unknown outcome, horizon or not: it was due when it was tried."""

    max_attempts: int = 60
    max_unknown: int = 5
    base: timedelta = timedelta(seconds=10)
    factor: int = 3
    cap: timedelta = timedelta(minutes=10)
    give_up_after: timedelta = timedelta(hours=6)
    """No retry is scheduled later than this after the message was queued."""
    outcome_timeout: timedelta = timedelta(minutes=2)

    def delay(self, attempt: int) -> timedelta:
        delay = self.base
        for _ in range(attempt - 1):  # stepwise: base * factor**59 overflows timedelta
            if delay >= self.cap:
                break
            delay *= self.factor
        return min(delay, self.cap)

    def gives_up_unknown(self, attempt: int, unknown_before: int) -> bool:
        """Whether attempt `attempt`, whose outcome is unknown, is the last one, given
        how many earlier attempts of the target had an unknown outcome."""
        return unknown_before + 1 >= self.max_unknown or attempt >= self.max_attempts

    def retry_at(self, attempt: int, now: datetime, queued_at: datetime) -> datetime | None:
        """When attempt `attempt + 1` goes, or None when the target is given up."""
        if attempt >= self.max_attempts:
            return None
        at = now + self.delay(attempt)
        return at if at <= queued_at + self.give_up_after else None


# ---------------------------------------------------------------------- events


@EVENTS.register
class DispatchQueued(DomainEvent):
    dispatch_id: uuid.UUID
    purpose: str
    incident_id: uuid.UUID | None
    reference: str
    subject: str
    body: str
    severity: str
    targets: tuple[Target, ...]
    queued_at: datetime
    source: str | None = None
    """The stream whose event asked for this message."""
    data: dict[str, str] | None = None
    """Structured facts for machine receivers (a component update's statuses)."""


@EVENTS.register
class DeliveriesAttempted(DomainEvent):
    """Recorded before the sends: the adapter must send exactly these, once."""

    attempts: tuple[Attempt, ...]
    sender: str
    sender_instance: str
    attempted_at: datetime
    outcome_due_by: datetime


@EVENTS.register
class DeliveryOutcomesRecorded(DomainEvent):
    outcomes: tuple[Outcome, ...]
    recorded_at: datetime


@EVENTS.register
class DeliveriesUnconfirmed(DomainEvent):
    """These attempts will never report: sent again, labelled as possible repeats."""

    attempts: tuple[Attempt, ...]
    reason: str
    detected_at: datetime
    given_up: tuple[str, ...] | None = None
    """Targets not sent again (too many unknown outcomes), decided when recorded, so a
    replay never depends on today's policy. None in events recorded before the field
    existed: those gave up at attempt LEGACY_MAX_ATTEMPTS, the only policy then."""


LEGACY_MAX_ATTEMPTS = 5


# ---------------------------------------------------------------------- commands


class QueueDispatch(Command):
    dispatch_id: uuid.UUID
    purpose: str
    incident_id: uuid.UUID | None = None
    reference: str = ""
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(max_length=40_000)
    severity: str = ""
    targets: tuple[Target, ...]
    source: str | None = None
    data: dict[str, str] | None = None


class AttemptDue(Command):
    sender: str
    sender_instance: str
    limit: int = Field(default=MAX_BATCH, ge=1)


class RecordOutcomes(Command):
    outcomes: tuple[Outcome, ...]


class ExpireAttempts(Command):
    """Attempts whose sender instance is no longer the slot's current one, or whose
    deadline passed, will never report."""

    current_instances: dict[str, str]


DispatchCommand = QueueDispatch | AttemptDue | RecordOutcomes | ExpireAttempts

# ---------------------------------------------------------------------- state


class TargetStatus(enum.StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TargetState:
    status: TargetStatus = TargetStatus.PENDING
    attempts: int = 0
    due_at: datetime | None = None
    repeat_of: int | None = None
    """Set while the next attempt may repeat an earlier one (its outcome is unknown)."""
    unknown: int = 0
    """How many attempts had an unknown outcome (bounded by RetryPolicy.max_unknown)."""
    sender: str | None = None
    sender_instance: str | None = None
    outcome_due_by: datetime | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Dispatch:
    queued: DispatchQueued | None = None
    targets: Mapping[str, TargetState] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.queued is not None

    def count(self, status: TargetStatus) -> int:
        return sum(1 for t in self.targets.values() if t.status is status)

    @property
    def settled(self) -> bool:
        return all(
            t.status in (TargetStatus.DELIVERED, TargetStatus.FAILED) for t in self.targets.values()
        )


INITIAL = Dispatch()


def make_evolve(policy: RetryPolicy) -> Callable[[Dispatch, DomainEvent], Dispatch]:
    def evolve(state: Dispatch, event: DomainEvent) -> Dispatch:
        return _evolve(state, event, policy)

    return evolve


def _evolve(state: Dispatch, event: DomainEvent, policy: RetryPolicy) -> Dispatch:
    if isinstance(event, DispatchQueued):
        targets = {t.target_id: TargetState(due_at=event.queued_at) for t in event.targets}
        return Dispatch(event, targets)
    targets = dict(state.targets)
    if isinstance(event, DeliveriesAttempted):
        for a in event.attempts:
            targets[a.target_id] = replace(
                targets.get(a.target_id, TargetState()),
                status=TargetStatus.IN_FLIGHT,
                attempts=a.attempt,
                due_at=None,
                sender=event.sender,
                sender_instance=event.sender_instance,
                outcome_due_by=event.outcome_due_by,
            )
    elif isinstance(event, DeliveryOutcomesRecorded):
        for o in event.outcomes:
            found = targets.get(o.target_id)
            if found is None or found.status is not TargetStatus.IN_FLIGHT:
                continue
            if found.attempts != o.attempt:
                continue
            current = found
            if o.delivered:
                targets[o.target_id] = replace(
                    current, status=TargetStatus.DELIVERED, reason=o.reason, repeat_of=None
                )
            elif o.unknown:
                # It may have arrived: whatever comes next repeats it, labelled.
                labelled = replace(
                    current,
                    reason=f"outcome unknown: {o.reason}",
                    repeat_of=current.repeat_of or o.attempt,
                    unknown=current.unknown + 1,
                )
                if o.retry_at is None:
                    targets[o.target_id] = replace(labelled, status=TargetStatus.FAILED)
                else:
                    targets[o.target_id] = replace(
                        labelled, status=TargetStatus.PENDING, due_at=o.retry_at
                    )
            elif o.retry_at is not None:
                # A failure is a known outcome: the next attempt repeats nothing.
                targets[o.target_id] = replace(
                    current,
                    status=TargetStatus.PENDING,
                    due_at=o.retry_at,
                    reason=o.reason,
                    repeat_of=current.repeat_of,
                )
            else:
                targets[o.target_id] = replace(current, status=TargetStatus.FAILED, reason=o.reason)
    elif isinstance(event, DeliveriesUnconfirmed):
        for a in event.attempts:
            unknown = targets.get(a.target_id)
            if unknown is None or unknown.status is not TargetStatus.IN_FLIGHT:
                continue
            current = replace(unknown, unknown=unknown.unknown + 1)
            if event.given_up is None:
                give_up = current.attempts >= LEGACY_MAX_ATTEMPTS
            else:
                give_up = a.target_id in event.given_up
            if give_up:
                targets[a.target_id] = replace(
                    current, status=TargetStatus.FAILED, reason=f"outcome unknown: {event.reason}"
                )
                continue
            targets[a.target_id] = replace(
                current,
                status=TargetStatus.PENDING,
                due_at=event.detected_at,
                repeat_of=current.repeat_of or a.attempt,
                reason=f"outcome unknown: {event.reason}",
            )
    else:
        return state
    return Dispatch(state.queued, targets)


def make_decide(
    policy: RetryPolicy,
) -> Callable[[DispatchCommand, Dispatch], Sequence[DomainEvent]]:
    def decide(command: DispatchCommand, state: Dispatch) -> list[DomainEvent]:
        return _decide(command, state, policy)

    return decide


def _decide(command: DispatchCommand, state: Dispatch, policy: RetryPolicy) -> list[DomainEvent]:
    if isinstance(command, QueueDispatch):
        if state.exists:
            return []
        ids = [t.target_id for t in command.targets]
        if len(set(ids)) != len(ids):
            raise InvalidCommandError("targets", "target ids must be distinct")
        return [
            DispatchQueued(
                dispatch_id=command.dispatch_id,
                purpose=command.purpose,
                incident_id=command.incident_id,
                reference=command.reference,
                subject=command.subject,
                body=command.body,
                severity=command.severity,
                targets=command.targets,
                queued_at=command.at,
                source=command.source,
                data=command.data,
            )
        ]
    if not state.exists:
        return []
    if isinstance(command, AttemptDue):
        attempts: list[Attempt] = []
        for target_id, target in state.targets.items():
            if target.status is not TargetStatus.PENDING:
                continue
            if target.due_at is not None and target.due_at > command.at:
                continue
            attempts.append(
                Attempt(
                    target_id=target_id, attempt=target.attempts + 1, repeat_of=target.repeat_of
                )
            )
            if len(attempts) >= command.limit:
                break
        if not attempts:
            return []
        return [
            DeliveriesAttempted(
                attempts=tuple(attempts),
                sender=command.sender,
                sender_instance=command.sender_instance,
                attempted_at=command.at,
                outcome_due_by=command.at + policy.outcome_timeout,
            )
        ]
    if isinstance(command, RecordOutcomes):
        outcomes: list[Outcome] = []
        for o in command.outcomes:
            current = state.targets.get(o.target_id)
            if current is None or current.status is not TargetStatus.IN_FLIGHT:
                continue  # late report of an attempt already settled as unknown
            if current.attempts != o.attempt:
                continue
            retry_at = None
            if o.unknown and (o.delivered or o.permanent):
                raise InvalidCommandError(
                    "outcomes", "an unknown outcome is not delivered or failed"
                )
            if o.unknown:
                if not policy.gives_up_unknown(o.attempt, current.unknown):
                    retry_at = command.at + policy.delay(o.attempt)
            elif not o.delivered and not o.permanent:
                assert state.queued is not None
                retry_at = policy.retry_at(o.attempt, command.at, state.queued.queued_at)
            outcomes.append(o.model_copy(update={"retry_at": retry_at}))
        if not outcomes:
            return []
        return [DeliveryOutcomesRecorded(outcomes=tuple(outcomes), recorded_at=command.at)]
    if isinstance(command, ExpireAttempts):
        expired: list[Attempt] = []
        given_up: list[str] = []
        reasons: set[str] = set()
        for target_id, target in state.targets.items():
            if target.status is not TargetStatus.IN_FLIGHT:
                continue
            replaced = (
                target.sender is not None
                and target.sender in command.current_instances
                and command.current_instances[target.sender] != target.sender_instance
            )
            late = target.outcome_due_by is not None and target.outcome_due_by <= command.at
            if replaced or late:
                reasons.add("sender replaced" if replaced else "no outcome by the deadline")
                expired.append(Attempt(target_id=target_id, attempt=target.attempts))
                if policy.gives_up_unknown(target.attempts, target.unknown):
                    given_up.append(target_id)
        if not expired:
            return []
        return [
            DeliveriesUnconfirmed(
                attempts=tuple(expired),
                reason=", ".join(sorted(reasons)),
                detected_at=command.at,
                given_up=tuple(given_up),
            )
        ]
    raise TypeError(f"unknown command {type(command).__name__}")  # pragma: no cover


def due_at(state: Dispatch) -> datetime | None:
    """The earliest instant something in this dispatch needs the scheduler."""
    times: list[datetime] = []
    for t in state.targets.values():
        if t.status is TargetStatus.PENDING and t.due_at is not None:
            times.append(t.due_at)
        elif t.status is TargetStatus.IN_FLIGHT and t.outcome_due_by is not None:
            times.append(t.outcome_due_by)
    return min(times) if times else None


def in_flight_senders(state: Dispatch) -> set[tuple[str, str]]:
    return {
        (t.sender, t.sender_instance)
        for t in state.targets.values()
        if t.status is TargetStatus.IN_FLIGHT and t.sender and t.sender_instance
    }
