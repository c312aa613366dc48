"""The escalation runtime's scheduler: everything paging does because time passed.

Owns `tick()`: from the due-items projection (`due.py`, fed by the kit's projection
runner) it fires escalation steps, un-ack timeouts and business-hours deferrals,
creates the pages of a fired step, settles attempts whose outcome is overdue or whose
sender was replaced, advances past pages nobody could receive (paging the operators'
fallback route when nobody at all was reached), and records the delivery attempts it
then hands to the adapters as `Delivery`s. It also owns the worker's sender slot
(`start_sender`).

Exactly once (ADR 0009, 0011): ids of timer firings and follow-ups derive from what
caused them, so a crashed and retried tick or two racing workers append the same ids;
a `Delivery` is handed out only by the call whose append wrote its attempt (checked by
the sender instance the attempt records). It never sends anything itself.

One transaction per firing (ADR 0028): firing a step, creating its pages and recording
the attempts due at once are one unit of work (`CommandRunner.atomically`), so a
crash leaves either none of it or all of it (the attempt then recovers as any recorded,
unreported attempt does). The due items still finish any half-done firing that an
older log or another backend left behind.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from appkit import CommandResult, CommandRunner, ProjectionRunner
from contracts.domain import DomainError
from eventlog import EventStore
from eventlog.clock import Clock
from paging_service import escalation as esc
from paging_service import metrics
from paging_service import page as pg
from paging_service import sender as snd
from paging_service import user as usr
from paging_service.aggregates import ATTEMPT_IDS, ESCALATION, SENDER, USER, attempt_key
from paging_service.common import Urgency
from paging_service.directory import Directory
from paging_service.due import DueItem, DueItems, DueKind
from paging_service.escalations import Escalations
from paging_service.user import ContactKind

log = logging.getLogger(__name__)
MAX_TICK_PASSES = 1000
"""A tick repeats until nothing more is due; this only guards against a logic bug."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A recorded attempt the delivery adapter must now make, once."""

    attempt_event_id: uuid.UUID
    page_id: uuid.UUID
    incident_id: uuid.UUID
    user_id: str
    method_id: str
    kind: ContactKind
    address: str
    attempt: int
    title: str
    attempted_at: datetime
    outcome_due_by: datetime
    ack_token: str | None = None
    ack_url: str | None = None
    possible_repeat: bool = False
    """An earlier attempt through this method may have gone out (its outcome is
    unknown): the message must say so."""
    idempotency_key: uuid.UUID | None = None
    """The email Message-ID / webhook Idempotency-Key: the attempt's own id, or for a
    possible repeat the id of the attempt it may repeat, so receivers that deduplicate
    drop it."""

    @property
    def to_operators(self) -> bool:
        """The platform's own alert: an escalation reached nobody."""
        return self.user_id == esc.FALLBACK_RECIPIENT


