"""The action ledger of one automated step (stream `rbaction-<runbook>:<step>`): every
run of that step, for every incident and target, and every attempt to perform it.

Guard rails are decided here, against every run of the step, so two workers racing
for the same step meet in one stream (optimistic concurrency) and cannot both pass:

- a severity floor (the incident must be at least this severe);
- never while a run of this step for the same target is still active;
- at most `max_runs` runs per `per_minutes` (refused runs do not count);
- approval by the incident commander when the step needs it (ActionRunApproved);
- dry run: the request is rendered and recorded (ActionDryRunRecorded), never sent.

Execution (ADR 0011's rule, applied to actions): the worker records ActionAttempted
(its slot, its process instance, a deadline) *before* the call, and
ActionResultRecorded (status, duration, the first KiB of the response) after it; a
timeout is a result. An attempt left without a result (the worker died mid-call, or
the deadline passed) is, on the next claim:

- idempotent step: attempted again at once with the *same* idempotency key (the run
  id), `repeat_of` the lost attempt, so the receiver can drop a duplicate;
- otherwise: ActionOutcomeUnconfirmed, never sent again: 'outcome unknown, check by hand'.

A non-idempotent step is never retried after an ambiguous failure either (a timeout or
a connection cut after the request left); an idempotent one is retried with backoff.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import bisect
import enum
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from contracts.domain import NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from runbooks_service.common import EVENTS, Command, Person, Severity
from runbooks_service.definition import Guards

STREAM_CATEGORY = "rbaction"
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(seconds=2)
EXCERPT_BYTES = 2048
"""The first bytes of a response kept in the log."""


def stream_for(runbook_id: str, step_id: str) -> str:
    return f"{STREAM_CATEGORY}-{runbook_id}:{step_id}"


class RunStatus(enum.StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    QUEUED = "queued"
    SENDING = "sending"
    RETRY_WAIT = "retry_wait"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """Outcome unknown: check by hand."""
    DRY_RUN = "dry_run"


ACTIVE = frozenset(
    {RunStatus.AWAITING_APPROVAL, RunStatus.QUEUED, RunStatus.SENDING, RunStatus.RETRY_WAIT}
)


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRYING = "retrying"
    UNKNOWN = "unknown"


# ---------------------------------------------------------------------------- events


@EVENTS.register
class ActionRunRequested(DomainEvent):
    run_id: uuid.UUID
    incident_id: uuid.UUID
    runbook_id: str
    revision: int
    step_id: str
    kind: str
    target: str
    request: dict[str, Any]
    """The rendered request (secrets only named)."""
    idempotent: bool
    needs_approval: bool
    dry_run: bool
    automatic: bool
    requested_by: str
    requested_at: datetime


@EVENTS.register
class ActionRunRefused(DomainEvent):
    """A guard rail stopped a run before anything was sent."""

    run_id: uuid.UUID
    incident_id: uuid.UUID
    runbook_id: str
    step_id: str
    target: str
    reason: str
    automatic: bool
    refused_at: datetime


@EVENTS.register
class ActionRunApproved(DomainEvent):
    run_id: uuid.UUID
    incident_id: uuid.UUID
    approved_by: str
    approved_at: datetime


@EVENTS.register
class ActionAttempted(DomainEvent):
    """Recorded before the call: the intent."""

    run_id: uuid.UUID
    incident_id: uuid.UUID
    attempt: int
    idempotency_key: str
    sender: str
    sender_instance: str
    deadline: datetime
    repeat_of: int | None = None
    """The attempt whose result was lost, when this one sends the same request again."""
    attempted_at: datetime


@EVENTS.register
class ActionResultRecorded(DomainEvent):
    """Recorded after the call (a timeout is a result)."""

    run_id: uuid.UUID
    incident_id: uuid.UUID
    attempt: int
    outcome: Outcome
    status_code: int | None = None
    duration_ms: int
    response_excerpt: str = ""
    error: str = ""
    timed_out: bool = False
    retry_at: datetime | None = None
    recorded_at: datetime


@EVENTS.register
class ActionOutcomeUnconfirmed(DomainEvent):
    """A non-idempotent call whose result was lost: never sent again; check by hand."""

    run_id: uuid.UUID
    incident_id: uuid.UUID
    attempt: int
    reason: str
    recorded_at: datetime


@EVENTS.register
class ActionDryRunRecorded(DomainEvent):
    run_id: uuid.UUID
    incident_id: uuid.UUID
    request: dict[str, Any]
    recorded_at: datetime


# -------------------------------------------------------------------------- commands


class Claim(Command):
    """The worker asks: does run `run_id` need an attempt from me now?"""

    run_id: uuid.UUID
    sender: str
    instance: str
    timeout: timedelta


class RequestRun(Command):
    run_id: uuid.UUID
    incident_id: uuid.UUID
    severity: Severity
    runbook_id: str
    revision: int
    step_id: str
    kind: str
    target: str = Field(min_length=1, max_length=500)
    request: dict[str, Any]
    idempotent: bool
    guards: Guards
    automatic: bool
    by: Person
    claim: Claim | None = None
    """The worker requesting a run it will perform at once: the first attempt is
    decided with the request, so one append records both before the call."""


class ApproveRun(Command):
    run_id: uuid.UUID
    by: Person
    commander: str | None
    """The incident's commander now (read by the application from the incident)."""


