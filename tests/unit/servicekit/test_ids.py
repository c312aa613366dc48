"""Derived event ids are stable, distinct per input and index, and version-independent."""

from __future__ import annotations

import uuid

import pytest

from servicekit.ids import DERIVED_ID_NAMESPACE, derived_event_id

INPUT = uuid.UUID("0b9e6c1e-4a3f-4b6e-9b1d-2f8e7c6a5d4c")


def test_same_inputs_give_the_same_id_across_processes_and_releases() -> None:
    # Pinned: a change here would give redelivered events new ids and duplicate them.
    assert uuid.UUID("6f0c1d6e-5b1a-5d0e-9a51-8e0c3f4b2a17") == DERIVED_ID_NAMESPACE
    assert derived_event_id("paging.page_responders", INPUT) == derived_event_id(
        "paging.page_responders", str(INPUT).upper()
    )
    assert derived_event_id("paging.page_responders", INPUT) == uuid.uuid5(
        DERIVED_ID_NAMESPACE, f"{INPUT}|0|paging.page_responders"
    )
    assert derived_event_id("paging.page_responders", INPUT).version == 5


def test_different_handler_input_or_index_give_different_ids() -> None:
    ids = {
        derived_event_id(handler, event, index)
        for handler in ("a", "b", "a|0")
        for event in (INPUT, uuid.UUID(int=1))
        for index in range(3)
    }
    assert len(ids) == 18


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        derived_event_id("", INPUT)
    with pytest.raises(ValueError, match="index"):
        derived_event_id("h", INPUT, -1)
    with pytest.raises(ValueError, match="badly formed"):
        derived_event_id("h", "not-a-uuid")