class Scheduler:
    def __init__(
        self,
        runner: CommandRunner,
        store: EventStore,
        clock: Clock,
        directory: Directory,
        escalations: Escalations,
        *,
        sender: str,
        instance: str,
        fallback: Sequence[pg.PlannedMethod],
    ) -> None:
        self.runner = runner
        self.clock = clock
        self.directory = directory
        self.escalations = escalations
        self.sender = sender
        self.instance = instance
        self.fallback = tuple(fallback)
        self.due = ProjectionRunner(store, DueItems)

    @property
    def actor(self) -> str:
        """Who the scheduler's own events name: the worker slot, stable across restarts."""
        return f"paging-worker:{self.sender}"

    def start_sender(self) -> CommandResult[snd.Sender]:
        """Record that this process now sends for its slot (call once at start, before
        the first tick): the previous instance's unanswered attempts become unknown and
        are sent again by the next tick instead of after their deadline."""
        command = snd.StartSender(at=self.clock(), sender=self.sender, instance=self.instance)
        return self.runner.execute(
            SENDER,
            snd.stream_for(self.sender),
            command,
            actor=self.actor,
            key=f"start/{self.instance}",
        )

    def pending_timers(self) -> list[DueItem]:
        """Every timer and follow-up not yet done, soonest first (for ops and tests)."""
        self.due.catch_up()
        return self.due.projection.pending()

    def tick(self) -> list[Delivery]:
        """Fire everything due at the clock's now, each exactly once; return the
        deliveries recorded by this call, for the adapter to make."""
        now = self.clock()
        deliveries: list[Delivery] = []
        handled: set[tuple[tuple[object, ...], datetime]] = set()
        for _ in range(MAX_TICK_PASSES):
            self.due.catch_up()
            due = self.due.projection.due(now)
            items = [i for i in due if (i.key, i.due_at) not in handled]
            if not items:
                break
            for item in items:
                handled.add((item.key, item.due_at))
                try:
                    deliveries += self._run(item, now)
                except DomainError:
                    # One item the domain refuses (e.g. a page whose data no longer
                    # makes sense) must not stop every other escalation; it stays in
                    # the log for an operator. Store failures still propagate.
                    log.exception("paging: due item %s could not be handled", item.key)
                    continue
        return deliveries

    def _run(self, item: DueItem, now: datetime) -> list[Delivery]:
        escalations = self.escalations
        match item.kind:
            case DueKind.STEP:
                assert item.incident_id is not None
                assert item.step is not None
                return self._fire_step(item.incident_id, item.step, now)
            case DueKind.UNACK_TIMEOUT:
                assert item.incident_id is not None
                assert item.round is not None
                command = esc.FireUnackTimeout(at=now, round=item.round)
                escalations.escalate(
                    item.incident_id,
                    command,
                    key=f"unack/{item.round}",
                    causation_id=None,
                    actor=self.actor,
                )
            case DueKind.CREATE_PAGES:
                assert item.incident_id is not None
                assert item.step is not None
                state = escalations.get_escalation(item.incident_id)
                self._create_pages(item.incident_id, item.step, state)
            case DueKind.CLOSE_PAGE:
                assert item.incident_id is not None
                assert item.page_id is not None
                state = escalations.get_escalation(item.incident_id)
                escalations.close_page(state, item.page_id, now, actor=self.actor)
            case DueKind.OUTCOME_OVERDUE:
                assert item.page_id is not None
                assert item.method_id
                assert item.attempt
                unknown: pg.PageCommand
                if item.orphaned and item.sender_instance is not None:
                    unknown = pg.SenderReplaced(
                        at=now,
                        method_id=item.method_id,
                        attempt=item.attempt,
                        sender_instance=item.sender_instance,
                    )
                else:
                    unknown = pg.TimeOutAttempt(
                        at=now, method_id=item.method_id, attempt=item.attempt
                    )
                key = f"outcome/{item.method_id}/{item.attempt}"
                escalations.page(item.page_id, unknown, key=key, actor=self.actor)
            case DueKind.ADVANCE:
                assert item.incident_id is not None
                assert item.page_id is not None
                self._advance(item, now)
            case DueKind.FALLBACK_PAGE:
                assert item.incident_id is not None
                assert item.page_id is not None
                self._create_fallback_page(item.incident_id, item.page_id, now)
            case DueKind.NOTIFY:
                assert item.page_id is not None
                assert item.method_id
                assert item.attempt
                delivery = self._attempt(item.page_id, item.method_id, item.attempt, now)
                return [] if delivery is None else [delivery]
        return []

    def start_and_fire(
        self, incident_id: uuid.UUID, start: Callable[[], esc.Escalation]
    ) -> list[Delivery]:
        """Run `start` (starting `incident_id`'s escalation) and, when its first step is
        due at once, fire it, create its pages and record their first attempts, all in
        ONE transaction; the deliveries this call recorded (as `tick()` hands them out).
        A refusal of the firing leaves the start to commit alone; the tick fires it."""
        recorded: list[CommandResult[pg.Page]] = []

        def body() -> None:
            recorded.clear()  # the unit may run again after a conflict
            state = start()
            now = self.clock()
            pending = state.pending
            if state.status is not esc.Status.ACTIVE or pending is None or pending.due_at > now:
                return
            try:
                recorded.extend(self._fire_unit(incident_id, pending.step, now, state))
            except DomainError:
                log.exception("paging: first step of %s left to the tick", incident_id)

        self.runner.atomically(body)
        return self._hand_out(recorded, self.clock())

    def _fire_step(self, incident_id: uuid.UUID, step: int, now: datetime) -> list[Delivery]:
        """Fire the step, create its pages and record the attempts due at once, in one
        transaction; the deliveries this call recorded."""
        state = self.escalations.get_escalation(incident_id)
        recorded: list[CommandResult[pg.Page]] = []

        def body() -> None:
            recorded.clear()  # the unit may run again after a conflict
            recorded.extend(self._fire_unit(incident_id, step, now, state))

        self.runner.atomically(body)
        return self._hand_out(recorded, now)

    def _hand_out(
        self, recorded: Sequence[CommandResult[pg.Page]], now: datetime
    ) -> list[Delivery]:
        """After the unit's commit: the deliveries whose attempts this process wrote."""
        deliveries = [self._handed_out(result, now) for result in recorded]
        return [d for d in deliveries if d is not None]

    def _fire_unit(
        self, incident_id: uuid.UUID, step: int, now: datetime, state: esc.Escalation
    ) -> list[CommandResult[pg.Page]]:
        """Inside a unit of work: fire `step` of the escalation (`state`: as loaded, or
        as the unit left it), create its pages and record the attempts due at once;
        the recorded attempts, to hand out once the unit has committed."""
        pending = state.pending
        if state.status is not esc.Status.ACTIVE or pending is None or pending.step != step:
            return []
        assert state.policy is not None
        targets = state.policy.levels[pending.level].targets
        responders: list[str] = []
        for target in targets:
            responders += self.directory.resolve(target, now, as_of=None)
        business_open = None
        if state.urgency is Urgency.LOW:
            business_open = self.directory.business_open(targets, now)
        command = esc.FireStep(
            at=now, step=step, responders=tuple(responders), business_open_at=business_open
        )
        # The key names the step (and the deferral target), so a retried firing derives
        # the same ids and the log keeps the first.
        key = (
            f"fire/{step}"
            if business_open is None or business_open <= now
            else f"defer/{step}/{business_open.isoformat()}"
        )
        fired = self.runner.execute(
            ESCALATION, esc.stream_for(incident_id), command, actor=self.actor, key=key
        )
        if not fired.appended:
            return []  # deferred, moot or fired already: the due items carry on
        recorded: list[CommandResult[pg.Page]] = []
        try:
            for result in self._create_pages(incident_id, step, fired.state):
                recorded.extend(self._attempts_due(result, now))
        except DomainError:
            # The firing still commits; the due items (CREATE_PAGES, NOTIFY) retry
            # what the domain refused, and the tick logs it there.
            log.exception("paging: pages of step %s of %s deferred", step, incident_id)
        return recorded

    def _attempts_due(
        self, created: CommandResult[pg.Page], now: datetime
    ) -> list[CommandResult[pg.Page]]:
        """Record the attempts of a page just created whose notification is due now
        (as the NOTIFY due items would, one pass later)."""
        page_id = created.state.page_id
        assert page_id is not None
        results = []
        for event in created.events:
            if isinstance(event, pg.PageNotificationScheduled) and event.due_at <= now:
                result = self._record_attempt(page_id, event.method_id, event.attempt, now)
                if result.appended:
                    results.append(result)
        return results

    def _create_pages(
        self, incident_id: uuid.UUID, step: int, state: esc.Escalation
    ) -> list[CommandResult[pg.Page]]:
        """Create the pages of a fired step (`state`: the escalation after firing);
        the results of the creations that appended."""
        fired = next((f for f in state.fired if f.step == step), None)
        if fired is None:
            return []
        created = []
        for user_id in fired.responders:
            user = self.runner.read(USER, usr.stream_for(user_id)).state
            plan = tuple(
                pg.PlannedMethod(
                    method_id=m.method_id,
                    kind=m.kind,
                    address=m.address,
                    after_minutes=rule.after_minutes,
                )
                for rule in user.effective_rules
                if (m := user.method(rule.method_id)) is not None
            )
            page_id = esc.page_id_for(incident_id, step, user_id)
            command = pg.CreatePage(
                at=fired.fired_at,
                page_id=page_id,
                incident_id=incident_id,
                step=step,
                user_id=user_id,
                title=state.title,
                plan=plan,
            )
            result = self.escalations.page(page_id, command, key="paged", actor=self.actor)
            if result.appended:
                created.append(result)
        return created

    def _advance(self, item: DueItem, now: datetime) -> None:
        """A page nobody could receive: the escalation moves on (or is exhausted)."""
        assert item.incident_id is not None
        assert item.page_id is not None
        undeliverable = esc.PageUndeliverable(
            at=now,
            page_id=item.page_id,
            reason=item.reason or "the page reached nobody",
            fallback_configured=bool(self.fallback),
        )
        state = self.escalations.escalate(
            item.incident_id,
            undeliverable,
            key=f"undeliverable/{item.page_id}",
            causation_id=None,
            actor=self.actor,
        )
        self.due.projection.discard(item)
        if state.exhausted_round is not None:
            metrics.ESCALATIONS_EXHAUSTED.inc()
        if state.exhausted_round is not None and not self.fallback:
            log.critical(
                "paging: incident %s reached nobody and no fallback route is "
                "configured (FIREWATCH_PAGING_FALLBACK_EMAILS)",
                item.incident_id,
            )

    def _create_fallback_page(
        self, incident_id: uuid.UUID, page_id: uuid.UUID, now: datetime
    ) -> None:
        """Page the operators' route: the platform's own alert that nobody was reached.
        It is an ordinary page, so it gets every delivery guarantee a person's has."""
        state = self.escalations.get_escalation(incident_id)
        command = pg.CreatePage(
            at=now,
            page_id=page_id,
            incident_id=incident_id,
            step=state.next_step,
            user_id=esc.FALLBACK_RECIPIENT,
            title=f"nobody could be paged: {state.title}"[:500],
            plan=self.fallback,
        )
        self.escalations.page(page_id, command, key="paged", actor=self.actor)

    def _attempt(
        self, page_id: uuid.UUID, method_id: str, attempt: int, now: datetime
    ) -> Delivery | None:
        result = self._record_attempt(page_id, method_id, attempt, now)
        return self._handed_out(result, now) if result.appended else None

    def _record_attempt(
        self, page_id: uuid.UUID, method_id: str, attempt: int, now: datetime
    ) -> CommandResult[pg.Page]:
        stream = pg.stream_for(page_id)
        command = pg.AttemptDelivery(
            at=now,
            method_id=method_id,
            attempt=attempt,
            outcome_timeout=self.escalations.retry.outcome_timeout,
            sender=self.sender,
            sender_instance=self.instance,
        )
        return self.runner.execute(
            self.escalations.pages,
            stream,
            command,
            actor=self.actor,
            key=attempt_key(method_id, attempt),
            ids=ATTEMPT_IDS,
        )

    def _handed_out(self, result: CommandResult[pg.Page], now: datetime) -> Delivery | None:
        """The Delivery of an attempt this process decided and committed (`result`),
        or None when the log holds another writer's attempt there."""
        event = result.events[0]
        assert isinstance(event, pg.PageDeliveryAttempted)
        page = result.state
        assert page.page_id is not None
        page_id, method_id, attempt = page.page_id, event.method_id, event.attempt
        stream = pg.stream_for(page_id)
        # The attempt's sender instance tells *this* call whether its append wrote the
        # attempt or found one a racing scheduler (another process) wrote first: only
        # the writer sends. One application object ticks from one thread at a time.
        # (Read after the commit: inside a unit of work the version is the staged one,
        # which an idempotent commit answers with the same stored batch.)
        event_id = ATTEMPT_IDS.derive(stream, attempt_key(method_id, attempt), None, 0)
        written = self.runner.store.read_stream(stream, from_version=result.version, limit=1)
        if (
            not written
            or written[0].id != event_id
            or written[0].data.get("sender_instance") != self.instance
        ):
            return None
        assert page.incident_id is not None
        token = url = None
        if self.escalations.links.secret is not None:
            token, url = self.escalations.links.for_page(page_id, page.user_id, now)
        repeat_of = event.repeat_of
        return Delivery(
            attempt_event_id=event_id,
            page_id=page_id,
            incident_id=page.incident_id,
            user_id=page.user_id,
            method_id=method_id,
            kind=event.kind,
            address=event.address,
            attempt=attempt,
            title=page.title,
            attempted_at=event.attempted_at,
            outcome_due_by=event.outcome_due_by,
            ack_token=token,
            ack_url=url,
            possible_repeat=repeat_of is not None,
            idempotency_key=(
                ATTEMPT_IDS.derive(stream, attempt_key(method_id, repeat_of), None, 0)
                if repeat_of is not None
                else event_id
            ),
        )