class RecordResult(Command):
    run_id: uuid.UUID
    attempt: int
    ok: bool
    status_code: int | None = None
    duration_ms: int = Field(ge=0)
    response_excerpt: str = Field(default="", max_length=EXCERPT_BYTES * 4)
    error: str = Field(default="", max_length=2_000)
    timed_out: bool = False
    ambiguous: bool = False
    """The request may have been processed (timeout, connection cut after sending)."""


RunCommand = RequestRun | ApproveRun | Claim | RecordResult


# ----------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Attempt:
    number: int
    sender: str
    instance: str
    deadline: datetime
    repeat_of: int | None = None
    settled: bool = False


@dataclass(frozen=True, slots=True)
class Run:
    run_id: uuid.UUID
    incident_id: uuid.UUID
    runbook_id: str
    revision: int
    step_id: str
    kind: str
    target: str
    request: dict[str, Any]
    idempotent: bool
    dry_run: bool
    automatic: bool
    requested_at: datetime
    status: RunStatus
    requested_by: str = ""
    approved_by: str | None = None
    attempts: tuple[Attempt, ...] = ()
    retry_at: datetime | None = None
    last_result: dict[str, Any] | None = None

    @property
    def open_attempt(self) -> Attempt | None:
        if self.attempts and not self.attempts[-1].settled:
            return self.attempts[-1]
        return None


@dataclass(frozen=True, slots=True)
class Ledger:
    runs: dict[uuid.UUID, Run] = field(default_factory=dict)
    refused: frozenset[uuid.UUID] = frozenset()
    active: dict[str, tuple[uuid.UUID, ...]] = field(default_factory=dict)
    """Target -> its runs still in an ACTIVE status, oldest first: the guard rail's
    "one run per target" without scanning every run this step ever had."""
    requested: tuple[datetime, ...] = ()
    """Every run's request time, sorted: the rate limit counts a window by bisection."""

    def run(self, run_id: uuid.UUID) -> Run:
        found = self.runs.get(run_id)
        if found is None:
            raise NotFoundError(f"no action run {run_id}")
        return found


INITIAL = Ledger()


def _refusal(command: RequestRun, state: Ledger) -> str | None:
    floor = command.guards.severity_floor
    if floor is not None and not command.severity.at_least(floor):
        return f"severity {command.severity} is below the step's floor {floor}"
    running = state.active.get(command.target)
    if running:
        return f"already running for {command.target} (run {running[0]})"
    since = command.at - timedelta(minutes=command.guards.per_minutes)
    recent = len(state.requested) - bisect.bisect_right(state.requested, since)
    if recent >= command.guards.max_runs:
        return (
            f"limit reached: {recent} runs in the last {command.guards.per_minutes} min "
            f"(at most {command.guards.max_runs})"
        )
    return None


