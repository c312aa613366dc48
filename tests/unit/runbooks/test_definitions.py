"""Runbook definitions are validated on submission: a bad one is refused with the field
named and nothing is appended; every revision is kept."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.domain import InvalidCommandError
from runbooks_service import definition
from runbooks_service import runbook as rb

from .conftest import World, rollback_runbook


def refused(world: World, document: dict[str, Any]) -> str:
    before = world.app.store.head_position()
    with pytest.raises(InvalidCommandError) as error:
        world.app.publish(document, by="alice")
    assert world.app.store.head_position() == before  # nothing appended
    return error.value.field


def test_an_unknown_step_kind_is_refused_naming_the_step(world: World) -> None:
    assert refused(world, rollback_runbook(kind="ssh")) == "steps.1.kind"


def test_a_bad_url_is_refused_naming_the_action_url(world: World) -> None:
    document = rollback_runbook()
    document["steps"][1]["action"]["url"] = "ftp://example.com/x"
    assert refused(world, document) == "steps.1.action.url"


def test_a_bad_template_is_refused_naming_the_body(world: World) -> None:
    document = rollback_runbook()
    document["steps"][1]["action"]["body"] = "{{ incident.reference "
    assert refused(world, document) == "steps.1.action.body"


def test_a_missing_field_is_refused_by_name(world: World) -> None:
    document = rollback_runbook()
    del document["title"]
    assert refused(world, document) == "title"
    document = rollback_runbook()
    del document["steps"][1]["action"]
    assert refused(world, document) == "steps.1.action"


def test_a_bad_matcher_and_a_runbook_attached_to_nothing_are_refused(world: World) -> None:
    document = rollback_runbook()
    document["matchers"] = ["not a matcher"]
    assert refused(world, document) == "matchers.0"
    document = rollback_runbook()
    document["services"] = []
    assert refused(world, document) == "runbook"


def test_every_revision_is_kept_and_the_same_content_is_not_a_new_one(world: World) -> None:
    first = world.app.publish(rollback_runbook(), by="alice")
    again = world.app.publish(rollback_runbook(), by="alice")
    document = rollback_runbook()
    document["text"] = "# Checkout errors\nRevised."
    second = world.app.publish(document, by="alice")
    assert (first.state.revision, again.appended, second.state.revision) == (1, False, 2)
    state = world.app.runbook("checkout-5xx")
    first_revision = state.at(1)
    assert first_revision is not None
    assert first_revision.text.endswith("dashboard first.")
    assert state.current is not None
    assert state.current.text.endswith("Revised.")
    assert [e.type for e in world.app.store.read_stream(rb.stream_for("checkout-5xx"))] == [
        "RunbookPublished", "RunbookPublished",
    ]  # fmt: skip


def test_matching_orders_runbooks_by_specificity_with_alertmanager_matchers() -> None:
    broad = definition.parse({"id": "any-checkout", "title": "t", "services": ["checkout"],
                              "steps": [{"id": "a", "title": "a"}]})  # fmt: skip
    narrow = definition.parse({"id": "prod-5xx", "title": "t", "services": ["checkout"],
                               "matchers": ['env="prod"', 'alertname=~"Checkout.*"'],
                               "steps": [{"id": "a", "title": "a"}]})  # fmt: skip
    labels = {"env": "prod", "alertname": "Checkout5xx"}
    assert broad.specificity(("checkout",), labels) == 1
    assert narrow.specificity(("checkout",), labels) == 3
    assert narrow.specificity(("checkout",), {"env": "dev"}) is None
    assert broad.specificity(("payments",), labels) is None
