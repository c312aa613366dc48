"""incidentctl against a real IncidentService server (the incident API's own fixture).

`cli(...)` runs one incidentctl invocation in-process with typer's CliRunner, pointed
at the fixture's server with alice's token unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from apikit.auth import TokenRegistry
from apikit.rpc import RunningServer, TlsFiles, start_server
from appkit import ProjectionRunner
from firewatch.incident.v1 import incident_pb2_grpc
from incident_service.api import SERVICE_NAME, IncidentServicer
from incident_service.app import IncidentApplication
from incident_service.projections import IncidentReadModel
from incidentctl.main import app
from tests.integration.incident.conftest import Api, api, open_log  # noqa: F401

# The runner's environment must not leak the developer's own settings into a test.
CLEAN_ENV: dict[str, str | None] = {
    "FIREWATCH_SERVER": None,
    "FIREWATCH_TOKEN": None,
    "FIREWATCH_TOKEN_FILE": None,
    "FIREWATCH_TLS": None,
    "FIREWATCH_CA_CERT": None,
    # Wide enough that rich never truncates a table cell a test looks for.
    "COLUMNS": "250",
}

Cli = Callable[..., Result]
ServerFactory = Callable[..., RunningServer]


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={**CLEAN_ENV, **(env or {})})


@pytest.fixture
def cli(api: Api) -> Cli:  # noqa: F811 - the imported fixture, requested by name
    def run(
        *args: str, who: str | None = "alice", env: dict[str, str | None] | None = None
    ) -> Result:
        auth = ["--token", api.tokens[who]] if who else []
        return invoke("--server", f"127.0.0.1:{api.server.port}", *auth, *args, env=env)

    return run


@pytest.fixture
def extra_servers(api: Api, tmp_path: Path) -> Iterator[ServerFactory]:  # noqa: F811
    """More IncidentService servers on the fixture's log and tokens (any port, maybe TLS);
    all stopped at the end."""
    started: list[RunningServer] = []

    def start(port: int = 0, tls: TlsFiles | None = None) -> RunningServer:
        runner = ProjectionRunner(api.store, IncidentReadModel)
        runner.catch_up()
        servicer = IncidentServicer(
            IncidentApplication(api.store, api.clock),
            api.store,
            runner,
            TokenRegistry(tmp_path / "tokens.json"),
        )
        server = start_server(
            host="127.0.0.1",
            port=port,
            register=[
                lambda s: incident_pb2_grpc.add_IncidentServiceServicer_to_server(  # type: ignore[no-untyped-call]
                    servicer, s
                )
            ],
            service_names=[SERVICE_NAME],
            tls=tls,
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(grace=0)
