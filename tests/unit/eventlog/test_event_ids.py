"""Default event ids are RFC 9562 version-7 uuids that sort by creation time."""

from __future__ import annotations

import copy
import pickle
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


def test_a_default_id_is_an_ordinary_uuid() -> None:
    # time_ordered_uuid builds the UUID without UUID.__init__'s argument checks
    # (docs/adr/0032); it must be indistinguishable from one that went through them.
    for _ in range(1000):
        made = time_ordered_uuid()
        checked = uuid.UUID(int=made.int)
        assert made == checked
        assert hash(made) == hash(checked)
        assert str(made) == str(checked)
        assert made.is_safe == checked.is_safe
        assert uuid.UUID(str(made)) == made
        assert pickle.loads(pickle.dumps(made)) == made
        assert copy.deepcopy(made) == made
