"""The postmortem service's application layer: use cases over appkit's CommandRunner,
the read models, and the reminder scheduler.

Every adapter calls this and nothing below it: the nameko worker (incident events and
the reminder timer), the HTTP pages and the CLI. It knows the store port and the
injected clock; it never sends anything, never sleeps and never reads the wall clock.

Call sequence for the worker
----------------------------
1. IncidentResolved          -> ``incident_resolved(incident_id, causation_id=<event id>)``
   RootCauseFollowUpRequired -> ``follow_up_required(incident_id, ..., causation_id=...)``
   Both idempotent per input event (ids derived from it).
2. Every second: ``reminders = app.tick()``: fires every reminder slot, retry and
   unknown-outcome resend whose time has come, each exactly once, and returns the
   attempts it has just *recorded* (ReminderAttempted) for this process to send.
3. For each ``Reminder``: send it through ``reminder.target`` (libs/notify), then
   ``app.record_reminder_outcome(reminder, delivered=..., reason=..., permanent=...)``.
   A process that dies in between leaves an attempt without an outcome: after
   ``outcome_timeout`` the next tick records ReminderUnconfirmed and hands out the
   same reminder again, marked ``possible_repeat`` with the first attempt's
   idempotency key (ADR 0011, ADR 0016).

The use cases live where they belong: which incidents get a postmortem and what it
copies from the incident (`opening.py`), and the reminder scheduler (`scheduler.py`:
`tick`, reminder attempts and their outcomes). `PostmortemApplication` wires them and
lists them; the names they own stay importable from here.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from appkit import (
    Aggregate,
    CommandResult,
    CommandRunner,
    EventIds,
    ProjectionRunner,
    uncorrelated,
)
from contracts.domain import InvalidCommandError, NotFoundError
from eventlog import EventFilter, EventStore, RecordedEvent
from eventlog.clock import Clock
from postmortem_service import action as ac
from postmortem_service import postmortem as pm
from postmortem_service import webhooks as wh
from postmortem_service.common import EVENTS, ID_NAMESPACE, build
from postmortem_service.model import Directory, DueEntry, PostmortemModel
from postmortem_service.opening import (
    DEFAULT_REQUIREMENTS,
    INCIDENT_CATEGORY,
    IncidentFacts,
    OpeningPolicy,
    Requirement,
    incident_facts,
)
from postmortem_service.prefill import Prefill, TimelineIndex, incident_events, prefill
from postmortem_service.scheduler import MAX_TICK_PASSES, Reminder, ReminderScheduler

log = logging.getLogger(__name__)
NUMBERS_STREAM = "incidentnumber-all"
"""The incident service's numbering stream (its published log layout): version n-1
holds the id of INC-n."""
C = TypeVar("C")
REMINDER_BOOKKEEPING = frozenset(
    {"ReminderAttempted", "ReminderDelivered", "ReminderFailed", "ReminderUnconfirmed"}
)
"""The reminder scheduler's own records, kept out of the change webhooks: they are no
change of a postmortem or an item, and ReminderAttempted names the owner's contact
address (`target.address`), which external trackers must not receive."""

__all__ = [
    "DEFAULT_REQUIREMENTS",
    "ID_NAMESPACE",
    "INCIDENT_CATEGORY",
    "MAX_TICK_PASSES",
    "NUMBERS_STREAM",
    "IncidentFacts",
    "OpeningPolicy",
    "PostmortemApplication",
    "Reminder",
    "Requirement",
    "WebhookBatch",
    "incident_facts",
]


@dataclass(frozen=True, slots=True)
class WebhookBatch:
    url: str
    events: tuple[RecordedEvent, ...]
    repeat_upto: int
    """Events at or below this position may have reached the receiver already."""


def aggregates(
    policy: ac.ReminderPolicy,
) -> tuple[
    Aggregate[pm.PostmortemCommand, pm.Postmortem], Aggregate[ac.ActionCommand, ac.ActionItem]
]:
    """The postmortem and action-item aggregates (items decide with the reminder policy)."""
    postmortems: Aggregate[pm.PostmortemCommand, pm.Postmortem] = Aggregate(
        pm.STREAM_CATEGORY, pm.INITIAL, pm.decide, pm.evolve
    )
    actions: Aggregate[ac.ActionCommand, ac.ActionItem] = Aggregate(
        ac.STREAM_CATEGORY,
        ac.INITIAL,
        lambda command, state: ac.decide(command, state, policy),
        ac.evolve,
        correlation=lambda stream, state: str(state.incident_id) if state.incident_id else None,
    )
    return postmortems, actions


def prefill_from(
    index: TimelineIndex,
    state: pm.Postmortem | None,
    incident_id: uuid.UUID,
    read_stream: Callable[[str], Sequence[RecordedEvent]],
) -> Prefill:
    """The generated timeline, responders and durations from the timeline index (as of
    publication, for a published postmortem). Shared with the replay renderer."""
    # The incident service correlates every event of its stream with the incident,
    # so the index already holds them: no second read of a long stream.
    events = incident_events(index, incident_id, [], read_stream)
    if state is not None and state.as_of_position is not None:
        limit = state.as_of_position
        events = [e for e in events if e.position <= limit]
    events = [e for e in events if e.category not in (pm.STREAM_CATEGORY, ac.STREAM_CATEGORY)]
    return prefill(events, impact_started_at=state.impact_started_at if state else None)


def in_list_order(items: Iterable[ac.ActionItem], now: datetime) -> list[ac.ActionItem]:
    """ListActionItems' order: due first (an item with no due time counts as due now)."""
    return sorted(items, key=lambda i: (i.due_at or now, i.title))


