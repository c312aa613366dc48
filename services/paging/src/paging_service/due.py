"""The due-items projection: every durable timer and follow-up that is still pending.

Owns the *index* of what the scheduler must do and when, built purely from the
`escalation` and `page` streams in log order:
- an escalation step (EscalationStepScheduled, moved by EscalationDeferred);
- an un-acknowledged timeout;
- pages a fired step still has to create (a crash between firing and paging leaves
  this item behind, so recovery finishes the job);
- pages to close after an acknowledgement or a resolution;
- contact-method notifications (rules, retries with backoff, failovers, repeats);
- attempts whose outcome is overdue, or orphaned: recorded by a sender instance that
  a restart of its slot has since replaced (`sender` stream), due at once;
- pages that reached nobody (PageDeliveryExhausted): the escalation must advance;
- the operators' fallback page of an exhausted escalation, until it exists.

It is an index, never the truth: the application reloads the aggregate and lets its
decider refuse anything that is moot, so a stale item can cause a no-op but never a
duplicate. Dropping it and rebuilding from position 0 is always safe.
"""

from __future__ import annotations

import enum
import heapq
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar

from contracts.events import DomainEvent
from eventlog import EventFilter, RecordedEvent
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service import sender as snd
from paging_service.common import EVENTS

CATEGORIES = (esc.STREAM_CATEGORY, pg.STREAM_CATEGORY, snd.STREAM_CATEGORY)


class DueKind(enum.IntEnum):
    """Also the order in which items due at the same tick run: closing pages first, so
    an acknowledgement beats a notification that fell due just before it."""

    CLOSE_PAGE = 0
    UNACK_TIMEOUT = 1
    ADVANCE = 2
    STEP = 3
    CREATE_PAGES = 4
    FALLBACK_PAGE = 5
    OUTCOME_OVERDUE = 6
    NOTIFY = 7


@dataclass(frozen=True, slots=True)
class DueItem:
    kind: DueKind
    due_at: datetime
    incident_id: uuid.UUID | None = None
    page_id: uuid.UUID | None = None
    step: int | None = None
    round: int | None = None
    method_id: str | None = None
    attempt: int | None = None
    sender: str | None = None
    sender_instance: str | None = None
    orphaned: bool = False
    """OUTCOME_OVERDUE only: the sender instance was replaced, so do not wait."""
    reason: str = ""

    @property
    def key(self) -> tuple[object, ...]:
        match self.kind:
            case DueKind.STEP | DueKind.UNACK_TIMEOUT | DueKind.FALLBACK_PAGE:
                return (self.kind, self.incident_id)
            case DueKind.CREATE_PAGES:
                return (self.kind, self.incident_id, self.step)
            case DueKind.CLOSE_PAGE | DueKind.ADVANCE:
                return (self.kind, self.page_id)
        return (self.kind, self.page_id, self.method_id, self.attempt)


