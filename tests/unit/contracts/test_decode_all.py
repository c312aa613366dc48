"""`EventRegistry.decode_all`, the bulk decoding of a fold (docs/adr/0030), gives
exactly what `from_recorded` gives event by event, for any sequence of recorded events:
current and older versions (upcast), newer versions, unknown types, invalid or
malformed payloads, events built in memory; the same values in the same order, and
the same error (type and message) at the same event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from contracts.events import EventLoadError, EventRegistry
from eventlog import EventMetadata, RecordedEvent
from incident_service import domain as incident
from tests.unit.contracts.sample_contracts import REGISTRY

_AT = "2026-12-04T01:02:03.000004Z"
# (type, schema_version, data text) of events as a store could hold them.
_STORED = [
    ("AccountOpened", 3, '{"currency":"EUR","family_name":"Lovelace","given_name":"Ada"}'),
    ("AccountOpened", 2, '{"family_name":"Lovelace","given_name":"Ada"}'),
    ("AccountOpened", 1, '{"name":"Ada Lovelace"}'),
    ("AccountOpened", 4, '{"currency":"EUR","family_name":"L","given_name":"A"}'),
    ("AccountOpened", 3, '{"currency":"EUR","family_name":"L"}'),
    ("AccountOpened", 3, '{"currency":"EUR","family_name":"L","given_name":"A","x":1}'),
    ("MoneyDeposited", 1, '{"amount_cents":250}'),
    ("MoneyDeposited", 1, '{"amount_cents":"250"}'),
    ("MoneyDeposited", 1, '{"amount_cents":"lots"}'),
    ("MoneyDeposited", 1, '{"amount_cents":1'),
    ("MoneyDeposited", 1, ' {"amount_cents":3} '),
    ("MoneyWithdrawn", 1, '{"amount_cents":5}'),
]
_INCIDENT = [
    ("TimelineNoteAdded", 1, f'{{"added_at":"{_AT}","author":"bob","text":"rolled back"}}'),
    ("TimelineNoteAdded", 1, f'{{"added_at":"{_AT}","author":"bob"}}'),
    ("TimelineNoteAdded", 1, '{"added_at":"yesterday","author":"bob","text":"x"}'),
    (
        "SeverityChanged",
        1,
        '{"changed_at":"2026-12-04T01:00:00Z","changed_by":"bob","from_severity":"P2",'
        '"reason":"spreading","to_severity":"P1"}',
    ),
    ("SeverityChanged", 1, '{"to_severity":"P9"}'),
    ("IncidentNoteAdded", 1, '{"text":"not an incident event"}'),
]


def _recorded(position: int, kind: str, version: int, text: str) -> RecordedEvent:
    event_id = str(uuid.UUID(int=position))
    hashes = ("0" * 64, "1" * 64)
    return RecordedEvent.from_tuple(
        (position, event_id, "s-1", position, kind, version, text, "{}", 0, *hashes)
    )


def _in_memory(position: int, kind: str, version: int, data: dict[str, Any]) -> RecordedEvent:
    # Built in memory: no stored text, so both paths validate the mapping.
    return RecordedEvent(
        id=uuid.UUID(int=position),
        stream="s-1",
        version=position,
        position=position,
        type=kind,
        schema_version=version,
        data=data,
        metadata=EventMetadata(),
        recorded_at=datetime(2026, 12, 4, tzinfo=UTC),
        prev_hash="0" * 64,
        hash="1" * 64,
    )


def _events(picks: list[tuple[bool, int]], catalogue: list[tuple[str, int, str]]) -> list[Any]:
    import json

    events = []
    for position, (in_memory, index) in enumerate(picks):
        kind, version, text = catalogue[index]
        if in_memory:
            try:
                data = json.loads(text)
            except ValueError:
                continue
            events.append(_in_memory(position, kind, version, data))
        else:
            events.append(_recorded(position, kind, version, text))
    return events


def _one_by_one(registry: EventRegistry, events: list[RecordedEvent]) -> list[Any]:
    out: list[Any] = []
    for event in events:
        try:
            out.append(registry.from_recorded(event))
        except Exception as error:  # the failure itself is compared
            out.append(("raised", type(error), str(error)))
            break
    return out


def _bulk(registry: EventRegistry, events: list[RecordedEvent]) -> list[Any]:
    out: list[Any] = []
    try:
        for decoded in registry.decode_all(events):
            out.append(decoded)
    except Exception as error:  # the failure itself is compared
        out.append(("raised", type(error), str(error)))
    return out


_PICKS = st.lists(st.tuples(st.booleans(), st.integers(0, 100)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(_PICKS)
# Each version of a type after its current one: the fast path must not keep serving
# the type once it has seen it.
@example([(False, 0), (False, 1), (False, 2), (False, 0), (False, 3)])
@example([(False, 6), (True, 6), (False, 7), (False, 9)])
def test_decode_all_equals_from_recorded_one_by_one(picks: list[tuple[bool, int]]) -> None:
    catalogue = _STORED
    events = _events([(m, i % len(catalogue)) for m, i in picks], catalogue)
    assert _bulk(REGISTRY, events) == _one_by_one(REGISTRY, events)


@settings(max_examples=300, deadline=None)
@given(_PICKS)
def test_decode_all_equals_from_recorded_for_incident_events(
    picks: list[tuple[bool, int]],
) -> None:
    catalogue = _INCIDENT
    events = _events([(m, i % len(catalogue)) for m, i in picks], catalogue)
    assert _bulk(incident.EVENTS, events) == _one_by_one(incident.EVENTS, events)


def test_decode_all_is_lazy_and_stops_at_the_first_bad_event() -> None:
    good = _recorded(1, *_STORED[6])
    bad = _recorded(2, *_STORED[8])
    decoded = REGISTRY.decode_all(iter([good, bad, good]))
    assert next(decoded) == REGISTRY.from_recorded(good)
    with pytest.raises(EventLoadError, match=r"^MoneyDeposited v1: "):
        next(decoded)