def decide(command: RunCommand, state: Ledger) -> list[DomainEvent]:
    match command:
        case RequestRun():
            if command.run_id in state.runs or command.run_id in state.refused:
                return []  # this run was decided already
            reason = _refusal(command, state)
            if reason is not None:
                return [
                    ActionRunRefused(
                        run_id=command.run_id,
                        incident_id=command.incident_id,
                        runbook_id=command.runbook_id,
                        step_id=command.step_id,
                        target=command.target,
                        reason=reason,
                        automatic=command.automatic,
                        refused_at=command.at,
                    )
                ]
            requested = ActionRunRequested(
                run_id=command.run_id,
                incident_id=command.incident_id,
                runbook_id=command.runbook_id,
                revision=command.revision,
                step_id=command.step_id,
                kind=command.kind,
                target=command.target,
                request=command.request,
                idempotent=command.idempotent,
                needs_approval=command.guards.needs_approval,
                dry_run=command.guards.dry_run,
                automatic=command.automatic,
                requested_by=command.by,
                requested_at=command.at,
            )
            if command.claim is None:
                return [requested]
            after = evolve(state, requested)
            return [requested, *_claim(command.claim, after.runs.get(command.run_id))]
        case ApproveRun():
            run = state.run(command.run_id)
            if run.status != RunStatus.AWAITING_APPROVAL:
                if run.approved_by is not None:
                    return []
                raise PreconditionFailedError(f"run {run.run_id} does not need approval")
            if not command.commander:
                raise PreconditionFailedError(
                    "the incident has no commander yet; assign one to approve this action"
                )
            if command.by != command.commander:
                raise PreconditionFailedError(
                    f"only the incident commander ({command.commander}) can approve this action"
                )
            return [
                ActionRunApproved(
                    run_id=run.run_id,
                    incident_id=run.incident_id,
                    approved_by=command.by,
                    approved_at=command.at,
                )
            ]
        case Claim():
            return _claim(command, state.runs.get(command.run_id))
        case RecordResult():
            return _result(command, state.runs.get(command.run_id))


def _claim(command: Claim, run: Run | None) -> list[DomainEvent]:
    if run is None or run.status not in ACTIVE or run.status == RunStatus.AWAITING_APPROVAL:
        return []
    if run.dry_run:
        return [
            ActionDryRunRecorded(
                run_id=run.run_id,
                incident_id=run.incident_id,
                request=run.request,
                recorded_at=command.at,
            )
        ]
    repeat_of: int | None = None
    open_attempt = run.open_attempt
    if open_attempt is not None:
        lost = (
            open_attempt.sender == command.sender and open_attempt.instance != command.instance
        ) or open_attempt.deadline <= command.at
        if not lost:
            return []  # still in flight
        if not run.idempotent:
            return [
                ActionOutcomeUnconfirmed(
                    run_id=run.run_id,
                    incident_id=run.incident_id,
                    attempt=open_attempt.number,
                    reason="the worker stopped during the call; it may or may not have "
                    "reached the receiver",
                    recorded_at=command.at,
                )
            ]
        if len(run.attempts) >= MAX_ATTEMPTS:
            return [
                ActionResultRecorded(
                    run_id=run.run_id,
                    incident_id=run.incident_id,
                    attempt=open_attempt.number,
                    outcome=Outcome.FAILED,
                    duration_ms=0,
                    error=f"no result after {MAX_ATTEMPTS} attempts",
                    recorded_at=command.at,
                )
            ]
        repeat_of = open_attempt.number
    elif run.status == RunStatus.RETRY_WAIT and run.retry_at and run.retry_at > command.at:
        return []
    return [
        ActionAttempted(
            run_id=run.run_id,
            incident_id=run.incident_id,
            attempt=len(run.attempts) + 1,
            idempotency_key=str(run.run_id),
            sender=command.sender,
            sender_instance=command.instance,
            deadline=command.at + command.timeout,
            repeat_of=repeat_of,
            attempted_at=command.at,
        )
    ]


