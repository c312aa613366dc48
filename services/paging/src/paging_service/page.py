"""The Page aggregate (stream `page-<page id>`): one escalation step paging one user,
and every attempt to reach them.

Owns delivery bookkeeping, never delivery itself:
- the user's contact methods and notification rules are copied into ResponderPaged, so
  a page keeps its plan even if the user edits their profile meanwhile;
- each method is scheduled (PageNotificationScheduled) at `paged_at + after_minutes`;
- an attempt is recorded *before* the adapter sends (PageDeliveryAttempted, whose id
  the application derives from page + method + attempt), so a retry or a crash never
  sends the same attempt twice;
- the adapter reports PageDelivered or PageFailed(reason, permanent); a temporary
  failure retries the same method with exponential backoff, a permanent one (or too
  many temporary ones) fails over to the next method in the plan at once;
- an attempt whose outcome will never be reported (its sender instance was replaced
  after a crash, or its deadline passed) is recorded as PageDeliveryUnconfirmed and
  is *sent again through the same method* at once, marked as a possible repeat and
  carrying the first attempt's idempotency key, while the next method (if any) is
  tried as well. A lost page costs an outage; a repeated one costs a second glance
  (ADR 0011, which supersedes that part of ADR 0010);
- an acknowledgement (or the escalation stopping) closes the page: nothing pending fires.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from paging_service.common import EVENTS, Command, Value
from paging_service.user import ContactKind

STREAM_CATEGORY = "page"


def stream_for(page_id: uuid.UUID) -> str:
    return f"{STREAM_CATEGORY}-{page_id}"


class PlannedMethod(Value):
    method_id: str
    kind: ContactKind
    address: str
    after_minutes: int = Field(ge=0)


class AckChannel(enum.StrEnum):
    GRPC = "grpc"
    CLI = "cli"
    LINK = "link"
    API = "api"


DEFAULT_OUTCOME_TIMEOUT = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff for temporary failures: base * factor**(attempt-1), capped."""

    max_attempts: int = 4
    base: timedelta = timedelta(seconds=30)
    factor: int = 4
    cap: timedelta = timedelta(minutes=15)
    outcome_timeout: timedelta = DEFAULT_OUTCOME_TIMEOUT
    """How long an attempt may stay without an outcome before its outcome counts as
    unknown (and it is sent again). Only the fallback: a restarted sender makes its
    predecessor's attempts unknown at once."""

    def delay(self, attempt: int) -> timedelta:
        delay: timedelta = self.base * self.factor ** (attempt - 1)
        return min(delay, self.cap)


# ---------------------------------------------------------------------- events


@EVENTS.register
class ResponderPaged(DomainEvent):
    page_id: uuid.UUID
    incident_id: uuid.UUID
    step: int
    user_id: str
    title: str
    plan: tuple[PlannedMethod, ...]
    paged_at: datetime


@EVENTS.register
class PageNotificationScheduled(DomainEvent):
    method_id: str
    attempt: int
    due_at: datetime
    reason: str
    """"rule" (the user's notification rule), "retry", "failover" or "repeat" (the
    previous attempt's outcome is unknown)."""


@EVENTS.register
class PageDeliveryAttempted(DomainEvent):
    """Recorded before the adapter sends: the adapter must send exactly this."""

    schema_version: ClassVar[int] = 2

    method_id: str
    kind: ContactKind
    address: str
    attempt: int
    attempted_at: datetime
    outcome_due_by: datetime
    sender: str | None = None
    """The worker slot that makes the send (v2); a restart of that slot makes every
    earlier instance's unanswered attempts unknown at once."""
    sender_instance: str | None = None
    """The process instance of `sender` that makes the send (v2)."""
    repeat_of: int | None = None
    """Set when an earlier attempt through this method has an unknown outcome (v2):
    this send may repeat it, says so, and carries that attempt's idempotency key."""


@EVENTS.upcaster("PageDeliveryAttempted", 1)
def _attempted_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    # v1 attempts predate sender fencing and repeats.
    return {**payload, "sender": None, "sender_instance": None, "repeat_of": None}


@EVENTS.register
class PageDeliveryUnconfirmed(DomainEvent):
    """An attempt will never report its outcome: its sender is gone, or its deadline
    passed. The message may or may not have left; it is sent again, marked as such."""

    method_id: str
    attempt: int
    reason: str
    detected_at: datetime


@EVENTS.register
class PageDelivered(DomainEvent):
    method_id: str
    attempt: int
    delivered_at: datetime


