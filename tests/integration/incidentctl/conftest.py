"""incidentctl against a real IncidentService server (the incident API's own fixture).

`cli(...)` runs one incidentctl invocation in-process with typer's CliRunner, pointed
at the fixture's server with alice's token unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

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
