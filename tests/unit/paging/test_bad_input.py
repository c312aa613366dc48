"""Bad input gets InvalidCommandError naming the field, and nothing is appended."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.domain import InvalidCommandError
from eventlog.sqlite import SQLiteEventStore
from paging_service.app import PagingApplication

from .conftest import register

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ONE = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)


@pytest.fixture
def setup(app: PagingApplication) -> PagingApplication:
    register(app, "alice", "bob")
    app.create_schedule("primary", "Primary", "Europe/Berlin")
    app.add_override("primary", "alice", NOON, ONE, override_id="cover")
    return app


CASES: dict[str, tuple[Callable[[PagingApplication], Any], str]] = {
    "unknown time zone": (
        lambda a: a.register_user("carol", "Carol", "Mars/Olympus"),
        "time_zone",
    ),
    "invalid email": (
        lambda a: a.register_user(
            "carol",
            "Carol",
            "UTC",
            contact_methods=[{"method_id": "m", "kind": "email", "address": "carol@@example"}],
        ),
        "contact_methods.0",
    ),
    "webhook without http(s)": (
        lambda a: a.add_contact_method("alice", "hook", "webhook", "ftp://example.com/x"),
        "method",
    ),
    "slack url without host": (
        lambda a: a.add_contact_method("alice", "chat", "slack", "https:///services/x"),
        "method",
    ),
    "rule naming an unknown method": (
        lambda a: a.set_notification_rules("alice", [{"method_id": "sms", "after_minutes": 0}]),
        "rules.0.method_id",
    ),
    "schedule with unknown zone": (
        lambda a: a.create_schedule("other", "Other", "Europe/Atlantis"),
        "time_zone",
    ),
    "layer with an unknown user": (
        lambda a: a.add_layer(
            "primary", "l", "L", ["alice", "zed"], start=datetime(2026, 11, 23, 9, 0)
        ),
        "users.1",
    ),
    "layer with an unknown zone": (
        lambda a: a.add_layer(
            "primary", "l", "L", ["alice"], start=datetime(2026, 11, 23, 9, 0), time_zone="Nope"
        ),
        "time_zone",
    ),
    "override for an unknown user": (
        lambda a: a.add_override("primary", "zed", ONE, ONE.replace(hour=14)),
        "user_id",
    ),
    "inverted override": (
        lambda a: a.add_override("primary", "bob", ONE.replace(hour=16), ONE.replace(hour=14)),
        "end",
    ),
    "overlapping override": (
        lambda a: a.add_override("primary", "bob", NOON.replace(minute=30), ONE.replace(hour=14)),
        "start",
    ),
    "empty policy": (lambda a: a.create_policy("p", "P", []), "levels"),
    "level without targets": (
        lambda a: a.create_policy("p", "P", [{"targets": [], "delay_minutes": 5}]),
        "levels.0.targets",
    ),
    "policy with an unknown user": (
        lambda a: a.create_policy("p", "P", [{"targets": ["user:alice", "user:zed"]}]),
        "levels.0.targets.1",
    ),
    "policy with an unknown schedule": (
        lambda a: a.create_policy("p", "P", [{"targets": ["schedule:nope"]}]),
        "levels.0.targets.0",
    ),
    "escalation with an unknown policy": (
        lambda a: a.start_escalation(uuid.uuid4(), "P1", "nope"),
        "policy",
    ),
    "unknown severity": (
        lambda a: a.start_escalation(uuid.uuid4(), "P9", "nope"),
        "policy",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_is_refused_with_the_field_named_and_nothing_appended(
    setup: PagingApplication, store: SQLiteEventStore, case: str
) -> None:
    call, field = CASES[case]
    head = store.head_position()

    with pytest.raises(InvalidCommandError) as raised:
        call(setup)

    assert raised.value.field.startswith(field), raised.value
    assert store.head_position() == head


def test_an_unknown_severity_is_refused_once_the_policy_exists(
    setup: PagingApplication, store: SQLiteEventStore
) -> None:
    setup.create_policy("p", "P", [{"targets": ["user:alice"]}])
    head = store.head_position()
    with pytest.raises(InvalidCommandError) as raised:
        setup.start_escalation(uuid.uuid4(), "P9", "p")
    assert raised.value.field == "severity"
    assert store.head_position() == head
