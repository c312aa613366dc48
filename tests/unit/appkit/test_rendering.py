"""The renderer registry: one owner per stream category, loaded from the installed
services' `firewatch.renderers` entry points."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import EntryPoint

import pytest

from appkit.rendering import (
    ENTRY_POINT_GROUP,
    AsOfLog,
    DuplicateRendererError,
    RendererRegistry,
    Renderers,
    installed_renderers,
    load_entry_point,
)
from eventlog import RecordedEvent


def render_a(stream: str, events: Sequence[RecordedEvent], log: AsOfLog) -> None:
    return None


def render_b(stream: str, events: Sequence[RecordedEvent], log: AsOfLog) -> None:
    return None


def test_a_category_claimed_twice_is_an_error_naming_both_owners() -> None:
    registry = RendererRegistry([("one.rendering:RENDERERS", Renderers("one", {"x": render_a}))])

    with pytest.raises(DuplicateRendererError) as caught:
        registry.add(Renderers("two", {"x": render_b}), source="two.rendering:RENDERERS")

    message = str(caught.value)
    assert "'x'" in message
    assert "one (one.rendering:RENDERERS)" in message
    assert "two (two.rendering:RENDERERS)" in message


def test_a_registered_renderer_is_named_by_its_module_and_function() -> None:
    registry = RendererRegistry([("src", Renderers("one", {"x": render_a}))])

    found = registry.get("x")

    assert found is not None
    assert (found.owner, found.name) == ("one", f"{__name__}:render_a")
    assert registry.get("y") is None


def test_an_entry_point_that_is_not_a_renderers_object_is_refused() -> None:
    entry = EntryPoint("bad", f"{__name__}:render_a", ENTRY_POINT_GROUP)

    with pytest.raises(TypeError, match=r"bad = .*render_a.* is not a"):
        load_entry_point(entry)


def test_every_service_registers_its_renderers_through_the_entry_points() -> None:
    registry = installed_renderers()

    owners = {c: registry.get(c).owner for c in registry.categories}  # type: ignore[union-attr]
    assert owners == {
        "schedule": "paging",
        "policy": "paging",
        "escalation": "paging",
        "page": "paging",
        "user": "paging",
        "alert": "detection",
        "silence": "detection",
        "rule": "detection",
        "heartbeat": "detection",
        "check": "detection",
        "comms": "comms",
        "statusincident": "comms",
        "statuspage": "comms",
        "postmortem": "postmortem",
        "action": "postmortem",
    }
