"""`incidentctl --help` documents every command and the exit codes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from incidentctl.main import app

COMMANDS = [
    "declare",
    "list",
    "show",
    "assign",
    "severity",
    "status",
    "note",
    "mitigate",
    "resolve",
    "reopen",
    "timeline",
    "watch",
]


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_help_lists_every_command_and_the_exit_codes() -> None:
    text = run("--help")
    listed = [line.split()[1] for line in text.splitlines() if line.startswith("│ ")]
    assert [name for name in listed if name in COMMANDS] == COMMANDS
    for code, meaning in [
        ("1", "refused by the server"),
        ("2", "usage error"),
        ("3", "connection problem"),
    ]:
        assert f"  {code}  {meaning}" in text
    for option in ("--server", "--token", "--token-file", "--tls", "--ca-cert", "--timeout"):
        assert option in text
    for variable in ("FIREWATCH_SERVER", "FIREWATCH_TOKEN", "FIREWATCH_TOKEN_FILE"):
        assert variable in text


def test_no_arguments_shows_the_help() -> None:
    result = CliRunner().invoke(app, [])
    assert "declare" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    assert f"incidentctl {command}" in run(command, "--help")


def test_mutating_commands_accept_an_idempotency_key() -> None:
    for command in COMMANDS:
        mutating = command not in ("list", "show", "timeline", "watch")
        assert ("--idempotency-key" in run(command, "--help")) is mutating, command
