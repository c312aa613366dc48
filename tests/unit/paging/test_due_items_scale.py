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
