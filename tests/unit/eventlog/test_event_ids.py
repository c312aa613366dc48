"""Default event ids are RFC 9562 version-7 uuids that sort by creation time."""

from __future__ import annotations

import uuid

from eventlog import NewEvent
from eventlog.model import time_ordered_uuid


def test_default_ids_are_version_7_with_the_rfc_variant() -> None:
    event_id = NewEvent("Happened", {}).id
    assert event_id.version == 7
    assert event_id.variant == uuid.RFC_4122


def test_ids_made_later_never_sort_before_earlier_milliseconds() -> None:
    ids = [time_ordered_uuid() for _ in range(2000)]
    milliseconds = [value.int >> 80 for value in ids]
    assert milliseconds == sorted(milliseconds)
    assert len(set(ids)) == len(ids)
