"""Pure parsers and YAML validation: clear errors naming the field; fuzzed so any input
gives either a signal or an error list, never an exception."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detection_service.formats import alertmanager, pagerduty
from detection_service.formats.signal import Action
from detection_service.labels import Matcher
from detection_service.routing import ConfigError, parse_config
from detection_service.rule import RulesFileError, parse_rules
from tests.unit.detection.conftest import sample

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def _mutations(base: dict[str, Any]) -> st.SearchStrategy[Any]:
    """The sample with some fields replaced by arbitrary JSON (deep where it matters)."""

    def mutate(changes: dict[str, Any]) -> Any:
        return {**base, **changes}

    return st.dictionaries(st.sampled_from(sorted(base)), JSON, max_size=3).map(mutate)


def test_alertmanager_sample_parses() -> None:
    signals, errors = alertmanager.parse(sample("alertmanager-webhook-v4.json"))
    assert errors == []
    (signal,) = signals
    assert signal.action is Action.TRIGGER
    assert signal.dedup_key == "5c8a603f09d8e4f9"
    assert signal.severity.value == "critical"
    assert signal.annotations["runbook_url"] == "https://runbooks.example/checkout-5xx"
    assert signal.ended_at is None


def test_alertmanager_errors_name_each_field() -> None:
    body = sample("alertmanager-webhook-v4.json")
    body["version"] = "3"
    body["alerts"][0]["status"] = "maybe"
    body["alerts"][0]["labels"] = {"ok": "x", "bad-label": "y"}
    signals, errors = alertmanager.parse(body)
    assert signals == []
    assert errors == [
        "version: must be \"4\", got '3'",
        "alerts[0].status: must be one of firing, resolved",
        "alerts[0].labels: label name 'bad-label' must match [a-zA-Z_][a-zA-Z0-9_]*",
    ]


def test_pagerduty_sample_parses() -> None:
    event, errors = pagerduty.parse(sample("pagerduty-events-v2-trigger.json"))
    assert errors == []
    assert event is not None
    assert event.routing_key == "R015WXYZ0123456789ABCDEFGHIJKLMN"
    assert event.signal.labels == {
        "component": "checkout",
        "group": "prod",
        "class": "http-5xx",
        "source": "checkout-1.prod",
        "severity": "critical",
    }
    assert event.signal.annotations["custom_details"] == '{"ratio": 0.032}'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([], ["body: must be a JSON object"]),
        (
            {"routing_key": "k", "event_action": "explode"},
            ["event_action: must be one of trigger, acknowledge, resolve"],
        ),
        ({"routing_key": "k", "event_action": "resolve"}, ["dedup_key: is required to resolve"]),
        (
            {
                "routing_key": "k",
                "event_action": "trigger",
                "dedup_key": "x" * 256,
                "payload": {"summary": "s", "source": "s", "severity": "info"},
            },
            ["dedup_key: must be a non-empty string of at most 255 characters"],
        ),
        (
            {
                "event_action": "trigger",
                "payload": {"summary": "s", "source": "s", "severity": "info", "timestamp": "noon"},
            },
            [
                "routing_key: is missing or blank",
                "payload.timestamp: 'noon' is not an RFC 3339 timestamp",
            ],
        ),
    ],
)
def test_pagerduty_errors(body: Any, expected: list[str]) -> None:
    event, errors = pagerduty.parse(body)
    assert event is None
    assert errors == expected


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON, _mutations(sample("alertmanager-webhook-v4.json"))))
def test_alertmanager_parser_never_raises(body: Any) -> None:
    signals, errors = alertmanager.parse(body)
    assert bool(signals) != bool(errors)
    assert all(isinstance(e, str) and ": " in e for e in errors)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        JSON,
        _mutations(sample("pagerduty-events-v2-trigger.json")),
        _mutations(sample("pagerduty-events-v2-trigger.json")["payload"]).map(
            lambda payload: {**sample("pagerduty-events-v2-trigger.json"), "payload": payload}
        ),
    )
)
def test_pagerduty_parser_never_raises(body: Any) -> None:
    event, errors = pagerduty.parse(body)
    assert (event is None) == bool(errors)
    assert all(isinstance(e, str) and ": " in e for e in errors)


def test_rules_file_errors_name_file_rule_and_field() -> None:
    text = """
rules:
  - name: NoSeries
    kind: threshold
    comparison: ">"
    threshold: 1
  - name: BadFor
    kind: threshold
    series: {name: up}
    comparison: ">>"
    threshold: lots
    for: soon
"""
    with pytest.raises(RulesFileError) as caught:
        parse_rules(text, "rules.yaml")
    problems = caught.value.problems
    assert (
        "rules.yaml: rules[0] (NoSeries).rule: Value error, a threshold rule needs `series`"
        in problems
    )
    assert any(p.startswith("rules.yaml: rules[1] (BadFor).comparison:") for p in problems)
    assert any(p.startswith("rules.yaml: rules[1] (BadFor).threshold:") for p in problems)
    assert any(p.startswith("rules.yaml: rules[1] (BadFor).for:") for p in problems)


def test_rules_file_shape_errors() -> None:
    with pytest.raises(RulesFileError, match="not valid YAML"):
        parse_rules("rules: [", "r.yaml")
    with pytest.raises(RulesFileError, match="`rules:` list"):
        parse_rules("groups: []", "r.yaml")
    dup = (
        "rules:\n"
        + "  - {name: A, kind: threshold, series: {name: up}, comparison: '<', threshold: 1}\n" * 2
    )
    with pytest.raises(RulesFileError, match="defined twice"):
        parse_rules(dup, "r.yaml")


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("group_window: forever\nroutes:\n  - matchers: ['1a=b']\n", "detection.yaml")
    text = str(caught.value)
    assert "detection.yaml: group_window:" in text
    assert "detection.yaml: routes.0.matchers.0:" in text


def test_defaults_map_pagerduty_severities() -> None:
    config = parse_config("")
    assert {k.value: v.value for k, v in config.severity_map.items()} == {
        "critical": "P1",
        "error": "P2",
        "warning": "P3",
        "info": "P4",
    }


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ('service="checkout"', {"service": "checkout"}, True),
        ('service!="checkout"', {"service": "checkout"}, False),
        ('env=~"prod|staging"', {"env": "staging"}, True),
        ('env=~"prod"', {"env": "production"}, False),  # anchored, like Alertmanager
        ('env!~"dev.*"', {}, True),
        ('team=""', {}, True),  # a missing label matches the empty string
    ],
)
def test_matchers(text: str, labels: dict[str, str], expected: bool) -> None:
    assert Matcher.parse(text).matches(labels) is expected


def test_example_config_and_rules_load() -> None:
    from pathlib import Path

    from detection_service.routing import load_config
    from detection_service.rule import load_rules_file

    folder = Path(__file__).resolve().parents[3] / "services" / "detection"
    config = load_config(folder / "config.example.yaml")
    assert config.routes[0].services == ("checkout", "payments")
    (rules_file,) = config.rules_files
    (spec,) = load_rules_file(rules_file)
    assert spec.name == "CheckoutHighErrorRate"
    assert spec.for_.total_seconds() == 120
