"""Fuzzing the append boundary: any input either appends or raises InvalidEventError
(naming a field) and appends nothing — never another exception, never a partial write."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventlog import (
    AppendResult,
    ConcurrencyError,
    InvalidEventError,
    NewEvent,
    Ownership,
    StreamState,
)
from eventlog.sqlite import SQLiteEventStore

any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(max_size=4),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=5) | st.integers(), children, max_size=3)
    ),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SQLiteEventStore:
    path: Path = tmp_path_factory.mktemp("fuzz") / "log.db"
    return SQLiteEventStore(path, writer="fuzzer", ownership=Ownership({"fuzzer": {"fuzz"}}))


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stream=st.text(max_size=30) | st.from_regex(r"fuzz-[A-Za-z0-9._:@+=-]{1,20}", fullmatch=True),
    event_type=st.text(max_size=20) | st.just("Fuzzed"),
    data=any_json,
    expected=st.sampled_from([StreamState.ANY, StreamState.NO_STREAM, 0, -1, "any", None, 1.5]),
)
def test_every_input_is_appended_whole_or_refused_naming_a_field(
    store: SQLiteEventStore, stream: str, event_type: str, data: object, expected: object
) -> None:
    before = store.head_position()
    outcome: object
    try:
        outcome = store.append(stream, [NewEvent(event_type, data)], expected)  # type: ignore[arg-type]
    # A well-formed append may still meet a version conflict on a stream the fuzzer
    # wrote earlier; any other exception type propagates and fails the test.
    except (InvalidEventError, ConcurrencyError) as error:
        outcome = error
    if isinstance(outcome, Exception):
        assert not isinstance(outcome, InvalidEventError) or outcome.field
        assert store.head_position() == before
        return
    assert isinstance(outcome, AppendResult)
    assert store.head_position() == outcome.last_position > before
    [stored] = store.read_stream(stream, from_version=outcome.current_version)
    assert stored.data == data
