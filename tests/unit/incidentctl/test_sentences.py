"""Every event type a timeline can show reads as a sentence, never as a dict repr.

The registered contracts come from the `firewatch.events` entry points (incident,
detection, paging and any service added later), so a new event type without a
sentence in incidentctl/sentences.py fails here. Each is rendered from its stored
fixtures, the same examples the services' contract tests replay.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from contracts.events import EventRegistry
from incidentctl.sentences import SENTENCES, generic, sentence

ROOT = Path(__file__).resolve().parents[3]


def registries() -> dict[str, EventRegistry]:
    loaded = {point.name: point.load() for point in entry_points(group="firewatch.events")}
    assert {"incident", "detection", "paging", "communications", "postmortem"} <= set(loaded), (
        loaded
    )
    return loaded


def fixture_folder(registry: EventRegistry) -> Path:
    """services/<package>/fixtures of the service that owns `registry` (the entry point's
    name is the writer, e.g. "communications", not always the folder, e.g. "comms")."""
    for candidate in sorted((ROOT / "services").glob("*/fixtures")):
        names = {path.parent.name for path in candidate.glob("*/v1.json")}
        if names and names <= set(registry.types):
            return candidate
    raise AssertionError(f"no fixtures folder holds {registry.owner!r}'s events")


def fixture_cases() -> list[Any]:
    """(type, data) for every stored fixture version, as the log holds it (the fixture's
    data) and as the current contract writes it (loaded, upcast and dumped again)."""
    cases = []
    for registry in registries().values():
        folder = fixture_folder(registry)
        for path in sorted(folder.glob("*/v*.json")):
            event_type, version = path.parent.name, int(path.stem.removeprefix("v"))
            stored = json.loads(path.read_text(encoding="utf-8"))["data"]
            current = registry.to_new_event(registry.load(event_type, version, stored)).data
            cases.append(pytest.param(event_type, stored, id=f"{event_type}-v{version}"))
            cases.append(pytest.param(event_type, current, id=f"{event_type}-v{version}-current"))
    return cases


# A dict or list printed by Python or JSON: `{'a': ...`, `["x"`, `[{`, `=[` ...
RAW_CONTAINER = re.compile(r"[{\[]\s*['\"{\[]|=\s*[{\[]|['\"]\s*:\s*[{\[]")


def nested_values(data: Any) -> list[Any]:
    found = []
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, dict | list) and value:
                found.append(value)
            found += nested_values(value)
    elif isinstance(data, list):
        for value in data:
            found += nested_values(value)
    return found


def assert_plain_sentence(text: str, data: Any) -> None:
    assert text, repr(text)
    assert text.strip() == text, repr(text)
    assert "\n" not in text
    assert not RAW_CONTAINER.search(text), text
    for value in nested_values(data):
        assert repr(value) not in text, text
        assert json.dumps(value) not in text, text


def test_every_registered_event_type_has_its_own_sentence() -> None:
    registered = {name for registry in registries().values() for name in registry.types}
    assert len(registered) > 60  # every service's contracts, not an empty import
    missing = sorted(registered - set(SENTENCES))
    assert missing == [], f"event types without a sentence in incidentctl/sentences.py: {missing}"


@pytest.mark.parametrize(("event_type", "data"), fixture_cases())
def test_each_fixture_reads_as_a_sentence_without_raw_data(event_type: str, data: Any) -> None:
    text = sentence(event_type, data, version=3)
    assert_plain_sentence(text, data)
    # Its own sentence, not the fallback for types this client does not know.
    assert text != generic(event_type, data)


WEIRD_VALUES: list[Any] = [None, 3.5, True, [1, {"a": 2}], {"x": [1, 2]}, "", [], {}]


@pytest.mark.parametrize("event_type", sorted(SENTENCES))
def test_missing_or_oddly_typed_fields_never_break_a_sentence(event_type: str) -> None:
    """Old or newer schema versions, or a bug elsewhere: the listing must still print."""
    fields = {
        name
        for owner in registries().values()
        if event_type in owner.types
        for name in owner.types[event_type].model_fields
    }
    assert_plain_sentence(sentence(event_type, {}), {})
    for weird in WEIRD_VALUES:
        data = dict.fromkeys(fields, weird)
        assert_plain_sentence(sentence(event_type, data), data)


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        (
            "EscalationStarted",
            {
                "incident_id": "00000000-0000-4000-8000-000000000001",
                "policy": {
                    "policy_id": "default",
                    "revision": 1,
                    "repeat": 0,
                    "un_ack_timeout_minutes": None,
                    "levels": [{"delay_minutes": 5, "targets": [{"id": "oncall", "kind": "user"}]}],
                },
                "service": "checkout",
                "severity": "P1",
                "urgency": "high",
                "title": "Checkout returns 5xx",
                "started_at": "2026-11-27T02:00:00Z",
            },
            "escalation on policy default rev 1 started: P1, high urgency, 1 level",
        ),
        (
            "EscalationStepFired",
            {"step": 3, "round": 1, "level": 1, "repeat": 1, "responders": ["bob", "carol"]},
            "escalation level 2 (pass 2, round 2) fired: paging bob, carol",
        ),
        (
            "ResponderPaged",
            {
                "user_id": "oncall",
                "plan": [
                    {
                        "address": "oncall@firewatch.local",
                        "after_minutes": 0,
                        "kind": "email",
                        "method_id": "email",
                    },
                ],
            },
            "paged oncall by email",
        ),
        (
            "PageDelivered",
            {"method_id": "email", "attempt": 1},
            "page delivered by email (attempt 1)",
        ),
        (
            "IncidentDeclared",
            {
                "severity": "P1",
                "title": "Checkout returns 5xx",
                "services": ["checkout"],
                "source_alerts": ["a1"],
            },
            'declared P1 "Checkout returns 5xx" for checkout, from 1 alert',
        ),
        (
            "IncidentResolved",
            {"summary": "rolled back", "root_cause_pending": True},
            "resolved: rolled back (root cause pending)",
        ),
        (
            "MitigationApplied",
            {
                "kind": "rollback",
                "description": "to 1.4.1",
                "temporary": True,
                "applied_at": "2026-11-27T01:55:00Z",
                "recorded_at": "2026-11-27T02:10:00.5Z",
            },
            "temporary rollback applied: to 1.4.1 (at 2026-11-27T01:55:00Z)",
        ),
        ("IncidentNumberAllocated", {"incident_id": "x"}, "number INC-4 allocated"),
        (
            "PostmortemPublished",
            {"root_cause": "a pool too small.", "closes_root_cause_follow_up": True},
            "postmortem published, root cause: a pool too small; closes the root-cause follow-up",
        ),
        (
            "PostmortemPublished",
            {
                "root_cause": "a pool too small",
                "closes_root_cause_follow_up": True,
                "reconfirms": True,
            },
            "root cause re-confirmed: a pool too small; closes the root-cause follow-up",
        ),
        (
            "AlertTriggered",
            {
                "severity": "critical",
                "summary": "disk full",
                "occurrence": 2,
                "source": "pagerduty",
                "integration": "pd-tool",
            },
            "critical alert fired again (occurrence 2): disk full, via pagerduty integration "
            "pd-tool",
        ),
    ],
)
def test_sentences_say_what_happened_in_words(
    event_type: str, data: dict[str, Any], expected: str
) -> None:
    assert sentence(event_type, data, version=3) == expected


def test_an_unknown_event_type_shows_its_plain_fields_only() -> None:
    data = {
        "name": "x",
        "parts": [{"a": 1}],
        "count": 3,
        "tags": ["a", "b"],
        "created_at": "2026-11-27T02:00:00Z",
        "owner_id": "u1",
    }
    assert sentence("WidgetFrobbed", data) == "name x; count 3; tags a, b"
    assert sentence("WidgetFrobbed", {"parts": [{"a": 1}]}) == "WidgetFrobbed"


def test_data_that_is_not_an_object_is_left_to_verbose_output() -> None:
    assert sentence("IncidentDeclared", "{not json") == "unreadable data (see -v)"
    assert sentence("IncidentDeclared", [1, 2]) == "unreadable data (see -v)"
    assert sentence("IncidentDeclared", {}) == "declared"
