"""incidentctl's failures: one `error:` line on stderr, the right exit code, no traceback,
and nothing appended to the log."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.integration.incident.conftest import Api
from tests.integration.incidentctl.conftest import Cli, invoke


def declared(cli: Cli) -> str:
    result = cli("declare", "checkout down", "--severity", "P1", "--service", "checkout", "-q")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def assert_one_error_line(stderr: str, expected: str) -> None:
    assert stderr.startswith("error: "), stderr
    assert expected in stderr, stderr
    assert stderr.endswith("\n")
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("declare", "", "--severity", "P1", "--service", "web"),
            "title: String should have at least 1 character",
            id="empty-title",
        ),
        pytest.param(
            ("declare", "x" * 201, "--severity", "P1", "--service", "web"),
            "title: ",
            id="oversized-title",
        ),
        pytest.param(
            ("declare", "t", "--severity", "P1", "--service", "Not A Service"),
            "services.0: ",
            id="bad-service-name",
        ),
        pytest.param(
            ("note", "INC-zz", "x"), "incident: 'INC-zz' is not a reference", id="bad-ref"
        ),
        pytest.param(("note", "INC-1", " "), "text: ", id="blank-note"),
        pytest.param(("severity", "INC-1", "P2", "--reason", " "), "reason: ", id="blank-reason"),
        pytest.param(("resolve", "INC-1", "--summary", ""), "summary: ", id="empty-summary"),
        pytest.param(("note", "INC-9", "x"), "incident INC-9 does not exist", id="not-found"),
        pytest.param(
            ("reopen", "INC-1", "--reason", "r"),
            "INC-1 is investigating, not resolved; only a resolved incident can be reopened",
            id="precondition",
        ),
    ],
)
def test_refused_commands_exit_1_with_the_servers_reason_and_append_nothing(
    cli: Cli, api: Api, args: tuple[str, ...], message: str
) -> None:
    declared(cli)
    head = api.store.head_position()

    result = cli(*args)

    assert result.exit_code == 1, result.stdout
    assert_one_error_line(result.stderr, message)
    assert result.stdout == ""
    assert api.store.head_position() == head


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        pytest.param(("declare", "t", "--service", "web"), "--severity", id="missing-severity"),
        pytest.param(("declare", "t", "--severity", "P9", "--service", "web"), "P9", id="bad-sev"),
        pytest.param(("status", "INC-1", "resolved"), "resolved", id="resolve-via-status"),
        pytest.param(("show", "INC-1", "--as-of", "yesterday"), "ISO 8601", id="bad-as-of"),
        pytest.param(("show", "INC-1", "--as-of", "2026-11-27T02:17"), "time zone", id="naive"),
        pytest.param(("show", "INC-1", "--as-of", "@0"), "@<n>", id="position-0"),
        pytest.param(("mitigate", "INC-1", "--kind", "prayer", "--description", "d"), "prayer"),
        pytest.param(("severity", "INC-1", "P2"), "--reason", id="missing-reason"),
        pytest.param(("frobnicate",), "frobnicate", id="unknown-command"),
    ],
)
def test_usage_errors_exit_2_before_anything_is_sent(
    cli: Cli, api: Api, args: tuple[str, ...], mentions: str
) -> None:
    declared(cli)
    head = api.store.head_position()
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert mentions in result.stderr
    assert "Traceback" not in result.stderr
    assert api.store.head_position() == head


def test_calls_without_a_valid_token_or_role_are_refused(cli: Cli, api: Api) -> None:
    args = ("declare", "t", "--severity", "P1", "--service", "web")

    missing = cli(*args, who=None)
    unknown = cli("--token", "fwt_not-a-real-token", *args, who=None)
    auditor = cli(*args, who="audrey")
    integration = cli("list", who="prom")

    assert [r.exit_code for r in (missing, unknown, auditor, integration)] == [1, 1, 1, 1]
    assert_one_error_line(missing.stderr, "missing bearer token")
    assert "pass --token or --token-file, or set FIREWATCH_TOKEN" in missing.stderr
    # Named by its fingerprint only: the token itself is never echoed back.
    assert_one_error_line(unknown.stderr, "unknown token (fingerprint ")
    assert "fwt_not-a-real-token" not in unknown.stderr
    assert_one_error_line(auditor.stderr, "audrey has role auditor")
    assert_one_error_line(integration.stderr, "prom has role integration")
    assert api.store.head_position() == 0


def test_the_token_can_come_from_a_file_or_the_environment(
    cli: Cli, api: Api, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(api.tokens["root"] + "\n", encoding="utf-8")
    server = f"127.0.0.1:{api.server.port}"

    from_flag = invoke("--server", server, "--token-file", str(token_file), "list", "--json")
    from_env = invoke(
        "list", "--json", env={"FIREWATCH_SERVER": server, "FIREWATCH_TOKEN_FILE": str(token_file)}
    )
    token_env = invoke(
        "list", "--json", env={"FIREWATCH_SERVER": server, "FIREWATCH_TOKEN": api.tokens["audrey"]}
    )
    absent = invoke("--server", server, "--token-file", str(tmp_path / "nope"), "list")
    empty_file = tmp_path / "empty"
    empty_file.write_text("\n", encoding="utf-8")
    empty = invoke("--server", server, "--token-file", str(empty_file), "list")

    assert [r.exit_code for r in (from_flag, from_env, token_env)] == [0, 0, 0]
    assert from_flag.stdout == from_env.stdout == "[]\n"
    assert absent.exit_code == empty.exit_code == 2
    assert_one_error_line(absent.stderr, f"cannot read the token file {tmp_path / 'nope'}")
    assert_one_error_line(empty.stderr, f"the token file {empty_file} is empty")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("retries", "args"),
    [
        # The default retry policy runs (bounded, about two seconds), then gives up.
        pytest.param((), ("list",), id="read"),
        pytest.param(
            ("--retries", "2"), ("declare", "t", "--severity", "P1", "--service", "w"), id="write"
        ),
        pytest.param(("--retries", "1"), ("watch", "--max-events", "1"), id="watch"),
    ],
)
def test_an_unreachable_server_exits_3_with_a_hint(
    retries: tuple[str, ...], args: tuple[str, ...]
) -> None:
    port = closed_port()
    result = invoke("--server", f"127.0.0.1:{port}", "--token", "fwt_x", *retries, *args)
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: cannot reach the incident API at 127.0.0.1:{port} — is `make run` running?\n"
    )
    assert result.stdout == ""


def test_tls_against_a_plaintext_server_is_a_connection_problem(api: Api) -> None:
    result = invoke(
        "--server", f"127.0.0.1:{api.server.port}", "--token", api.tokens["alice"],
        "--tls", "--retries", "1", "list",
    )  # fmt: skip
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: TLS handshake with the incident API at 127.0.0.1:{api.server.port} failed — "
        "check --ca-cert and that the server has TLS enabled\n"
    )