@EVENTS.register
class PageFailed(DomainEvent):
    method_id: str
    attempt: int
    reason: str
    permanent: bool
    failed_at: datetime


@EVENTS.register
class PageDeliveryExhausted(DomainEvent):
    """Every contact method failed (or there were none): a human must look."""

    reason: str
    at: datetime


@EVENTS.register
class PageAcknowledged(DomainEvent):
    by: str
    via: AckChannel
    acknowledged_at: datetime


@EVENTS.register
class PageCancelled(DomainEvent):
    reason: str
    cancelled_at: datetime


# ---------------------------------------------------------------------- commands


class CreatePage(Command):
    page_id: uuid.UUID
    incident_id: uuid.UUID
    step: int = Field(ge=0)
    user_id: str
    title: str = ""
    plan: tuple[PlannedMethod, ...]


class AttemptDelivery(Command):
    method_id: str
    attempt: int = Field(ge=1)
    outcome_timeout: timedelta = DEFAULT_OUTCOME_TIMEOUT
    sender: str | None = None
    sender_instance: str | None = None


class RecordOutcome(Command):
    method_id: str
    attempt: int = Field(ge=1)
    delivered: bool
    reason: str = ""
    permanent: bool = False
    unknown: bool = False
    """The channel handed the page over but got no answer (an HTTP read timeout or a
    dropped connection after the request was written; an SMTP connection lost after
    DATA): handled like an attempt that never reported (ADR 0011)."""


class TimeOutAttempt(Command):
    """The attempt's outcome deadline passed without a report."""

    method_id: str
    attempt: int = Field(ge=1)


class SenderReplaced(Command):
    """The attempt's sender slot restarted under a new instance: the old instance is
    dead and will never report, so there is no need to wait for the deadline."""

    method_id: str
    attempt: int = Field(ge=1)
    sender_instance: str
    """The instance that recorded the attempt (a guard against a stale due item)."""


class AcknowledgePage(Command):
    by: str = Field(min_length=1, max_length=100)
    via: AckChannel = AckChannel.API


class CancelPage(Command):
    reason: str


PageCommand = (
    CreatePage
    | AttemptDelivery
    | RecordOutcome
    | TimeOutAttempt
    | SenderReplaced
    | AcknowledgePage
    | CancelPage
)

# ---------------------------------------------------------------------- state


class Status(enum.StrEnum):
    NONE = "none"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class InFlight:
    """An attempt awaiting its outcome."""

    attempt: int
    outcome_due_by: datetime
    sender: str | None = None
    sender_instance: str | None = None


@dataclass(frozen=True, slots=True)
class MethodState:
    planned: PlannedMethod
    scheduled: tuple[tuple[int, datetime], ...] = ()
    """(attempt, due_at) not yet attempted."""
    attempts: int = 0
    in_flight: InFlight | None = None
    delivered: bool = False
    exhausted: bool = False
    """Failed permanently or out of retries: never used again."""
    unknown_since: int | None = None
    """The first attempt whose outcome became unknown: every later send through this
    method may repeat it, so it says so and reuses that attempt's idempotency key."""

    def due(self, attempt: int) -> datetime | None:
        return next((due for a, due in self.scheduled if a == attempt), None)


@dataclass(frozen=True, slots=True)
class Page:
    status: Status = Status.NONE
    page_id: uuid.UUID | None = None
    incident_id: uuid.UUID | None = None
    step: int = 0
    user_id: str = ""
    title: str = ""
    paged_at: datetime | None = None
    methods: tuple[MethodState, ...] = ()
    undeliverable: bool = False
    acknowledged_by: str | None = None

    def method(self, method_id: str) -> MethodState | None:
        return next((m for m in self.methods if m.planned.method_id == method_id), None)

    @property
    def delivered(self) -> bool:
        return any(m.delivered for m in self.methods)


INITIAL = Page()


def _with_method(state: Page, method_id: str, **changes: object) -> Page:
    methods = tuple(
        replace(m, **changes) if m.planned.method_id == method_id else m  # type: ignore[arg-type]
        for m in state.methods
    )
    return replace(state, methods=methods)


