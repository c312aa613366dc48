"""Every gRPC method and HTTP endpoint of every service, against every role plus an
expired and a revoked token, answers what docs/access.md says.

The methods come from the generated gRPC descriptors (every `firewatch.*` service, so
a service or method added later is found without touching this test) and the HTTP
endpoints from each service's `ENDPOINTS` registry (apikit.endpoints); either one
without a row in docs/access.md fails here. The calls go to a whole running platform
(`make run`, tests/e2e/localplatform.py), over real gRPC and HTTP.
"""

from __future__ import annotations

import importlib
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor

import firewatch
from apikit.auth import Role, issue_token, revoke_in_file
from apikit.endpoints import Access, Endpoint
from tests.e2e.localplatform import ROOT, LocalPlatform

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

DOC = ROOT / "docs" / "access.md"
ROLES = [role.value for role in Role]  # admin, responder, integration, auditor
CALLERS = [*ROLES, "expired", "revoked"]
STREAM_SECONDS = 1.5
"""A permitted stream that has nothing to send yet is cut off after this long."""

GRPC_PORTS = {
    "incident": "FIREWATCH_INCIDENT_API_PORT",
    "alert": "FIREWATCH_DETECTION_API_PORT",
    "oncall": "FIREWATCH_PAGING_API_PORT",
    "comms": "FIREWATCH_COMMS_API_PORT",
    "postmortem": "FIREWATCH_POSTMORTEM_API_PORT",
    "audit": "FIREWATCH_AUDIT_API_PORT",
    "runbooks": "FIREWATCH_RUNBOOKS_API_PORT",
}
"""Where `make run` serves each proto package; a new one must be added here."""
HTTP_PORTS = {
    "detection_service.http": ("detection", "FIREWATCH_DETECTION_HTTP_PORT"),
    "paging_service.http": ("paging", "FIREWATCH_PAGING_HTTP_PORT"),
    "comms_service.web": ("comms", "FIREWATCH_STATUSPAGE_PORT"),
    "postmortem_service.web": ("postmortem", "FIREWATCH_POSTMORTEM_HTTP_PORT"),
}


# ---------------------------------------------------------------------- discovery


def grpc_methods() -> list[MethodDescriptor]:
    """Every method of every service in the generated `firewatch.*` modules."""
    root = Path(next(iter(firewatch.__path__)))
    found = []
    for path in sorted(root.rglob("*_pb2.py")):
        module = importlib.import_module(
            "firewatch." + ".".join(path.relative_to(root).with_suffix("").parts)
        )
        for service in module.DESCRIPTOR.services_by_name.values():
            found.extend(service.methods)
    return found


def documented_grpc() -> dict[str, dict[str, bool]]:
    """`package.Service/Method` -> role -> allowed, from docs/access.md."""
    table: dict[str, dict[str, bool]] = {}
    service = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if heading := re.match(r"^### (firewatch\.[\w.]+)$", line):
            service = heading.group(1)
        elif line.startswith("## HTTP"):
            service = None
        elif service and (row := re.match(r"^\| (\w+)(?: \(stream\))? \|(.*)\|$", line)):
            if row.group(1) == "method":
                continue
            answers = [cell.strip() for cell in row.group(2).split("|")]
            assert set(answers) <= {"yes", "denied"}, line
            table[f"{service}/{row.group(1)}"] = dict(
                zip(ROLES, (a == "yes" for a in answers), strict=True)
            )
    return table


def http_modules() -> dict[str, tuple[Endpoint, ...]]:
    """Every service module that routes HTTP, with its declared endpoints."""
    found = {}
    for path in sorted((ROOT / "services").glob("*/src/*/*.py")):
        source = path.read_text(encoding="utf-8")
        if not re.search(r"PATH_INFO|from werkzeug\.routing|url_map\(", source):
            continue
        name = f"{path.parent.name}.{path.stem}"
        module = importlib.import_module(name)
        assert hasattr(module, "ENDPOINTS"), (
            f"{name} serves HTTP but declares no ENDPOINTS (apikit.endpoints): say who may "
            "call each path"
        )
        found[name] = module.ENDPOINTS
    return found


def documented_http() -> dict[tuple[str, str], str]:
    table = {}
    for line in DOC.read_text(encoding="utf-8").split("## HTTP endpoints", 1)[1].splitlines():
        row = re.match(r"^\| (\w+) \| (/\S*) \| [^|]+ \| ([\w-]+) \|$", line)
        if row:
            table[(row.group(1), row.group(2))] = row.group(3)
    return table


def test_every_grpc_method_and_http_endpoint_has_a_documented_answer() -> None:
    discovered = {m.full_name.replace(f".{m.name}", f"/{m.name}") for m in grpc_methods()}
    documented = documented_grpc()
    assert discovered - set(documented) == set(), "undocumented gRPC methods"
    assert set(documented) - discovered == set(), "docs/access.md names removed methods"
    assert {m.containing_service.full_name.split(".")[1] for m in grpc_methods()} <= set(
        GRPC_PORTS
    ), "a new gRPC service: add where make run serves it to GRPC_PORTS"
    declared = {
        (HTTP_PORTS[module][0], endpoint.path): endpoint.access.value
        for module, endpoints in http_modules().items()
        for endpoint in endpoints
    }
    assert declared == documented_http()


