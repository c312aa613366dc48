"""The pages are routed through apikit's url_map(ENDPOINTS): every declared endpoint
answers, nothing undeclared does, and the deployment secret guards all but health."""

from __future__ import annotations

from typing import Any

import pytest

from apikit.endpoints import Access
from postmortem_service import web
from tests.unit.postmortem.conftest import World


def call(
    app: web.WebApp, path: str, *, method: str = "GET", token: str | None = None
) -> tuple[str, bytes]:
    answer: dict[str, Any] = {}

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"] = status

    environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "QUERY_STRING": ""}
    if token is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    body = b"".join(app(environ, start))
    return answer["status"], body


def test_the_router_is_the_endpoint_registry(world: World, monkeypatch: Any) -> None:
    incident_id = world.resolved_incident("P1")
    app = web.WebApp(world.app, token="s3cret")
    for endpoint in web.ENDPOINTS:
        path = endpoint.path.replace("<name>", str(incident_id))
        status, _ = call(app, path, token="s3cret")
        assert status == "200 OK", (endpoint.path, status)
        status, _ = call(app, path)
        expected = "200 OK" if endpoint.access is Access.OPEN else "401 Unauthorized"
        assert status == expected, endpoint.path
        status, _ = call(app, path, method="POST", token="s3cret")
        assert status == "405 Method Not Allowed", endpoint.path
    assert call(app, "/nowhere", token="s3cret")[0] == "404 Not Found"
    assert call(app, "/nowhere")[0] == "401 Unauthorized"  # no probing without the secret
    assert call(app, f"/postmortems/{incident_id}.md", token="s3cret")[1].startswith(b"# ")
    assert call(app, "/postmortems/not-a-uuid", token="s3cret")[0] == "404 Not Found"

    # A page routed but not declared cannot exist: the router only knows ENDPOINTS.
    monkeypatch.setattr(web, "ENDPOINTS", tuple(e for e in web.ENDPOINTS if e.name != "metrics"))
    assert call(web.WebApp(world.app), "/metrics")[0] == "404 Not Found"


@pytest.mark.parametrize("path", ["/postmortems.json", "/actions.csv"])
def test_an_open_deployment_answers_without_a_token(world: World, path: str) -> None:
    assert call(web.WebApp(world.app), path)[0] == "200 OK"
