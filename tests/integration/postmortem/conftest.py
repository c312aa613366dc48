"""The postmortem application over one SQLite log with the incident and paging writers
(the unit tests' `world`), plus its web pages on the production HTTP server (apikit.web)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from apikit.auth import Role, TokenRegistry, issue_token
from apikit.rpc import start_server
from apikit.web import serve_wsgi
from firewatch.postmortem.v1 import postmortem_pb2_grpc
from incidentctl.main import app as cli_app
from postmortem_service.api import SERVICE_NAME, PostmortemServicer
from postmortem_service.web import WebApp
from tests.unit.postmortem.conftest import World, clock, world

__all__ = ["World", "clock", "world"]


@pytest.fixture
def pages(world: World) -> Iterator[str]:
    """The pages' base URL, served by the production server on a free loopback port."""
    server = serve_wsgi(WebApp(world.app), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@dataclass
class Api:
    port: int
    tokens: dict[str, str]


@pytest.fixture
def api(world: World, tmp_path: Path) -> Iterator[Api]:
    """PostmortemService on a free port over the world's log; tokens for alice
    (responder), audrey (auditor) and ingo (integration)."""
    path = tmp_path / "tokens.json"
    tokens = {
        "alice": issue_token(path, "alice", Role.RESPONDER),
        "audrey": issue_token(path, "audrey", Role.AUDITOR),
        "ingo": issue_token(path, "ingo", Role.INTEGRATION),
    }
    servicer = PostmortemServicer(world.app, TokenRegistry(path))
    server = start_server(
        host="127.0.0.1",
        port=0,
        register=[
            lambda s: postmortem_pb2_grpc.add_PostmortemServiceServicer_to_server(  # type: ignore[no-untyped-call]
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
        "FIREWATCH_POSTMORTEM_SERVER": f"127.0.0.1:{api.port}",
        "COLUMNS": "250",
    }
    return CliRunner().invoke(cli_app, ["--token", api.tokens[who], *args], env=env)
