"""Every gRPC method and HTTP endpoint of every service, against every role plus an
expired and a revoked token, answers what docs/access.md says.

The methods come from the generated gRPC descriptors (every `firewatch.*` service, so
a service or method added later is found without touching this test) and the HTTP
endpoints from each service's `ENDPOINTS` registry (apikit.endpoints); either one
without a row in docs/access.md fails here, and so does a declared method list that
differs from the table's. The calls go to a whole running platform (`make run`,
tests/e2e/localplatform.py), over real gRPC and HTTP, with every declared HTTP method.
Every TCP port the platform's processes listen on (read from /proc) must be one of
those services or a documented other listener (metrics, the demo stand-ins), so a
listener that is not built on werkzeug (or on gRPC) is not missed.
"""

from __future__ import annotations

import importlib
import json
import os
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
from google.protobuf import duration_pb2, message_factory
from google.protobuf.descriptor import MethodDescriptor

import firewatch
from apikit.auth import Role, issue_token, revoke_in_file
from apikit.endpoints import Access, Endpoint
from eventlog import EventFilter, open_store
from firewatch.alert.v1 import alert_pb2
from firewatch.audit.v1 import audit_pb2
from firewatch.comms.v1 import comms_pb2
from firewatch.incident.v1 import incident_pb2
from firewatch.oncall.v1 import oncall_pb2
from firewatch.postmortem.v1 import postmortem_pb2
from firewatch.runbooks.v1 import runbooks_pb2
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
BOUND_TOKEN, BOUND_USER = "matrix-bound", "oncall"
OTHER_PORTS = {
    "demo-automation": "FIREWATCH_DEMO_AUTOMATION_PORT",
    "mailbox": "FIREWATCH_SMTP_PORT",
}
"""docs/access.md's "Other listeners" with a fixed port; `metrics` is each process's
own port, from `make run`'s Prometheus targets."""
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


def documented_http() -> dict[tuple[str, str], tuple[str, str]]:
    """(service, path) -> (methods, access), from docs/access.md's HTTP table."""
    table = {}
    section = DOC.read_text(encoding="utf-8").split("## HTTP endpoints", 1)[1]
    for line in section.split("## Other listeners", 1)[0].splitlines():
        row = re.match(r"^\| (\w+) \| (/\S*) \| ([^|]+) \| ([\w-]+) \|$", line)
        if row:
            table[(row.group(1), row.group(2))] = (row.group(3).strip(), row.group(4))
    return table


def documented_other_listeners() -> set[str]:
    section = DOC.read_text(encoding="utf-8").split("## Other listeners", 1)[1]
    return {
        row.group(1)
        for line in section.splitlines()
        if (row := re.match(r"^\| ([\w-]+) \| .+ \| ([^|]+) \|$", line))
        and row.group(1) != "listener"
    }


def methods_cell(endpoint: Endpoint) -> str:
    return ", ".join(endpoint.methods) if endpoint.methods else "any"


def test_every_grpc_method_and_http_endpoint_has_a_documented_answer() -> None:
    discovered = {m.full_name.replace(f".{m.name}", f"/{m.name}") for m in grpc_methods()}
    documented = documented_grpc()
    assert discovered - set(documented) == set(), "undocumented gRPC methods"
    assert set(documented) - discovered == set(), "docs/access.md names removed methods"
    assert {m.containing_service.full_name.split(".")[1] for m in grpc_methods()} <= set(
        GRPC_PORTS
    ), "a new gRPC service: add where make run serves it to GRPC_PORTS"
    declared = {
        (HTTP_PORTS[module][0], endpoint.path): (methods_cell(endpoint), endpoint.access.value)
        for module, endpoints in http_modules().items()
        for endpoint in endpoints
    }
    assert declared == documented_http()
    assert documented_other_listeners() == {"metrics", *OTHER_PORTS}


# ---------------------------------------------------------------------- the platform


@dataclass
class Running:
    env: dict[str, str]
    tokens: dict[str, str]
    pid: int
    metrics: dict[str, str]
    """process name -> its metrics address (host:port)."""
    store_url: str


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
        # An admin token bound to the paging user `make run` registers (oncall.token's).
        tokens["bound"] = issue_token(tokens_file, BOUND_TOKEN, Role.ADMIN, user=BOUND_USER)
        yield Running(
            platform.env, tokens, platform.pid, platform.metrics_targets(), platform.store_url
        )


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