def _result(command: RecordResult, run: Run | None) -> list[DomainEvent]:
    if run is None or run.open_attempt is None or run.open_attempt.number != command.attempt:
        return []  # late: the attempt was settled (unknown, or resent) meanwhile
    retry_at: datetime | None = None
    if command.ok:
        outcome = Outcome.SUCCEEDED
    elif command.ambiguous and not run.idempotent:
        outcome = Outcome.UNKNOWN
    elif run.idempotent and len(run.attempts) < MAX_ATTEMPTS and _retryable(command):
        outcome = Outcome.RETRYING
        retry_at = command.at + RETRY_BASE * (3 ** (len(run.attempts) - 1))
    else:
        outcome = Outcome.FAILED
    return [
        ActionResultRecorded(
            run_id=run.run_id,
            incident_id=run.incident_id,
            attempt=command.attempt,
            outcome=outcome,
            status_code=command.status_code,
            duration_ms=command.duration_ms,
            response_excerpt=command.response_excerpt,
            error=command.error,
            timed_out=command.timed_out,
            retry_at=retry_at,
            recorded_at=command.at,
        )
    ]


def _retryable(command: RecordResult) -> bool:
    code = command.status_code
    return code is None or code == 429 or code >= 500


_STATUS = {
    Outcome.SUCCEEDED: RunStatus.SUCCEEDED,
    Outcome.FAILED: RunStatus.FAILED,
    Outcome.RETRYING: RunStatus.RETRY_WAIT,
    Outcome.UNKNOWN: RunStatus.UNKNOWN,
}


def _settle(run: Run) -> tuple[Attempt, ...]:
    if run.open_attempt is None:
        return run.attempts
    return (*run.attempts[:-1], replace(run.attempts[-1], settled=True))


def evolve(state: Ledger, event: DomainEvent) -> Ledger:
    match event:
        case ActionRunRequested():
            run = Run(
                run_id=event.run_id,
                incident_id=event.incident_id,
                runbook_id=event.runbook_id,
                revision=event.revision,
                step_id=event.step_id,
                kind=event.kind,
                target=event.target,
                request=event.request,
                idempotent=event.idempotent,
                dry_run=event.dry_run,
                automatic=event.automatic,
                requested_at=event.requested_at,
                requested_by=event.requested_by,
                status=RunStatus.AWAITING_APPROVAL if event.needs_approval else RunStatus.QUEUED,
            )
            # A repeated request for a run already known replaces it, as the scan did
            # (decide never records one; a hand-edited log might).
            before = state.runs.get(run.run_id)
            requested = list(state.requested)
            if before is not None:
                requested.remove(before.requested_at)
            bisect.insort(requested, run.requested_at)
            return _with_run(replace(state, requested=tuple(requested)), before, run)
        case ActionRunRefused():
            return replace(state, refused=state.refused | {event.run_id})
    run_id = getattr(event, "run_id", None)
    found = state.runs.get(run_id) if isinstance(run_id, uuid.UUID) else None
    if found is None:
        return state
    run = found
    match event:
        case ActionRunApproved():
            run = replace(run, status=RunStatus.QUEUED, approved_by=event.approved_by)
        case ActionAttempted():
            attempt = Attempt(
                event.attempt, event.sender, event.sender_instance, event.deadline, event.repeat_of
            )
            run = replace(
                run, status=RunStatus.SENDING, attempts=(*_settle(run), attempt), retry_at=None
            )
        case ActionResultRecorded():
            run = replace(
                run,
                status=_STATUS[event.outcome],
                attempts=_settle(run),
                retry_at=event.retry_at,
                last_result=event.model_dump(mode="json"),
            )
        case ActionOutcomeUnconfirmed():
            run = replace(run, status=RunStatus.UNKNOWN, attempts=_settle(run))
        case ActionDryRunRecorded():
            run = replace(run, status=RunStatus.DRY_RUN)
        case _:
            return state
    return _with_run(state, found, run)


def _with_run(state: Ledger, before: Run | None, run: Run) -> Ledger:
    """`state` with `run` stored, and its target's active runs kept in step."""
    active = state.active
    if before is not None and before.status in ACTIVE:
        active = dict(active)
        left = tuple(i for i in active.get(before.target, ()) if i != before.run_id)
        if left:
            active[before.target] = left
        else:
            active.pop(before.target, None)
    if run.status in ACTIVE:
        active = dict(active) if active is state.active else active
        active[run.target] = (*active.get(run.target, ()), run.run_id)
    return replace(state, runs={**state.runs, run.run_id: run}, active=active)
