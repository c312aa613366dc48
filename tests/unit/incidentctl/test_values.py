"""Parsing the CLI's instants, positions and incident arguments; naming enum values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firewatch.incident.v1 import incident_pb2 as pb
from incidentctl.values import (
    AsOf,
    MitigationKind,
    Severity,
    Status,
    format_instant,
    incident_argument,
    kind_name,
    parse_as_of,
    parse_instant,
    severity_name,
    status_name,
)


def test_as_of_is_a_zoned_iso_time_or_an_at_position() -> None:
    assert parse_as_of("2026-11-27T02:17:00Z") == AsOf(
        time=datetime(2026, 11, 27, 2, 17, tzinfo=UTC)
    )
    assert parse_as_of("2026-11-27T03:17:00+01:00").time == datetime(
        2026, 11, 27, 2, 17, tzinfo=UTC
    )
    assert parse_as_of("@42") == AsOf(position=42)
    assert parse_as_of("@42").describe() == "log position 42"
    assert parse_as_of("2026-11-27T02:17:00Z").describe() == "2026-11-27T02:17:00Z"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("yesterday", "not an ISO 8601 timestamp"),
        ("2026-11-27T02:17:00", "no time zone"),
        ("2026-11-27", "no time zone"),
        ("@", "@<n>"),
        ("@0", "@<n>"),
        ("@-3", "@<n>"),
        ("@x", "@<n>"),
    ],
)
def test_ambiguous_or_malformed_instants_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_as_of(text)


def test_instants_print_in_the_form_they_are_read() -> None:
    instant = datetime(2026, 11, 27, 2, 17, tzinfo=UTC)
    assert parse_instant(format_instant(instant)) == instant
    assert format_instant(datetime(2026, 1, 1, 0, 0, 0, 500, tzinfo=UTC)).endswith(".000500Z")


def test_incident_arguments_pass_through_and_bare_numbers_become_references() -> None:
    assert incident_argument("INC-42") == "INC-42"
    assert incident_argument(" 42 ") == "INC-42"
    uuid_text = "71bf8a8a-9a31-552f-9ebd-d7c33bbbff29"
    assert incident_argument(uuid_text) == uuid_text
    assert incident_argument("nonsense") == "nonsense"  # the server judges it


def test_cli_choices_map_to_protobuf_values_and_back() -> None:
    for severity in Severity:
        assert severity_name(pb.Severity.Value(severity.to_pb())) == severity.value
    for status in Status:
        assert status_name(pb.Status.Value(status.to_pb())) == status.value
    for kind in MitigationKind:
        assert kind_name(pb.MitigationKind.Value(kind.to_pb())) == kind.value
    # A value from a newer server is shown, not a crash.
    assert severity_name(99) == "unknown(99)"