def evolve(state: Page, event: DomainEvent) -> Page:
    match event:
        case ResponderPaged():
            return Page(
                Status.OPEN,
                event.page_id,
                event.incident_id,
                event.step,
                event.user_id,
                event.title,
                event.paged_at,
                tuple(MethodState(p) for p in event.plan),
            )
        case PageNotificationScheduled():
            method = state.method(event.method_id)
            if method is None:
                return state
            scheduled = (
                *((a, d) for a, d in method.scheduled if a != event.attempt),
                (event.attempt, event.due_at),
            )
            return _with_method(state, event.method_id, scheduled=scheduled)
        case PageDeliveryAttempted():
            method = state.method(event.method_id)
            if method is None:
                return state
            return _with_method(
                state,
                event.method_id,
                scheduled=tuple((a, d) for a, d in method.scheduled if a != event.attempt),
                attempts=max(method.attempts, event.attempt),
                in_flight=InFlight(
                    event.attempt, event.outcome_due_by, event.sender, event.sender_instance
                ),
            )
        case PageDeliveryUnconfirmed():
            method = state.method(event.method_id)
            if method is None:
                return state
            first = method.unknown_since if method.unknown_since is not None else event.attempt
            return _with_method(state, event.method_id, in_flight=None, unknown_since=first)
        case PageDelivered():
            return _with_method(state, event.method_id, in_flight=None, delivered=True)
        case PageFailed():
            return _with_method(state, event.method_id, in_flight=None, exhausted=event.permanent)
        case PageDeliveryExhausted():
            return replace(state, undeliverable=True)
        case PageAcknowledged():
            return replace(state, status=Status.ACKNOWLEDGED, acknowledged_by=event.by)
        case PageCancelled():
            return replace(state, status=Status.CANCELLED)
    return state


def fold(events: Iterable[DomainEvent], state: Page = INITIAL) -> Page:
    for event in events:
        state = evolve(state, event)
    return state


# ---------------------------------------------------------------------- decider


def decide(
    command: PageCommand, state: Page, retry: RetryPolicy | None = None
) -> Sequence[DomainEvent]:
    retry = retry or RetryPolicy()
    if isinstance(command, CreatePage):
        if state.status is not Status.NONE:
            return []  # a re-delivered step creates its pages once
        methods = tuple({p.method_id: p for p in command.plan}.values())
        events: list[DomainEvent] = [
            ResponderPaged(
                page_id=command.page_id,
                incident_id=command.incident_id,
                step=command.step,
                user_id=command.user_id,
                title=command.title,
                plan=methods,
                paged_at=command.at,
            )
        ]
        events += [
            PageNotificationScheduled(
                method_id=p.method_id,
                attempt=1,
                due_at=command.at + timedelta(minutes=p.after_minutes),
                reason="rule",
            )
            for p in methods
        ]
        if not methods:
            events.append(
                PageDeliveryExhausted(
                    reason=f"{command.user_id} has no contact methods", at=command.at
                )
            )
        return events
    if state.status is Status.NONE:
        raise NotFoundError("no such page")
    match command:
        case AttemptDelivery():
            method = state.method(command.method_id)
            if state.status is not Status.OPEN or method is None or method.exhausted:
                return []
            due = method.due(command.attempt)
            if due is None or due > command.at or method.in_flight is not None:
                return []
            return [
                PageDeliveryAttempted(
                    method_id=command.method_id,
                    kind=method.planned.kind,
                    address=method.planned.address,
                    attempt=command.attempt,
                    attempted_at=command.at,
                    outcome_due_by=command.at + command.outcome_timeout,
                    sender=command.sender,
                    sender_instance=command.sender_instance,
                    repeat_of=method.unknown_since,
                )
            ]
        case RecordOutcome():
            return _outcome(command, state, retry)
        case TimeOutAttempt():
            method = state.method(command.method_id)
            flight = method.in_flight if method is not None else None
            if (
                flight is None
                or flight.attempt != command.attempt
                or flight.outcome_due_by > command.at
            ):
                return []
            return _outcome_unknown(
                state,
                command.method_id,
                command.attempt,
                command.at,
                "no outcome was reported by its deadline; it may or may not have been "
                "sent, so it is sent again, marked as a possible repeat",
                retry,
            )
        case SenderReplaced():
            method = state.method(command.method_id)
            flight = method.in_flight if method is not None else None
            if (
                flight is None
                or flight.attempt != command.attempt
                or flight.sender_instance != command.sender_instance
            ):
                return []
            return _outcome_unknown(
                state,
                command.method_id,
                command.attempt,
                command.at,
                f"its sender {flight.sender} restarted before reporting an outcome; it may "
                "or may not have been sent, so it is sent again, marked as a possible repeat",
                retry,
            )
        case AcknowledgePage():
            if state.status is Status.ACKNOWLEDGED:
                return []
            return [PageAcknowledged(by=command.by, via=command.via, acknowledged_at=command.at)]
        case CancelPage():
            if state.status is not Status.OPEN:
                return []
            return [PageCancelled(reason=command.reason, cancelled_at=command.at)]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")


