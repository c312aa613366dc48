"""The runbooks API on a free loopback port over the unit tests' `world` (one SQLite
log shared with the incident writer), and incidentctl run against it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from apikit.auth import Role, TokenRegistry, issue_token
from apikit.rpc import start_server
from firewatch.runbooks.v1 import runbooks_pb2_grpc
from incidentctl.main import app as cli_app
from runbooks_service.api import SERVICE_NAME, RunbookServicer
from tests.unit.runbooks.conftest import World, clock, world

__all__ = ["World", "clock", "world"]


@dataclass
class Api:
    port: int
    tokens: dict[str, str]


@pytest.fixture
def api(world: World, tmp_path: Path) -> Iterator[Api]:
    """RunbookService over the world's log; tokens for alice and carol (responders)
    and audrey (auditor)."""
    path = tmp_path / "tokens.json"
    tokens = {
        "alice": issue_token(path, "alice", Role.RESPONDER),
        "carol": issue_token(path, "carol", Role.RESPONDER),
        "audrey": issue_token(path, "audrey", Role.AUDITOR),
    }
    servicer = RunbookServicer(world.app, TokenRegistry(path))
    server = start_server(
        host="127.0.0.1",
        port=0,
        register=[
            lambda s: runbooks_pb2_grpc.add_RunbookServiceServicer_to_server(  # type: ignore[no-untyped-call]
                servicer, s
            )
        ],
        service_names=[SERVICE_NAME],
    )
    try:
        yield Api(server.port, tokens)
    finally:
        server.stop(grace=0)


def run_cli(api: Api, *args: str, who: str = "alice") -> Result:
    env: dict[str, str | None] = {
        "FIREWATCH_SERVER": None,
        "FIREWATCH_TOKEN": None,
        "FIREWATCH_TOKEN_FILE": None,
        "FIREWATCH_RUNBOOKS_SERVER": f"127.0.0.1:{api.port}",
        "COLUMNS": "250",
    }
    return CliRunner().invoke(cli_app, ["--token", api.tokens[who], *args], env=env)