@dataclass
class DueItems:
    """Fold recorded events in log order with `apply`; ask `due(now)`. The scheduler
    feeds it with the kit's `ProjectionRunner` (ADR 0013)."""

    name: ClassVar[str] = "paging.due-items"
    filter: ClassVar[EventFilter] = EventFilter.of(categories=CATEGORIES)

    position: int = 0
    """The last log position applied."""
    _items: dict[tuple[object, ...], DueItem] = field(default_factory=dict)
    _heap: list[tuple[datetime, int, DueItem]] = field(default_factory=list)
    """Items by due time. Dropped or replaced items stay until popped (`due` skips an
    entry whose item is no longer the current one for its key), so a tick looks only
    at what is due instead of scanning every pending item of every open incident."""
    _pushed: int = 0
    _page_keys: dict[uuid.UUID, set[tuple[object, ...]]] = field(default_factory=dict)
    """The keys of the items naming each page, so forgetting an acknowledged page
    touches that page's items, not every pending item of every open incident."""
    _unpaged: dict[tuple[uuid.UUID, int], set[str]] = field(default_factory=dict)
    _open_pages: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    _closed_at: dict[uuid.UUID, datetime] = field(default_factory=dict)
    """Incidents whose escalation is stopped or cancelled, and since when."""
    _page_incident: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    _senders: dict[str, str] = field(default_factory=dict)
    """The current instance of each sender slot."""

    def apply_all(self, recorded: Iterable[RecordedEvent]) -> None:
        for event in recorded:
            self.apply(event)

    def apply(self, recorded: RecordedEvent) -> None:
        if recorded.position <= self.position:
            return
        self.position = recorded.position
        if recorded.category not in CATEGORIES or recorded.type not in EVENTS:
            return
        event = EVENTS.from_recorded(recorded)
        stream_id = recorded.stream.split("-", 1)[1]
        if recorded.category == esc.STREAM_CATEGORY:
            self._escalation(uuid.UUID(stream_id), event)
        elif recorded.category == snd.STREAM_CATEGORY:
            self._sender(event)
        else:
            self._page(uuid.UUID(stream_id), event)

    def discard(self, item: DueItem) -> None:
        """Forget an item the application has acted on when no event will (a decision
        that turned out to be a no-op). Rebuilding re-creates it and acting on it again
        is again a no-op, so this is only a saving, never a correctness matter."""
        if self._items.get(item.key) is item:
            self._remove(item.key)

    def due(self, now: datetime) -> list[DueItem]:
        ready: list[tuple[datetime, int, DueItem]] = []
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            if self._items.get(entry[2].key) is entry[2]:
                ready.append(entry)
        # Due items stay pending until the events that fire or cancel them arrive.
        for entry in ready:
            heapq.heappush(self._heap, entry)
        return sorted((entry[2] for entry in ready), key=lambda i: (i.kind, i.due_at))

    def pending(self) -> list[DueItem]:
        """Everything not yet done, due or not, soonest first."""
        return sorted(self._items.values(), key=lambda i: (i.due_at, i.kind))

    # ------------------------------------------------------------------ escalation

    def _put(self, item: DueItem) -> None:
        replaced = self._items.get(item.key)
        if replaced is not None and replaced.page_id != item.page_id:
            self._unindex(item.key, replaced)
        self._items[item.key] = item
        if item.page_id is not None:
            self._page_keys.setdefault(item.page_id, set()).add(item.key)
        self._pushed += 1
        heapq.heappush(self._heap, (item.due_at, self._pushed, item))
        if len(self._heap) > 2 * len(self._items) + 64:
            # Drop entries of items that were replaced or dropped, now and then.
            self._heap = [e for e in self._heap if self._items.get(e[2].key) is e[2]]
            heapq.heapify(self._heap)

    def _drop(self, *key: object) -> None:
        self._remove(key)

    def _remove(self, key: tuple[object, ...]) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._unindex(key, item)

    def _unindex(self, key: tuple[object, ...], item: DueItem) -> None:
        if item.page_id is None:
            return
        keys = self._page_keys.get(item.page_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._page_keys[item.page_id]

    def _escalation(self, incident: uuid.UUID, event: DomainEvent) -> None:
        match event:
            case esc.EscalationStepScheduled():
                if incident not in self._closed_at:
                    self._put(DueItem(DueKind.STEP, event.due_at, incident, step=event.step))
            case esc.EscalationDeferred():
                current = self._items.get((DueKind.STEP, incident))
                if current is not None and current.step == event.step:
                    self._put(DueItem(DueKind.STEP, event.until, incident, step=event.step))
            case esc.EscalationStepFired():
                current = self._items.get((DueKind.STEP, incident))
                if current is not None and current.step == event.step:
                    self._drop(DueKind.STEP, incident)
                if event.responders:
                    self._unpaged[(incident, event.step)] = set(event.responders)
                    self._put(
                        DueItem(DueKind.CREATE_PAGES, event.fired_at, incident, step=event.step)
                    )
            case esc.EscalationStopped():
                self._drop(DueKind.STEP, incident)
                self._close(incident, event.stopped_at)
            case esc.EscalationCancelled():
                self._drop(DueKind.STEP, incident)
                self._drop(DueKind.UNACK_TIMEOUT, incident)
                self._close(incident, event.cancelled_at)
            case esc.UnacknowledgedTimeoutScheduled():
                self._put(DueItem(DueKind.UNACK_TIMEOUT, event.due_at, incident, round=event.round))
            case esc.UnacknowledgedTimeoutFired():
                self._drop(DueKind.UNACK_TIMEOUT, incident)
                self._closed_at.pop(incident, None)
            case esc.EscalationAdvanced():
                self._drop(DueKind.ADVANCE, event.because_page_id)
            case esc.EscalationExhausted():
                self._drop(DueKind.ADVANCE, event.because_page_id)
                if event.fallback_page_id is not None and incident not in self._closed_at:
                    self._put(
                        DueItem(
                            DueKind.FALLBACK_PAGE,
                            event.exhausted_at,
                            incident,
                            page_id=event.fallback_page_id,
                            round=event.round,
                        )
                    )

    def _close(self, incident: uuid.UUID, at: datetime) -> None:
        self._drop(DueKind.FALLBACK_PAGE, incident)
        self._closed_at[incident] = at
        for page_id in self._open_pages.get(incident, set()):
            self._put(DueItem(DueKind.CLOSE_PAGE, at, incident, page_id=page_id))

    # ------------------------------------------------------------------ pages

    def _page(self, page_id: uuid.UUID, event: DomainEvent) -> None:
        match event:
            case pg.ResponderPaged():
                incident = event.incident_id
                self._page_incident[page_id] = incident
                self._open_pages.setdefault(incident, set()).add(page_id)
                fallback = self._items.get((DueKind.FALLBACK_PAGE, incident))
                if fallback is not None and fallback.page_id == page_id:
                    self._drop(DueKind.FALLBACK_PAGE, incident)
                waiting = self._unpaged.get((incident, event.step))
                if waiting is not None:
                    waiting.discard(event.user_id)
                    if not waiting:
                        del self._unpaged[(incident, event.step)]
                        self._drop(DueKind.CREATE_PAGES, incident, event.step)
                if incident in self._closed_at:
                    # Paged after the escalation stopped (a crash delayed the page):
                    # close it at once.
                    self._put(
                        DueItem(
                            DueKind.CLOSE_PAGE, self._closed_at[incident], incident, page_id=page_id
                        )
                    )
            case pg.PageNotificationScheduled():
                self._put(
                    DueItem(
                        DueKind.NOTIFY,
                        event.due_at,
                        page_id=page_id,
                        method_id=event.method_id,
                        attempt=event.attempt,
                    )
                )
            case pg.PageDeliveryAttempted():
                self._drop(DueKind.NOTIFY, page_id, event.method_id, event.attempt)
                item = DueItem(
                    DueKind.OUTCOME_OVERDUE,
                    event.outcome_due_by,
                    page_id=page_id,
                    method_id=event.method_id,
                    attempt=event.attempt,
                    sender=event.sender,
                    sender_instance=event.sender_instance,
                )
                current = self._senders.get(event.sender) if event.sender else None
                if current is not None and current != event.sender_instance:
                    # Recorded by an instance its slot has already replaced: a process
                    # that was being replaced as it wrote; it will not report.
                    item = replace(item, due_at=event.attempted_at, orphaned=True)
                self._put(item)
            case pg.PageDelivered() | pg.PageFailed() | pg.PageDeliveryUnconfirmed():
                self._drop(DueKind.OUTCOME_OVERDUE, page_id, event.method_id, event.attempt)
            case pg.PageDeliveryExhausted():
                exhausted_in = self._page_incident.get(page_id)
                if exhausted_in is not None and exhausted_in not in self._closed_at:
                    self._put(
                        DueItem(
                            DueKind.ADVANCE,
                            event.at,
                            exhausted_in,
                            page_id=page_id,
                            reason=event.reason,
                        )
                    )
            case pg.PageAcknowledged() | pg.PageCancelled():
                self._forget_page(page_id)

    # ------------------------------------------------------------------ senders

    def _sender(self, event: DomainEvent) -> None:
        if not isinstance(event, snd.SenderStarted):
            return
        self._senders[event.sender] = event.instance
        # Every unanswered attempt of an earlier instance of this slot is orphaned: that
        # process is gone, so its outcome is unknown now rather than at its deadline.
        orphans = [
            item
            for item in self._items.values()
            if item.kind is DueKind.OUTCOME_OVERDUE
            and item.sender == event.sender
            and item.sender_instance != event.instance
            and not item.orphaned
        ]
        for item in orphans:
            self._put(replace(item, due_at=min(item.due_at, event.started_at), orphaned=True))

    def _forget_page(self, page_id: uuid.UUID) -> None:
        for key in self._page_keys.pop(page_id, set()):
            del self._items[key]
        # A page is opened in one incident only (its ResponderPaged names it).
        incident = self._page_incident.get(page_id)
        if incident is not None:
            self._open_pages.get(incident, set()).discard(page_id)
