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
- an attempt with no outcome by its deadline counts as a permanent failure of that
  method: the sender may have crashed *after* sending, and at-most-once per method
  matters more than one more try through it. The next method is used instead;
- an acknowledgement (or the escalation stopping) closes the page: nothing pending fires.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

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
    """How long an attempt may stay without an outcome before it counts as failed."""

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
    """"rule" (the user's notification rule), "retry" or "failover"."""


@EVENTS.register
class PageDeliveryAttempted(DomainEvent):
    """Recorded before the adapter sends: the adapter must send exactly this."""

    method_id: str
    kind: ContactKind
    address: str
    attempt: int
    attempted_at: datetime
    outcome_due_by: datetime


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


class RecordOutcome(Command):
    method_id: str
    attempt: int = Field(ge=1)
    delivered: bool
    reason: str = ""
    permanent: bool = False


class TimeOutAttempt(Command):
    method_id: str
    attempt: int = Field(ge=1)


class AcknowledgePage(Command):
    by: str = Field(min_length=1, max_length=100)
    via: AckChannel = AckChannel.API


class CancelPage(Command):
    reason: str


PageCommand = (
    CreatePage | AttemptDelivery | RecordOutcome | TimeOutAttempt | AcknowledgePage | CancelPage
)

# ---------------------------------------------------------------------- state


class Status(enum.StrEnum):
    NONE = "none"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class MethodState:
    planned: PlannedMethod
    scheduled: tuple[tuple[int, datetime], ...] = ()
    """(attempt, due_at) not yet attempted."""
    attempts: int = 0
    in_flight: tuple[int, datetime] | None = None
    """(attempt, outcome_due_by) of an attempt awaiting its outcome."""
    delivered: bool = False
    exhausted: bool = False
    """Failed permanently, timed out, or out of retries: never used again."""

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
                in_flight=(event.attempt, event.outcome_due_by),
            )
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
                )
            ]
        case RecordOutcome():
            return _outcome(command, state, retry)
        case TimeOutAttempt():
            method = state.method(command.method_id)
            if (
                method is None
                or method.in_flight is None
                or method.in_flight[0] != command.attempt
                or method.in_flight[1] > command.at
            ):
                return []
            outcome = RecordOutcome(
                at=command.at,
                method_id=command.method_id,
                attempt=command.attempt,
                delivered=False,
                reason="no outcome was reported in time; the sender may have crashed after "
                "sending, so this method is not tried again",
                permanent=True,
            )
            return _outcome(outcome, state, retry)
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
    if method.in_flight is None or method.in_flight[0] != command.attempt:
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
    # Fail over: the next method in the plan that has not been tried is due now, even
    # if its own rule would have waited longer.
    following = [
        m
        for m in state.methods
        if m.planned.method_id != command.method_id and m.attempts == 0 and not m.exhausted
    ]
    if following:
        nxt = following[0]
        due = nxt.due(1)
        if due is None or due > command.at:
            events.append(
                PageNotificationScheduled(
                    method_id=nxt.planned.method_id, attempt=1, due_at=command.at, reason="failover"
                )
            )
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
