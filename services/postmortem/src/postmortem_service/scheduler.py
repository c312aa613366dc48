"""The postmortem service's reminder scheduler: everything it does because time passed.

Owns `tick()`: from the due-work projection (`model.PostmortemModel.due`, fed by the
kit's projection runner) it fires every reminder slot, escalation, retry and
unknown-outcome resend whose time has come, each exactly once, and hands the attempts it
has just *recorded* (ReminderAttempted) to the caller as `Reminder`s; then
`record_reminder_outcome` records what the sending did (ADR 0011, ADR 0016).

Exactly once: the commands' event ids derive from the item and the due work, and a
`Reminder` is handed out only by the call whose append wrote its attempt (checked by the
sender instance the attempt records). It never sends anything, never sleeps and never
reads the wall clock; `PostmortemApplication` wires it and lists its use cases.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from appkit import Aggregate, CommandResult, CommandRunner, ProjectionRunner
from contracts.domain import DomainError
from eventlog import EventStore, RecordedEvent
from eventlog.clock import Clock
from postmortem_service import action as ac
from postmortem_service.common import ID_NAMESPACE, build
from postmortem_service.model import Directory, DueEntry, PostmortemModel

log = logging.getLogger(__name__)
MAX_TICK_PASSES = 100


@dataclass(frozen=True, slots=True)
class Reminder:
    """One recorded reminder attempt, handed to this process to send exactly once."""

    action_id: uuid.UUID
    incident_id: uuid.UUID
    slot: str
    target: ac.Target
    attempt: int
    title: str
    owner: str
    due_on: date
    attempt_event_id: uuid.UUID
    idempotency_key: uuid.UUID
    possible_repeat: bool

    @property
    def escalation(self) -> bool:
        return self.slot == "escalation"


class ReminderScheduler:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        runner: CommandRunner,
        actions: Aggregate[ac.ActionCommand, ac.ActionItem],
        model: ProjectionRunner[PostmortemModel],
        directory: Callable[[], Directory],
        policy: ac.ReminderPolicy,
        sender: str,
        actor: str,
    ) -> None:
        self.store = store
        self.clock = clock
        self.runner = runner
        self.actions = actions
        self.model = model
        self._directory = directory
        self.policy = policy
        self.sender = sender
        self.actor = actor

    def tick(self) -> list[Reminder]:
        """Fire everything due now, each exactly once; return the attempts recorded
        by this call for the caller to send."""
        now = self.clock()
        reminders: list[Reminder] = []
        handled: set[tuple[str, str, str, str, int]] = set()
        for _ in range(MAX_TICK_PASSES):
            self.model.catch_up()
            entries = [e for e in self.model.projection.due(now) if _entry_key(e) not in handled]
            if not entries:
                break
            for entry in entries:
                handled.add(_entry_key(entry))
                try:
                    reminders.extend(self._run(entry, now))
                except DomainError:
                    log.exception("postmortem: due work %s could not be done", _entry_key(entry))
        return reminders

    def _run(self, entry: DueEntry, now: datetime) -> list[Reminder]:
        state: ac.ActionItem = self.model.projection.state(entry.stream)[0]
        action_id = state.action_id
        assert action_id is not None
        due = entry.due
        timeout = self.policy.outcome_timeout
        command: ac.ActionCommand
        match due.work:
            case ac.Work.SLOT:
                slot = ac.current_slot(state, self.policy, now)
                if slot is None:
                    return []
                command = ac.SendReminder(
                    at=now, slot=slot, targets=tuple(self._directory().targets(state.owner)),
                    outcome_timeout=timeout, sender=self.sender,
                )  # fmt: skip
                key = f"slot/{slot}"
            case ac.Work.ESCALATION:
                directory = self._directory()
                members = [
                    m
                    for t in directory.teams_of(state.owner)
                    for m in t.members
                    if m != state.owner
                ]
                targets = [t for m in dict.fromkeys(members) for t in directory.targets(m)]
                command = ac.SendReminder(
                    at=now, slot="escalation", targets=tuple(targets), outcome_timeout=timeout,
                    sender=self.sender,
                )  # fmt: skip
                key = "slot/escalation"
            case ac.Work.RETRY:
                command = ac.RetryReminder(
                    at=now, slot=due.slot, target_key=due.target_key, attempt=due.attempt,
                    outcome_timeout=timeout, sender=self.sender,
                )  # fmt: skip
                key = f"retry/{due.slot}/{due.target_key}/{due.attempt}"
            case ac.Work.OUTCOME_OVERDUE:
                command = ac.TimeOutReminder(
                    at=now, slot=due.slot, target_key=due.target_key, attempt=due.attempt,
                    outcome_timeout=timeout, sender=self.sender,
                )  # fmt: skip
                key = f"outcome/{due.slot}/{due.target_key}/{due.attempt}"
        result = self._action(action_id, command, actor=self.actor, key=key)
        return self._handed_out(result)

    def _handed_out(self, result: CommandResult[ac.ActionItem]) -> list[Reminder]:
        """The attempts this call wrote, and only those: a racing worker that appended
        the same derived events finds another sender recorded and sends nothing."""
        attempts = [e for e in result.events if isinstance(e, ac.ReminderAttempted)]
        if not attempts:
            return []
        state = result.state
        assert state.action_id
        assert state.incident_id
        assert state.due_on
        written = self.store.read_stream(
            result.stream, from_version=(result.version or 0) - len(result.events) + 1
        )
        ids: dict[tuple[Any, Any, str], RecordedEvent] = {
            (r.data.get("slot"), r.data.get("attempt"), _target_key(r.data)): r
            for r in written
            if r.type == "ReminderAttempted"
        }
        reminders: list[Reminder] = []
        for event in attempts:
            recorded = ids.get((event.slot, event.attempt, event.target.key))
            if recorded is None or recorded.data.get("sender") != self.sender:
                continue
            if event.target.kind == "none":
                self.record_reminder_outcome(
                    state.action_id,
                    event.slot,
                    event.target.key,
                    event.attempt,
                    delivered=False,
                    reason="nobody to reach: no contact method (or no teammate to escalate to)",
                    permanent=True,
                )
                continue
            first = event.repeat_of
            reminders.append(
                Reminder(
                    action_id=state.action_id,
                    incident_id=state.incident_id,
                    slot=event.slot,
                    target=event.target,
                    attempt=event.attempt,
                    title=state.title,
                    owner=state.owner,
                    due_on=state.due_on,
                    attempt_event_id=recorded.id,
                    idempotency_key=_attempt_key(
                        state.action_id, event.slot, event.target.key, first
                    )
                    if first is not None
                    else _attempt_key(state.action_id, event.slot, event.target.key, event.attempt),
                    possible_repeat=first is not None,
                )
            )
        return reminders

    def record_reminder_outcome(
        self,
        action_id: uuid.UUID,
        slot: str,
        target_key: str,
        attempt: int,
        *,
        delivered: bool,
        reason: str = "",
        permanent: bool = False,
        unknown: bool = False,
    ) -> CommandResult[ac.ActionItem]:
        command = build(
            ac.RecordReminderOutcome,
            at=self.clock(),
            slot=slot,
            target_key=target_key,
            attempt=attempt,
            delivered=delivered,
            reason=reason[:2000],
            permanent=permanent,
            unknown=unknown,
        )
        return self._action(
            action_id, command, actor=self.actor, key=f"outcome/{slot}/{target_key}/{attempt}/r"
        )

    def pending_work(self) -> list[DueEntry]:
        """Everything the scheduler still has to do, due or not (for tests and ops)."""
        self.model.catch_up()
        return self.model.projection.due(datetime.max.replace(tzinfo=self.clock().tzinfo))

    def _action(
        self, action_id: uuid.UUID, command: ac.ActionCommand, *, actor: str, key: str
    ) -> CommandResult[ac.ActionItem]:
        return self.runner.execute(
            self.actions, ac.stream_for(action_id), command, actor=actor, key=key
        )


def _target_key(data: Mapping[str, Any]) -> str:
    target = data.get("target") or {}
    return f"{target.get('user_id')}/{target.get('method_id')}"


def _entry_key(entry: DueEntry) -> tuple[str, str, str, str, int]:
    due = entry.due
    return (entry.stream, due.work.name, due.slot, due.target_key, due.attempt)


def _attempt_key(action_id: uuid.UUID, slot: str, target_key: str, attempt: int) -> uuid.UUID:
    """A reminder's idempotency key for receivers (email Message-ID, webhook header):
    the same for a resend of an attempt whose outcome was unknown."""
    return uuid.uuid5(ID_NAMESPACE, f"reminder/{action_id}/{slot}/{target_key}/{attempt}")