def _outcome(command: RecordOutcome, state: Page, retry: RetryPolicy) -> Sequence[DomainEvent]:
    method = state.method(command.method_id)
    if method is None:
        raise InvalidCommandError("method_id", f"page has no contact method {command.method_id!r}")
    if method.in_flight is None or method.in_flight.attempt != command.attempt:
        if method.attempts < command.attempt:
            raise PreconditionFailedError(
                f"attempt {command.attempt} through {command.method_id!r} was never recorded; "
                "record outcomes only for deliveries returned by tick()"
            )
        return []  # the outcome is already known (a retried report, or timed out)
    if command.delivered:
        return [
            PageDelivered(
                method_id=command.method_id, attempt=command.attempt, delivered_at=command.at
            )
        ]
    if command.unknown:
        if command.permanent:
            raise InvalidCommandError("unknown", "an unknown outcome is not a permanent failure")
        return _outcome_unknown(
            state,
            command.method_id,
            command.attempt,
            command.at,
            f"handed over without an answer ({command.reason or 'no reason given'}); it may "
            "or may not have arrived, so it is sent again, marked as a possible repeat",
            retry,
        )
    give_up = command.permanent or command.attempt >= retry.max_attempts
    events: list[DomainEvent] = [
        PageFailed(
            method_id=command.method_id,
            attempt=command.attempt,
            reason=command.reason or "unknown error",
            permanent=give_up,
            failed_at=command.at,
        )
    ]
    if state.status is not Status.OPEN:
        return events  # acknowledged or cancelled meanwhile: no more tries
    if not give_up:
        events.append(
            PageNotificationScheduled(
                method_id=command.method_id,
                attempt=command.attempt + 1,
                due_at=command.at + retry.delay(command.attempt),
                reason="retry",
            )
        )
        return events
    failover = _failover(state, command.method_id, command.at)
    if failover is not None:
        events += failover
        return events
    others_alive = any(
        m.delivered or (m.in_flight is not None) or m.scheduled
        for m in state.methods
        if m.planned.method_id != command.method_id
    )
    if not others_alive:
        events.append(
            PageDeliveryExhausted(
                reason=f"every contact method of {state.user_id} failed", at=command.at
            )
        )
    return events


def _failover(state: Page, method_id: str, at: datetime) -> list[DomainEvent] | None:
    """The next method in the plan that has not been tried, due now even if its own
    rule would have waited longer; None when every other method was tried."""
    following = [
        m
        for m in state.methods
        if m.planned.method_id != method_id and m.attempts == 0 and not m.exhausted
    ]
    if not following:
        return None
    nxt = following[0]
    due = nxt.due(1)
    if due is not None and due <= at:
        return []  # already due: nothing to bring forward
    return [
        PageNotificationScheduled(
            method_id=nxt.planned.method_id, attempt=1, due_at=at, reason="failover"
        )
    ]


def _outcome_unknown(
    state: Page, method_id: str, attempt: int, at: datetime, reason: str, retry: RetryPolicy
) -> Sequence[DomainEvent]:
    """Nobody will ever report this attempt's outcome. Never silence: send it again
    through the same method (the next attempt says it may be a repeat) and, when the
    user has another method, try that too; a lost page is worse than a repeated one."""
    events: list[DomainEvent] = [
        PageDeliveryUnconfirmed(method_id=method_id, attempt=attempt, reason=reason, detected_at=at)
    ]
    if state.status is not Status.OPEN:
        return events  # acknowledged or cancelled meanwhile: nobody needs it any more
    if attempt >= retry.max_attempts:
        # A sender that dies on every try of this method (a poison message) must not
        # loop for ever: after max_attempts the method is given up like any failure.
        outcome = RecordOutcome(
            at=at,
            method_id=method_id,
            attempt=attempt,
            delivered=False,
            reason=f"{attempt} attempts without a known outcome",
            permanent=True,
        )
        return [*events, *_outcome(outcome, state, retry)]
    events.append(
        PageNotificationScheduled(
            method_id=method_id, attempt=attempt + 1, due_at=at, reason="repeat"
        )
    )
    events += _failover(state, method_id, at) or []
    return events
