"""What every incidentctl command module shares: the common options, reaching the
settings the root callback parsed, printing JSON and failing with the right exit code.

Owns only these helpers, so `main` and the command modules (`alerting`, ...) import
this module instead of each other. It must never register commands or open a
connection.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, NoReturn, TypeVar

import typer

from incidentctl import render
from incidentctl.client import Settings
from incidentctl.errors import CliError

T = TypeVar("T")

KeyOption = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="repeat a command safely: the same key never records it twice "
        "(default: a fresh key per run)",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]


def usage(parse: Callable[[str], T]) -> Callable[[str], T]:
    """A values.py parser as a typer parser: its ValueError becomes a usage error (exit 2)
    that names the option, without the "Value error," prefix typer adds otherwise."""

    def run(text: str) -> T:
        try:
            return parse(text)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None

    return run


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    # Commands are only reachable through the callback that sets obj.
    assert isinstance(settings, Settings)
    return settings


def fail(error: CliError) -> NoReturn:
    typer.echo(f"error: {error.message}", err=True)
    raise typer.Exit(int(error.exit_code))


def new_key(given: str | None) -> str:
    # One key per invocation, shared by every retry of this invocation's request.
    return given or f"incidentctl-{uuid.uuid4()}"


def print_json(value: object) -> None:
    typer.echo(render.dumps(value))
