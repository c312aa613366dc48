"""Every incidentctl command against a real server, in human and --json form."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.integration.incident.conftest import Api
from tests.integration.incidentctl.conftest import Cli

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def declare(cli: Cli, title: str = "checkout 5xx above 1%", *extra: str) -> str:
    result = cli("declare", title, "--severity", "P1", "--service", "checkout", "-q", *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_declare_prints_the_reference_for_people_scripts_and_programs(cli: Cli) -> None:
    human = cli(
        "declare", "checkout 5xx above 1%", "-s", "p1", "--service", "checkout",
        "--service", "payments", "--alert", "am-1",
    )  # fmt: skip
    quiet = cli("declare", "db latency", "--severity", "P3", "--service", "db", "--quiet")
    as_json = cli("declare", "cdn errors", "--severity", "P2", "--service", "cdn", "--json")

    assert human.exit_code == quiet.exit_code == as_json.exit_code == 0
    assert human.stdout.startswith("INC-1: declared, P1, investigating: checkout 5xx above 1%")
    assert quiet.stdout == "INC-2\n"
    answer = json.loads(as_json.stdout)
    assert answer["outcome"]["reference"] == "INC-3"
    assert answer["outcome"]["event_types"] == ["IncidentDeclared"]
    assert answer["outcome"]["idempotency_key"].startswith("incidentctl-")
    assert answer["incident"]["severity"] == "P2"
    assert answer["incident"]["status"] == "investigating"
    assert answer["incident"]["services"] == ["cdn"]
    assert answer["incident"]["declared_by"] == "alice"


def test_an_incident_is_worked_from_declaration_to_reopening(cli: Cli, api: Api) -> None:
    api.clock.set(T0)
    ref = declare(cli)
    steps = [
        (("assign", ref, "carol"), "INC-1: commander is carol"),
        (("severity", ref, "P2", "--reason", "only EU affected"), "INC-1: severity is P2"),
        (("status", ref, "identified", "--note", "bad deploy"), "INC-1: status is identified"),
        (("note", ref, "paged the db team"), "INC-1: note added"),
        (
            (
                "mitigate", ref, "--kind", "rollback", "--description", "rolled back 1.4.2",
                "--applied-at", "2026-11-27T01:55:00Z",
            ),
            "INC-1: temporary rollback mitigation recorded",
        ),
        (
            ("resolve", ref, "--summary", "rollback held"),
            "INC-1: resolved; root cause PENDING",
        ),
        (("reopen", "1", "--reason", "errors are back"), "INC-1: reopened (1 time(s))"),
    ]  # fmt: skip
    for args, expected in steps:
        api.clock.advance(timedelta(minutes=1))
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stdout.startswith(expected), result.stdout

    shown = json.loads(cli("show", ref, "--json").stdout)
    assert shown["commander"] == "carol"
    assert (shown["severity"], shown["status"]) == ("P2", "investigating")
    assert shown["reopen_count"] == 1
    assert shown["mitigations"] == [
        {
            "kind": "rollback",
            "description": "rolled back 1.4.2",
            "temporary": True,
            "applied_by": "alice",
            "applied_at": "2026-11-27T01:55:00Z",
        }
    ]
    human = cli("show", shown["incident_id"])
    assert human.exit_code == 0
    for fragment in ("INC-1", "checkout 5xx above 1%", "carol", "rolled back 1.4.2", "P2"):
        assert fragment in human.stdout

    timeline = json.loads(cli("timeline", ref, "--json").stdout)
    types = [event["type"] for event in timeline["events"]]
    assert types == [
        "IncidentDeclared",
        "CommanderAssigned",
        "SeverityChanged",
        "StatusChanged",
        "TimelineNoteAdded",
        "MitigationApplied",
        "IncidentResolved",
        "RootCauseFollowUpRequired",
        "IncidentReopened",
    ]
    positions = [event["position"] for event in timeline["events"]]
    assert positions == sorted(positions)
    assert timeline["events"][4]["data"]["text"] == "paged the db team"
    assert timeline["events"][1]["actor"] == "alice"

    table = cli("timeline", ref)
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    for row, (kind, summary) in enumerate(
        [
            ("IncidentDeclared", 'declared P1 "checkout 5xx above 1%" for checkout'),
            ("CommanderAssigned", "carol is incident commander"),
            ("SeverityChanged", "severity P1 → P2: only EU affected"),
            ("StatusChanged", "status investigating → identified: bad deploy"),
            ("TimelineNoteAdded", "paged the db team"),
        ]
    ):
        [line] = [line for line in lines if kind in line]
        assert summary in line
        assert "alice" in line
        assert line.index(kind) > line.index("2026-11-27T02:0")
        # Log order: each row's line comes after the previous one's.
        assert lines.index(line) > row


def test_show_and_timeline_read_the_past_by_time_or_log_position(cli: Cli, api: Api) -> None:
    api.clock.set(T0)
    ref = declare(cli)
    declared_at = json.loads(cli("show", ref, "--json").stdout)["position"]
    api.clock.advance(timedelta(minutes=10))
    assert cli("severity", ref, "P3", "--reason", "contained").exit_code == 0

    then = cli("show", ref, "--as-of", iso(T0 + timedelta(minutes=5)), "--json")
    by_position = cli("show", ref, "--as-of", f"@{declared_at}", "--json")
    now = cli("show", ref, "--json")
    assert json.loads(then.stdout)["severity"] == "P1"
    assert json.loads(by_position.stdout) == json.loads(then.stdout)
    assert json.loads(now.stdout)["severity"] == "P3"

    human = cli("show", ref, "--as-of", "2026-11-27T03:05:00+01:00")
    assert human.exit_code == 0
    assert "as of 2026-11-27T02:05:00Z" in human.stdout

    past = json.loads(
        cli("timeline", ref, "--as-of", iso(T0 + timedelta(minutes=5)), "--json").stdout
    )
    assert [e["type"] for e in past["events"]] == ["IncidentDeclared"]
    at_position = cli("timeline", ref, "--as-of", f"@{declared_at}")
    assert "IncidentDeclared" in at_position.stdout
    assert "SeverityChanged" not in at_position.stdout
    assert f"as of log position {declared_at}" in at_position.stdout

    before = cli("show", ref, "--as-of", iso(T0 - timedelta(seconds=1)))
    assert before.exit_code == 1
    assert before.stderr.startswith("error: ")


def test_list_filters_and_follows_every_page(cli: Cli, api: Api) -> None:
    api.clock.set(T0)
    for index in range(5):
        api.clock.advance(timedelta(minutes=1))
        result = cli(
            "declare",
            f"incident {index}",
            "--severity",
            "P1" if index % 2 else "P3",
            "--service",
            "web" if index < 3 else "db",
        )
        assert result.exit_code == 0
    assert cli("resolve", "INC-2", "--summary", "ok").exit_code == 0

    def refs(*args: str) -> list[str]:
        result = cli("list", "--json", *args)
        assert result.exit_code == 0, result.stderr
        return [incident["reference"] for incident in json.loads(result.stdout)]

    everything = ["INC-5", "INC-4", "INC-3", "INC-2", "INC-1"]
    assert refs() == everything
    assert refs("--page-size", "2") == everything  # three pages
    assert refs("--page-size", "2", "--limit", "3") == everything[:3]
    assert refs("--status", "investigating", "--severity", "P3", "--service", "web") == [
        "INC-3",
        "INC-1",
    ]
    assert refs("--status", "resolved") == ["INC-2"]
    assert refs("--severity", "P1", "--severity", "P3", "--service", "db") == ["INC-5", "INC-4"]
    assert refs(
        "--since", iso(T0 + timedelta(minutes=2)), "--until", iso(T0 + timedelta(minutes=4))
    ) == [
        "INC-3",
        "INC-2",
    ]

    table = cli("list", "--service", "web")
    assert table.exit_code == 0
    for fragment in ("INC-3", "INC-2", "INC-1", "incident 0", "resolved", "investigating"):
        assert fragment in table.stdout
    assert "INC-4" not in table.stdout
    empty = cli("list", "--service", "nothing-here")
    assert (empty.exit_code, empty.stdout, empty.stderr) == (0, "", "no incidents match\n")


def test_a_repeated_idempotency_key_records_the_command_once(cli: Cli, api: Api) -> None:
    ref = declare(cli, "t", "--idempotency-key", "alertgroup-7")
    again = cli(
        "declare", "t", "--severity", "P1", "--service", "checkout",
        "--idempotency-key", "alertgroup-7", "--json",
    )  # fmt: skip
    assert json.loads(again.stdout)["outcome"]["replayed"] is True
    assert json.loads(again.stdout)["outcome"]["reference"] == ref
    head = api.store.head_position()

    first = cli("note", ref, "paged db", "--idempotency-key", "n-1")
    second = cli("note", ref, "paged db", "--idempotency-key", "n-1")

    assert first.exit_code == second.exit_code == 0
    assert "nothing new recorded" not in first.stdout
    assert "already applied with idempotency key n-1: nothing new recorded" in second.stdout
    assert api.store.head_position() == head + 1


def test_assigning_the_same_commander_again_records_nothing(cli: Cli, api: Api) -> None:
    ref = declare(cli)
    assert cli("assign", ref, "carol").exit_code == 0
    head = api.store.head_position()
    same = cli("assign", ref, "carol")
    assert same.exit_code == 0
    assert same.stdout == "INC-1: commander is carol (no change: nothing recorded)\n"
    assert api.store.head_position() == head


def test_an_80_column_terminal_gets_whole_words_and_verbose_data(cli: Cli, api: Api) -> None:
    api.clock.set(T0)
    title = "Checkout returns 5xx for EU customers after the payments-gateway deploy"
    ref = declare(cli, title, "--service", "payments-gateway")
    assert cli("assign", ref, "alice.longname").exit_code == 0
    narrow = {"COLUMNS": "80"}

    listed = cli("list", env=narrow)
    timeline = cli("timeline", ref, env=narrow)
    verbose = cli("timeline", ref, "-v", env=narrow)

    for result in (listed, timeline, verbose):
        assert result.exit_code == 0, result.stderr
        assert "…" not in result.stdout, result.stdout
        assert max(map(len, result.stdout.splitlines())) <= 80, result.stdout
    for word in (ref, "payments-gateway", "alice.longname", *title.split()):
        assert any(word in line for line in listed.stdout.splitlines()), listed.stdout
    lines = timeline.stdout.splitlines()
    for word in ("IncidentDeclared by alice", "CommanderAssigned by alice", "2026-11-27T02:00:00Z"):
        assert any(word in line for line in lines), timeline.stdout
    assert "alice.longname is incident commander" in timeline.stdout
    # -v adds each event's data, path by path; the sentence never shows it raw.
    assert "services[1]: payments-gateway" in verbose.stdout
    assert "services[1]" not in timeline.stdout
    assert "['checkout'" not in timeline.stdout