def _methods(endpoint: Endpoint) -> tuple[str, ...]:
    """Every declared method; for `any`, a read and a write."""
    return endpoint.methods or ("GET", "POST")


def _request(port: str, endpoint: Endpoint, token: str | None, method: str) -> tuple[int, str]:
    return _http(f"http://127.0.0.1:{port}{_url(endpoint)}", token, method)


def _http(url: str, token: str | None, method: str) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=b"{}" if method == "POST" else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status, answer.read().decode(errors="replace")
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
            for method in _methods(endpoint):
                for caller in [*CALLERS, None]:
                    token = running.tokens[caller] if caller else None
                    status, body = _request(port, endpoint, token, method)
                    expected = _expected(endpoint.access, caller, secret)
                    ok = status not in (401, 403) if expected == "pass" else str(status) == expected
                    if ok and expected == "401" and caller in ("expired", "revoked"):
                        # The reason is said, not just the status.
                        ok = ("expired at" if caller == "expired" else "was revoked") in body
                    if not ok:
                        wrong.append(
                            f"{module} {method} {endpoint.path} as {caller}: {status} {body[:120]}"
                        )
    assert wrong == []


# ---------------------------------------------------------------------- every listener


def listening_ports(root: int) -> dict[int, str]:
    """Every TCP port a process descending from `root` listens on -> its command line
    (Linux /proc: the process tree, each one's socket inodes, the LISTEN sockets)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8")
        except OSError:
            continue  # exited meanwhile
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(children.get(pid, []))
    owners: dict[str, int] = {}
    for pid in tree:
        try:
            descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                target = os.readlink(descriptor)
            except OSError:
                continue
            if target.startswith("socket:["):
                owners[target[len("socket:[") : -1]] = pid
    ports = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text(encoding="utf-8").splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in owners:  # 0A: LISTEN
                command = Path(f"/proc/{owners[fields[9]]}/cmdline").read_bytes()
                ports[int(fields[1].rsplit(":", 1)[1], 16)] = command.replace(b"\0", b" ").decode()
    return ports


def test_every_port_make_run_opens_is_in_the_matrix(running: Running) -> None:
    """Not only werkzeug: any listener of any process of the platform must be a gRPC
    service or HTTP module the tests above call, or a documented other listener."""
    covered = {int(running.env[variable]) for variable in GRPC_PORTS.values()}
    covered |= {int(running.env[variable]) for _, variable in HTTP_PORTS.values()}
    covered |= {int(running.env[variable]) for variable in OTHER_PORTS.values()}
    covered |= {int(address.rsplit(":", 1)[1]) for address in running.metrics.values()}
    listening = listening_ports(running.pid)
    assert listening, "found no listener: is /proc readable?"
    unknown = {port: command for port, command in listening.items() if port not in covered}
    assert unknown == {}, "listeners not in docs/access.md and this test: " + json.dumps(unknown)


def test_every_metrics_listener_is_open_and_read_only(running: Running) -> None:
    assert len(running.metrics) >= 7  # at least one process per service
    wrong = []
    for process, address in sorted(running.metrics.items()):
        url = f"http://{address}/metrics"
        for caller in [*CALLERS, None]:
            status, body = _http(url, running.tokens[caller] if caller else None, "GET")
            if status != 200 or "# TYPE" not in body:
                wrong.append(f"{process} GET as {caller}: {status}")
        status, _ = _http(url, None, "POST")
        if status < 400:
            wrong.append(f"{process} POST: {status}, not refused")
    assert wrong == []


# ---------------------------------------------------------------------- people, not tokens

RUNBOOK = {
    "id": "matrix-bound-check",
    "title": "Who published this",
    "text": "Published by a token bound to a person.",
    "services": ["checkout"],
    "steps": [{"id": "look", "title": "Look"}],
}


def _bound_call(running: Running, package: str, method: str, request: Any) -> Any:
    """Call `package`'s `method` with the token bound to BOUND_USER; the response."""
    descriptor = next(
        m for m in grpc_methods() if m.name == method and f".{package}." in m.full_name
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{running.env[GRPC_PORTS[package]]}")
    try:
        return channel.unary_unary(
            f"/{descriptor.containing_service.full_name}/{method}",
            request_serializer=type(request).SerializeToString,
            response_deserializer=message_factory.GetMessageClass(
                descriptor.output_type
            ).FromString,
        )(request, metadata=[("authorization", f"Bearer {running.tokens['bound']}")], timeout=15)
    finally:
        channel.close()


def _open_postmortem(running: Running) -> str:
    """A P4 incident declared, resolved and its postmortem opened with the bound token:
    the incident's reference. (The worker may open it first, as optional postmortems
    are opened on resolution too; either way it exists when this returns.)"""
    declared = _bound_call(
        running,
        "incident",
        "DeclareIncident",
        incident_pb2.DeclareIncidentRequest(
            title="resolved for a postmortem",
            severity=incident_pb2.SEVERITY_P4,
            services=["checkout"],
        ),
    )
    reference: str = declared.incident.reference
    _bound_call(
        running,
        "incident",
        "ResolveIncident",
        incident_pb2.ResolveIncidentRequest(incident=reference, summary="fixed"),
    )
    _bound_call(
        running,
        "postmortem",
        "OpenPostmortem",
        postmortem_pb2.OpenPostmortemRequest(incident=reference),
    )
    return reference


WRITES: dict[str, tuple[str, Any, str]] = {
    "incident": (
        "DeclareIncident",
        lambda _: incident_pb2.DeclareIncidentRequest(
            title="declared with a bound token",
            severity=incident_pb2.SEVERITY_P3,
            services=["checkout"],
        ),
        "IncidentDeclared",
    ),
    "alert": (
        "CreateSilence",
        lambda _: alert_pb2.CreateSilenceRequest(
            matchers=[alert_pb2.Matcher(name="service", value="matrix-bound")],
            duration=duration_pb2.Duration(seconds=600),
            comment="silenced with a bound token",
        ),
        "SilenceCreated",
    ),
    "oncall": (
        "ChangeTimeZone",
        lambda _: oncall_pb2.ChangeTimeZoneRequest(user_id="oncall", time_zone="Pacific/Auckland"),
        "UserTimeZoneChanged",
    ),
    "runbooks": (
        "PublishRunbook",
        lambda _: runbooks_pb2.PublishRunbookRequest(document=json.dumps(RUNBOOK)),
        "RunbookPublished",
    ),
    "audit": (
        "ListCredentials",
        lambda _: audit_pb2.ListCredentialsRequest(),
        "AuditRecordAccessed",
    ),
    "comms": (
        "AddComponentGroup",
        lambda _: comms_pb2.AddComponentGroupRequest(group_id="matrix-bound", name="Bound"),
        "ComponentGroupAdded",
    ),
    "postmortem": (
        "EditSection",
        lambda running: postmortem_pb2.EditSectionRequest(
            incident=_open_postmortem(running), section="summary", text="Written by a person."
        ),
        "SectionEdited",
    ),
}
"""One writing method per service, a function of the platform giving its request, and
the event it appends."""


@pytest.mark.parametrize("package", sorted(WRITES))
def test_a_token_bound_to_a_person_writes_as_them_naming_itself(
    running: Running, package: str
) -> None:
    """Every service records (metadata.actor, metadata.credential) == (the bound
    person, the token's name) for what it appends on a bound token's behalf."""
    method, request, event_type = WRITES[package]
    prepared = request(running)
    with open_store(running.store_url) as store:
        head = store.head_position()
    _bound_call(running, package, method, prepared)
    with open_store(running.store_url) as store:
        appended = [
            e
            for e in store.read_all(
                from_position=head + 1, filter=EventFilter.of(event_types=[event_type])
            )
            if e.metadata.credential == BOUND_TOKEN
        ]
    assert appended, f"{package}.{method} appended no {event_type} naming {BOUND_TOKEN}"
    assert {(e.metadata.actor, e.metadata.credential) for e in appended} == {
        (BOUND_USER, BOUND_TOKEN)
    }
