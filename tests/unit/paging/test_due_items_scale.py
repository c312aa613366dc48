"""The due-items projection answers `due(now)` from a heap: the cost of a tick follows
what is due, not how many incidents are open (it used to scan every pending item)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from paging_service.due import DueItem, DueItems, DueKind

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_due_returns_exactly_the_current_items_whose_time_has_come() -> None:
    items = DueItems()
    incidents = [uuid.uuid4() for _ in range(5)]
    for minute, incident in enumerate(incidents):
        items._put(DueItem(DueKind.STEP, T0 + timedelta(minutes=minute), incident_id=incident))
    # Replace one item (a later due time) and drop another: neither may come back stale.
    items._put(DueItem(DueKind.STEP, T0 + timedelta(hours=1), incident_id=incidents[1]))
    items._drop(DueKind.STEP, incidents[2])

    due = items.due(T0 + timedelta(minutes=3))

    assert [item.incident_id for item in due] == [incidents[0], incidents[3]]
    assert items.due(T0 + timedelta(minutes=3)) == due, "asking again changes nothing"
    assert [i.incident_id for i in items.due(T0 + timedelta(hours=2))] == [
        incidents[0],
        incidents[3],
        incidents[4],
        incidents[1],
    ]


def test_replaced_entries_are_compacted_away() -> None:
    items = DueItems()
    incident = uuid.uuid4()
    for minute in range(500):
        items._put(DueItem(DueKind.STEP, T0 + timedelta(minutes=minute), incident_id=incident))
    assert len(items._heap) < 200
    assert [i.due_at for i in items.due(T0 + timedelta(days=1))] == [T0 + timedelta(minutes=499)]


def test_forgetting_a_page_removes_exactly_its_items_through_the_page_index() -> None:
    items = DueItems()
    pages = [uuid.uuid4() for _ in range(50)]
    incident = uuid.uuid4()
    for n, page in enumerate(pages):
        at = T0 + timedelta(seconds=n)
        items._put(DueItem(DueKind.NOTIFY, at, page_id=page, method_id="email", attempt=1))
        items._put(DueItem(DueKind.NOTIFY, at, page_id=page, method_id="sms", attempt=1))
        items._put(DueItem(DueKind.CLOSE_PAGE, at, incident, page_id=page))
    # The fallback item is keyed by incident: replacing it moves it to another page.
    items._put(DueItem(DueKind.FALLBACK_PAGE, T0, incident, page_id=pages[0], round=1))
    items._put(DueItem(DueKind.FALLBACK_PAGE, T0, incident, page_id=pages[1], round=2))
    items._drop(DueKind.NOTIFY, pages[2], "sms", 1)

    items._forget_page(pages[0])
    items._forget_page(pages[2])

    remaining = {(i.kind, i.page_id) for i in items.pending()}
    assert not any(page in (pages[0], pages[2]) for _, page in remaining)
    assert (DueKind.FALLBACK_PAGE, pages[1]) in remaining, "moved off the forgotten page"
    assert len(items.pending()) == 48 * 3 + 1
    assert pages[0] not in items._page_keys
    assert pages[2] not in items._page_keys
    # The index names exactly the pending items of each page.
    for page, keys in items._page_keys.items():
        assert {items._items[k].page_id for k in keys} == {page}
    assert sum(len(keys) for keys in items._page_keys.values()) == len(items._items)