class PostmortemApplication:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        *,
        opening: OpeningPolicy | None = None,
        reminders: ac.ReminderPolicy | None = None,
        due_business_days: int = pm.DEFAULT_DUE_BUSINESS_DAYS,
        sender: str = "postmortem-worker",
    ) -> None:
        self.store = store
        self.clock = clock
        self.opening = opening or OpeningPolicy()
        self.policy = reminders or ac.ReminderPolicy()
        self.due_business_days = due_business_days
        self.sender = f"{sender}:{uuid.uuid4().hex[:8]}"
        self.runner = CommandRunner(store, EVENTS, EventIds(ID_NAMESPACE))
        policy = self.policy
        self.postmortems, self.actions = aggregates(policy)
        self.feeds: Aggregate[Any, wh.Feed] = Aggregate(
            wh.STREAM_CATEGORY, wh.INITIAL, wh.decide, wh.evolve, correlation=uncorrelated
        )
        deciders = (self.postmortems, self.actions)
        self.model = ProjectionRunner(store, lambda: PostmortemModel(deciders, policy))
        self.directory = ProjectionRunner(store, Directory)
        self.timeline = ProjectionRunner(store, TimelineIndex)
        self.scheduler = ReminderScheduler(
            store, clock, self.runner, self.actions, self.model, self._directory, policy,
            self.sender, self.actor,
        )  # fmt: skip

    # ================================================================ incident events

    def incident_resolved(
        self, incident_id: uuid.UUID, *, causation_id: str
    ) -> CommandResult[pm.Postmortem] | None:
        """Open (or update) the incident's postmortem; None when its severity and
        services need none."""
        facts = incident_facts(self.store.read_stream(f"{INCIDENT_CATEGORY}-{incident_id}"))
        requirement = self.opening.requirement(facts.severity, facts.services)
        existing = self.find_postmortem(incident_id)
        if requirement == Requirement.NONE and existing is None:
            return None
        owner = facts.commander or facts.declared_by
        directory = self._directory()
        known = directory.user(owner) if owner else None
        if known is None:
            # The commander is not in the paging directory (e.g. a bot declared it):
            # keep their name; the zone falls back to UTC.
            log.warning(
                "postmortem: owner %r of incident %s is not a known user", owner, incident_id
            )
        command = build(
            pm.OpenOnResolution,
            at=self.clock(),
            incident_id=incident_id,
            number=facts.number,
            title=facts.title[:500],
            severity=facts.severity,
            services=facts.services,
            required=requirement == Requirement.REQUIRED,
            owner=_person(owner),
            owner_time_zone=known.time_zone if known else "UTC",
            incident_declared_at=facts.declared_at,
            resolved_at=facts.resolved_at or self.clock(),
            temporary_mitigations=facts.temporary_mitigations,
            due_business_days=self.due_business_days,
        )
        return self._postmortem(
            incident_id, command, actor="postmortem-worker", key=f"resolved/{causation_id}",
            causation_id=causation_id,
        )  # fmt: skip

    def follow_up_required(
        self,
        incident_id: uuid.UUID,
        *,
        reason: str,
        temporary_mitigations: Sequence[str],
        causation_id: str,
    ) -> CommandResult[pm.Postmortem] | None:
        if self.find_postmortem(incident_id) is None:
            facts = incident_facts(self.store.read_stream(f"{INCIDENT_CATEGORY}-{incident_id}"))
            if self.opening.requirement(facts.severity, facts.services) != Requirement.NONE:
                # The resolution (which opens it) comes first in the log; a redelivery
                # that overtakes it is retried by the reliable handler.
                raise NotFoundError(f"incident {incident_id} has no postmortem yet")
            # A band-aid needs a root cause even where the policy wants no postmortem:
            # open an optional one, where publishing can close the follow-up.
            self.open_postmortem(incident_id, by="postmortem-worker")
        command = build(
            pm.NoteRootCauseFollowUp,
            at=self.clock(),
            reason=reason[:2000],
            temporary_mitigations=tuple(temporary_mitigations),
        )
        return self._postmortem(
            incident_id, command, actor="postmortem-worker", key=f"follow-up/{causation_id}",
            causation_id=causation_id,
        )  # fmt: skip

    def open_postmortem(self, incident_id: uuid.UUID, *, by: str) -> CommandResult[pm.Postmortem]:
        """Open a postmortem for a resolved incident whose policy did not (optional or
        none); the same as the automatic opening, but asked for by a person."""
        facts = incident_facts(self.store.read_stream(f"{INCIDENT_CATEGORY}-{incident_id}"))
        if facts.number == 0:
            raise NotFoundError(f"incident {incident_id} does not exist")
        if facts.resolved_at is None:
            raise pm.RefusedError("incident", "is not resolved yet")
        owner = facts.commander or facts.declared_by
        known = self._directory().user(owner) if owner else None
        command = build(
            pm.OpenOnResolution,
            at=self.clock(),
            incident_id=incident_id,
            number=facts.number,
            title=facts.title[:500],
            severity=facts.severity,
            services=facts.services,
            required=False,
            owner=_person(owner),
            owner_time_zone=known.time_zone if known else "UTC",
            incident_declared_at=facts.declared_at,
            resolved_at=facts.resolved_at,
            temporary_mitigations=facts.temporary_mitigations,
            due_business_days=self.due_business_days,
        )
        return self._postmortem(incident_id, command, actor=by, key="opened")

    def resolve_reference(self, reference: str) -> uuid.UUID:
        """An incident uuid, or a human reference like INC-42 (the incident service's
        numbering stream, which any service may read)."""
        text = reference.strip()
        if not text:
            raise InvalidCommandError("incident", "is required (a uuid or INC-42)")
        if text.upper().startswith("INC-"):
            digits = text[4:]
            if not digits.isdigit() or int(digits) < 1:
                raise InvalidCommandError("incident", f"{reference!r} is not like INC-42")
            found = self.store.read_stream(NUMBERS_STREAM, from_version=int(digits) - 1, limit=1)
            if not found or found[0].version != int(digits) - 1:
                raise NotFoundError(f"incident {text.upper()} does not exist")
            return uuid.UUID(str(found[0].data["incident_id"]))
        try:
            return uuid.UUID(text)
        except ValueError:
            raise InvalidCommandError(
                "incident", f"{reference!r} is neither an incident id nor a reference like INC-42"
            ) from None

    # ================================================================ postmortems

    def edit_section(
        self, incident_id: uuid.UUID, section: str, text: str, *, by: str
    ) -> CommandResult[pm.Postmortem]:
        command = build(pm.EditSection, at=self.clock(), section=section, text=text, by=by)
        return self._postmortem(incident_id, command, actor=by)

    def record_root_cause(
        self, incident_id: uuid.UUID, text: str, *, by: str
    ) -> CommandResult[pm.Postmortem]:
        command = build(pm.RecordRootCause, at=self.clock(), text=text, by=by)
        return self._postmortem(incident_id, command, actor=by)

    def set_impact_start(
        self, incident_id: uuid.UUID, at: datetime, *, by: str
    ) -> CommandResult[pm.Postmortem]:
        command = build(pm.SetImpactStart, at=self.clock(), impact_started_at=at, by=by)
        return self._postmortem(incident_id, command, actor=by)

    def add_timeline_entry(
        self, incident_id: uuid.UUID, occurred_at: datetime, text: str, *, by: str
    ) -> CommandResult[pm.Postmortem]:
        command = build(
            pm.AddTimelineEntry,
            at=self.clock(),
            entry_id=f"m-{uuid.uuid4().hex[:12]}",
            occurred_at=occurred_at,
            text=text,
            by=by,
        )
        return self._postmortem(incident_id, command, actor=by)

    def annotate(
        self, incident_id: uuid.UUID, entry_id: str, text: str, *, by: str
    ) -> CommandResult[pm.Postmortem]:
        state = self.get_postmortem(incident_id)
        known = {e.entry_id for e in state.entries} | {
            e.entry_id for e in self.prefill(incident_id).entries
        }
        if entry_id not in known:
            raise InvalidCommandError("entry_id", f"{entry_id!r} is not on this timeline")
        command = build(
            pm.AnnotateTimelineEntry, at=self.clock(), entry_id=entry_id, text=text, by=by
        )
        return self._postmortem(incident_id, command, actor=by)

    def assign_owner(
        self, incident_id: uuid.UUID, owner: str, *, by: str
    ) -> CommandResult[pm.Postmortem]:
        user = self._known_user("owner", owner)
        command = build(
            pm.AssignOwner,
            at=self.clock(),
            owner=owner,
            owner_time_zone=user.time_zone,
            by=by,
            due_business_days=self.due_business_days,
        )
        return self._postmortem(incident_id, command, actor=by)

    def request_review(
        self, incident_id: uuid.UUID, reviewers: Sequence[str], *, by: str
    ) -> CommandResult[pm.Postmortem]:
        for reviewer in reviewers:
            self._known_user("reviewers", reviewer)
        command = build(pm.RequestReview, at=self.clock(), reviewers=tuple(reviewers), by=by)
        return self._postmortem(incident_id, command, actor=by)

    def sign_off(self, incident_id: uuid.UUID, *, reviewer: str) -> CommandResult[pm.Postmortem]:
        command = build(pm.SignOff, at=self.clock(), reviewer=reviewer)
        return self._postmortem(incident_id, command, actor=reviewer)

    def publish(
        self, incident_id: uuid.UUID, *, by: str, override_reason: str | None = None
    ) -> CommandResult[pm.Postmortem]:
        command = build(
            pm.Publish,
            at=self.clock(),
            by=by,
            people=tuple(self._directory().people()),
            override_reason=override_reason or None,
            as_of_position=self.store.head_position(),
        )
        return self._postmortem(incident_id, command, actor=by)

    def amend(
        self, incident_id: uuid.UUID, section: str, text: str, *, reason: str, by: str
    ) -> CommandResult[pm.Postmortem]:
        command = build(pm.Amend, at=self.clock(), section=section, text=text, reason=reason, by=by)
        return self._postmortem(incident_id, command, actor=by)

    def warnings(self, incident_id: uuid.UUID) -> list[Any]:
        """The blameless check's open warnings, for editors before they publish."""
        return pm.open_warnings(self.get_postmortem(incident_id), self._directory().people())

    def get_postmortem(self, incident_id: uuid.UUID) -> pm.Postmortem:
        found = self.find_postmortem(incident_id)
        if found is None:
            raise NotFoundError(f"incident {incident_id} has no postmortem")
        return found

    def find_postmortem(self, incident_id: uuid.UUID) -> pm.Postmortem | None:
        loaded = self.runner.read(self.postmortems, pm.stream_for(incident_id))
        return loaded.state if loaded.exists else None

    def list_postmortems(
        self, *, owner: str | None = None, status: str | None = None, team: str | None = None
    ) -> list[pm.Postmortem]:
        self.model.catch_up()
        members = self._team_members(team)
        found = [
            p
            for p in self.model.projection.postmortems()
            if (owner is None or p.owner == owner)
            and (status is None or p.status.value == status)
            and (members is None or p.owner in members)
        ]
        return sorted(found, key=lambda p: -p.number)

    def prefill(self, incident_id: uuid.UUID) -> Prefill:
        """The generated timeline, responders and durations, as the log says now (or
        as of publication, for a published postmortem)."""
        self.timeline.catch_up()
        state = self.find_postmortem(incident_id)
        return prefill_from(self.timeline.projection, state, incident_id, self.store.read_stream)

    # ================================================================ action items

    def add_action_item(
        self,
        incident_id: uuid.UUID,
        *,
        kind: str,
        title: str,
        owner: str,
        due_on: date | str,
        priority: str = "medium",
        tracker_url: str | None = None,
        by: str,
        key: str | None = None,
    ) -> CommandResult[ac.ActionItem]:
        postmortem = self.get_postmortem(incident_id)
        user = self._known_user("owner", owner)
        action_id = uuid.uuid5(ID_NAMESPACE, f"action/{incident_id}/{key}") if key else uuid.uuid4()
        command = build(
            ac.AddActionItem,
            at=self.clock(),
            action_id=action_id,
            incident_id=incident_id,
            postmortem_severity=postmortem.severity,
            kind=kind,
            title=title,
            owner=owner,
            owner_time_zone=user.time_zone,
            due_on=_date("due_date", due_on),
            priority=priority,
            tracker_url=tracker_url or None,
            by=by,
        )
        return self._action(action_id, command, actor=by, key=key and f"add/{key}")

    def change_action_item(
        self, action_id: uuid.UUID, change: str, *, by: str, **fields: Any
    ) -> CommandResult[ac.ActionItem]:
        """start, complete, decline(reason), reopen(reason), reassign(owner),
        reschedule(due_on, reason), retitle(title), priority(priority), link(tracker_url)."""
        at = self.clock()
        command: ac.ActionCommand
        match change:
            case "start":
                command = build(ac.StartActionItem, at=at, by=by)
            case "complete":
                command = build(ac.CompleteActionItem, at=at, by=by)
            case "decline":
                command = build(ac.DeclineActionItem, at=at, by=by, reason=fields.get("reason", ""))
            case "reopen":
                command = build(ac.ReopenActionItem, at=at, by=by, reason=fields.get("reason", ""))
            case "reassign":
                owner = str(fields.get("owner", ""))
                user = self._known_user("owner", owner)
                command = build(
                    ac.ReassignActionItem, at=at, by=by, owner=owner, owner_time_zone=user.time_zone
                )
            case "reschedule":
                command = build(
                    ac.RescheduleActionItem,
                    at=at,
                    by=by,
                    due_on=_date("due_date", fields.get("due_on", "")),
                    reason=fields.get("reason", ""),
                )
            case "retitle":
                command = build(ac.RetitleActionItem, at=at, by=by, title=fields.get("title", ""))
            case "priority":
                command = build(ac.ChangePriority, at=at, by=by, priority=fields.get("priority"))
            case "link":
                command = build(ac.LinkTracker, at=at, by=by, tracker_url=fields.get("tracker_url"))
            case _:
                raise InvalidCommandError("change", f"unknown change {change!r}")
        return self._action(action_id, command, actor=by, not_found=f"action item {action_id}")

    def get_action_item(self, action_id: uuid.UUID) -> ac.ActionItem:
        loaded = self.runner.read(self.actions, ac.stream_for(action_id))
        if not loaded.exists:
            raise NotFoundError(f"action item {action_id} does not exist")
        return loaded.state

    def list_action_items(
        self,
        *,
        incident_id: uuid.UUID | None = None,
        owner: str | None = None,
        team: str | None = None,
        status: str | None = None,
        overdue: bool | None = None,
    ) -> list[ac.ActionItem]:
        self.model.catch_up()
        now = self.clock()
        model = self.model.projection
        items = model.items_of(incident_id) if incident_id else model.action_items()
        members = self._team_members(team)
        return in_list_order(
            (
                i
                for i in items
                if (owner is None or i.owner == owner)
                and (members is None or i.owner in members)
                and (status is None or i.status.value == status)
                and (overdue is None or i.overdue(now) == overdue)
            ),
            now,
        )

    # ================================================================ the scheduler (scheduler.py)

    def tick(self) -> list[Reminder]:
        """Fire everything due now, each exactly once; return the attempts recorded
        by this call for the caller to send."""
        return self.scheduler.tick()

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
        return self.scheduler.record_reminder_outcome(
            action_id, slot, target_key, attempt,
            delivered=delivered, reason=reason, permanent=permanent, unknown=unknown,
        )  # fmt: skip

    def pending_work(self) -> list[DueEntry]:
        """Everything the scheduler still has to do, due or not (for tests and ops)."""
        return self.scheduler.pending_work()

    @property
    def actor(self) -> str:
        return "postmortem-worker"

    # ================================================================ change webhooks

    def next_webhook_batch(self, url: str, limit: int = 100) -> WebhookBatch | None:
        """Record the next batch of changes for `url` as attempted and return it (None
        when the receiver is up to date). Events up to `repeat_upto` were posted before
        without an answer: the caller flags them as possible repeats."""
        stream = wh.stream_for(url)
        feed = self.runner.read(self.feeds, stream).state
        changes = list(
            itertools.islice(
                self.store.read_all(
                    from_position=feed.delivered + 1,
                    filter=EventFilter.of(
                        categories=[pm.STREAM_CATEGORY, ac.STREAM_CATEGORY],
                        event_types=[t for t in EVENTS.types if t not in REMINDER_BOOKKEEPING],
                    ),
                ),
                limit,
            )
        )
        if not changes:
            return None
        command = build(
            wh.AttemptBatch,
            at=self.clock(),
            url=url,
            from_position=changes[0].position,
            to_position=changes[-1].position,
            events=len(changes),
        )
        self.runner.execute(self.feeds, stream, command, actor=self.actor)
        return WebhookBatch(url, tuple(changes), feed.attempted)

    def webhook_delivered(self, url: str, to_position: int) -> None:
        command = build(wh.RecordDelivered, at=self.clock(), to_position=to_position)
        self.runner.execute(self.feeds, wh.stream_for(url), command, actor=self.actor)

    # ================================================================ plumbing

    def _directory(self) -> Directory:
        self.directory.catch_up()
        return self.directory.projection

    def _known_user(self, field: str, user_id: str) -> Any:
        user = self._directory().user(user_id)
        if user is None:
            raise InvalidCommandError(field, f"{user_id!r} is not a known user")
        return user

    def _team_members(self, team: str | None) -> set[str] | None:
        if team is None:
            return None
        found = self._directory().teams.get(team)
        if found is None:
            raise InvalidCommandError("team", f"{team!r} is not a known team")
        return set(found.members)

    def _postmortem(
        self,
        incident_id: uuid.UUID,
        command: pm.PostmortemCommand,
        *,
        actor: str,
        key: str | None = None,
        causation_id: str | None = None,
    ) -> CommandResult[pm.Postmortem]:
        return self.runner.execute(
            self.postmortems,
            pm.stream_for(incident_id),
            command,
            actor=actor,
            key=key,
            causation_id=causation_id,
        )

    def _action(
        self,
        action_id: uuid.UUID,
        command: ac.ActionCommand,
        *,
        actor: str,
        key: str | None = None,
        not_found: str | None = None,
    ) -> CommandResult[ac.ActionItem]:
        return self.runner.execute(
            self.actions, ac.stream_for(action_id), command, actor=actor, key=key,
            not_found=f"{not_found} does not exist" if not_found else None,
        )  # fmt: skip


def _person(value: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in value.lower())
    return cleaned.strip("-._")[:63] or "unknown"


def _date(field: str, value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidCommandError(field, f"{value!r} is not a date like 2026-12-31") from None