# ---------------------------------------------------------------------- the platform


@dataclass
class Running:
    env: dict[str, str]
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with LocalPlatform(tmp_path_factory.mktemp("matrix")) as platform:
        tokens_file = platform.home / "tokens.json"
        tokens = {role: issue_token(tokens_file, f"matrix-{role}", Role(role)) for role in ROLES}
        # Written straight to the file: `firewatch-token` refuses a past expiry.
        tokens["expired"] = issue_token(
            tokens_file,
            "matrix-expired",
            Role.ADMIN,
            expires_at=datetime.now(UTC) - timedelta(minutes=1),
        )
        tokens["revoked"] = issue_token(tokens_file, "matrix-revoked", Role.ADMIN)
        revoke_in_file(tokens_file, "matrix-revoked", datetime.now(UTC), "matrix test")
        yield Running(platform.env, tokens)


# ---------------------------------------------------------------------- gRPC


def _call(channel: grpc.Channel, method: MethodDescriptor, token: str) -> tuple[Any, str]:
    request = message_factory.GetMessageClass(method.input_type)()
    response = message_factory.GetMessageClass(method.output_type)
    path = f"/{method.containing_service.full_name}/{method.name}"
    auth = [("authorization", f"Bearer {token}")]
    try:
        if method.server_streaming:
            stream = channel.unary_stream(
                path,
                request_serializer=type(request).SerializeToString,
                response_deserializer=response.FromString,
            )(request, metadata=auth, timeout=STREAM_SECONDS)
            for _ in stream:
                break
        else:
            channel.unary_unary(
                path,
                request_serializer=type(request).SerializeToString,
                response_deserializer=response.FromString,
            )(request, metadata=auth, timeout=15)
    except grpc.RpcError as error:
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


def test_every_grpc_method_answers_every_caller_as_documented(running: Running) -> None:
    documented = documented_grpc()
    wrong = []
    channels: dict[str, grpc.Channel] = {}
    try:
        for method in grpc_methods():
            package = method.containing_service.full_name.split(".")[1]
            if package not in channels:
                port = running.env[GRPC_PORTS[package]]
                channels[package] = grpc.insecure_channel(f"127.0.0.1:{port}")
            allowed = documented[f"{method.containing_service.full_name}/{method.name}"]
            for caller in CALLERS:
                code, details = _call(channels[package], method, running.tokens[caller])
                if caller == "expired":
                    ok = code is grpc.StatusCode.UNAUTHENTICATED and "expired at" in details
                elif caller == "revoked":
                    ok = code is grpc.StatusCode.UNAUTHENTICATED and "was revoked" in details
                elif allowed[caller]:
                    ok = code not in (
                        grpc.StatusCode.UNAUTHENTICATED,
                        grpc.StatusCode.PERMISSION_DENIED,
                    )
                else:
                    ok = code is grpc.StatusCode.PERMISSION_DENIED
                if not ok:
                    wrong.append(f"{method.full_name} as {caller}: {code.name} {details}")
    finally:
        for channel in channels.values():
            channel.close()
    assert wrong == []


# ---------------------------------------------------------------------- HTTP


def _url(endpoint: Endpoint) -> str:
    path = re.sub(r"<path:\w+>", "summary.json", endpoint.path)
    return re.sub(r"<\w+>", "x", path)


def _request(port: str, endpoint: Endpoint, token: str | None) -> tuple[int, str]:
    method = endpoint.methods[0] if endpoint.methods else "GET"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{_url(endpoint)}",
        data=b"{}" if method == "POST" else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def _expected(access: Access, caller: str | None, secret_configured: bool) -> str:
    """'pass' (anything but 401/403), '401' or '403'."""
    if access in (Access.OPEN, Access.SIGNED_LINK, Access.INTEGRATION_KEY):
        return "pass"
    if access is Access.DEPLOYMENT_SECRET:
        return "401" if secret_configured else "pass"
    if caller is None or caller in ("expired", "revoked"):
        return "401"
    allowed = (
        {"admin", "integration"}
        if access is Access.SENDERS
        else {
            "admin",
            "responder",
            "auditor",
        }
    )
    return "pass" if caller in allowed else "403"


def test_every_http_endpoint_answers_every_caller_as_documented(running: Running) -> None:
    wrong = []
    secret = bool(running.env.get("FIREWATCH_POSTMORTEM_HTTP_TOKEN"))
    for module, endpoints in http_modules().items():
        port = running.env[HTTP_PORTS[module][1]]
        for endpoint in endpoints:
            for caller in [*CALLERS, None]:
                token = running.tokens[caller] if caller else None
                status, body = _request(port, endpoint, token)
                expected = _expected(endpoint.access, caller, secret)
                ok = status not in (401, 403) if expected == "pass" else str(status) == expected
                if ok and expected == "401" and caller in ("expired", "revoked"):
                    # The reason is said, not just the status.
                    ok = ("expired at" if caller == "expired" else "was revoked") in body
                if not ok:
                    wrong.append(f"{module} {endpoint.path} as {caller}: {status} {body[:120]}")
    assert wrong == []
