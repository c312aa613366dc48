"""The one way Firewatch images are built: every services/<name>/Dockerfile is rendered
from the single template below (ADR 0019).

Owns the image catalogue (which service runs which processes, on which ports, probed
how) and the dependency closure each image installs, computed from the pyproject.toml
files (a `firewatch-*` dependency names a folder under libs/ or services/, followed
transitively, extras included). It never edits a pyproject.toml and never talks to a
Docker engine: CI proves the closures without one (tests/deploy).

    .venv/bin/python deploy/images/dockerfiles.py           rewrite the Dockerfiles
    .venv/bin/python deploy/images/dockerfiles.py --check   fail if any is stale
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HEALTHCHECK_SOURCE = "deploy/images/healthcheck.py"
HEALTHCHECK_TARGET = "/usr/local/bin/firewatch-healthcheck"
# Every image can reach every log backend; FIREWATCH_STORE_URL picks one at run time.
EVENTLOG_EXTRAS = "postgres,esdb,eventlet"
# A fixed, unprivileged id: volumes can be prepared for it without knowing the image.
UID = 10001
# Where a worker or the relay serves Prometheus metrics inside its container
# (FIREWATCH_METRICS_PORT for nameko workers, --metrics-port for the relay).
METRICS_PORT = 9100


@dataclass(frozen=True)
class Process:
    """One long-running process of an image: its name everywhere (`make run`, compose,
    k8s), the container command, the port it serves and how it is probed."""

    name: str
    command: tuple[str, ...]
    summary: str
    port: int | None = None
    # "grpc:<service>" (grpc.health.v1), "http" (GET /healthz on `port`) or "metrics"
    # (GET /metrics on METRICS_PORT: a worker has no other listener).
    probe: str = "metrics"

    def healthcheck_target(self) -> str:
        """What the image's health check asks (FIREWATCH_HEALTHCHECK)."""
        if self.probe.startswith("grpc:"):
            return f"grpc://127.0.0.1:{self.port}/{self.probe.removeprefix('grpc:')}"
        if self.probe == "http":
            return f"http://127.0.0.1:{self.port}/healthz"
        return f"http://127.0.0.1:{METRICS_PORT}/metrics"


@dataclass(frozen=True)
class Image:
    service: str
    summary: str
    processes: tuple[Process, ...]
    default: str  # the process the image's CMD starts
    env: tuple[tuple[str, str], ...] = ()  # container defaults (listen on all interfaces)
    extras: str = ""  # the service package's extras the image installs
    other_entry_points: tuple[str, ...] = ()  # documented, not started by default

    @property
    def default_process(self) -> Process:
        return next(p for p in self.processes if p.name == self.default)


# The same filter as servicekit.logs.WORKER_WARNINGS (tests/deploy checks they agree;
# this script runs without the repository's packages installed).
WORKER_WARNINGS = "ignore:::nameko.cli.commands"


def _runs_nameko(image: Image) -> bool:
    return any(p.command[0] == "nameko" for p in image.processes)


def _worker(service: str, package: str, summary: str) -> Process:
    return Process(
        f"{service}-worker",
        ("nameko", "run", "--config", f"/app/services/{service}/config.yaml", f"{package}.worker"),
        summary,
    )


IMAGES: tuple[Image, ...] = (
    Image(
        "incident",
        "incidents, commanders, status, mitigations, resolution; also runs the relay",
        (
            Process(
                "incident-api",
                ("firewatch-incident-api",),
                "public gRPC IncidentService (plain threads)",
                50051,
                "grpc:firewatch.incident.v1.IncidentService",
            ),
            _worker("incident", "incident_service", "internal RPC and event handlers (eventlet)"),
            Process(
                "relay",
                (
                    "firewatch-relay",
                    "--name",
                    "platform-relay",
                    "--metrics-port",
                    str(METRICS_PORT),
                    "--log-format",
                    "json",
                ),
                "the log -> RabbitMQ relay; exactly one per log",
            ),
        ),
        default="incident-api",
        env=(("FIREWATCH_INCIDENT_API_HOST", "0.0.0.0"),),  # noqa: S104 - in a container
    ),
    Image(
        "detection",
        "alert ingestion, rules, silences, grouping",
        (
            Process(
                "detection-http",
                ("firewatch-detection-http",),
                "the single writer: HTTP ingestion, /metrics, the timer ticker and the "
                "gRPC AlertService on 50052",
                8080,
                "http",
            ),
        ),
        default="detection-http",
        env=(
            ("FIREWATCH_DETECTION_HTTP_HOST", "0.0.0.0"),  # noqa: S104
            ("FIREWATCH_DETECTION_API_HOST", "0.0.0.0"),  # noqa: S104
            ("FIREWATCH_DETECTION_API_ENABLED", "1"),
        ),
        other_entry_points=("firewatch-detection-api  a read-only gRPC replica (port 50052)",),
    ),
    Image(
        "paging",
        "on-call, escalation timers, pages and acknowledgement",
        (
            _worker("paging", "paging_service", "incident events, timers, SMTP/webhook/Slack"),
            Process(
                "paging-http",
                ("firewatch-paging-http",),
                "the signed acknowledgement link",
                8081,
                "http",
            ),
            Process(
                "paging-api",
                ("firewatch-paging-api",),
                "public gRPC OnCallService",
                50053,
                "grpc:firewatch.oncall.v1.OnCallService",
            ),
        ),
        default="paging-http",
        env=(
            ("FIREWATCH_PAGING_HTTP_HOST", "0.0.0.0"),  # noqa: S104
            ("FIREWATCH_PAGING_API_HOST", "0.0.0.0"),  # noqa: S104
        ),
    ),
    Image(
        "postmortem",
        "postmortems, action items and reminders, incident metrics",
        (
            _worker("postmortem", "postmortem_service", "incident events, reminders, webhooks"),
            Process(
                "postmortem-api",
                ("firewatch-postmortem-api",),
                "public gRPC PostmortemService",
                50054,
                "grpc:firewatch.postmortem.v1.PostmortemService",
            ),
            Process(
                "postmortem-http",
                ("firewatch-postmortem-http",),
                "pages, exports and incident metrics at /metrics",
                8083,
                "http",
            ),
        ),
        default="postmortem-api",
        env=(
            ("FIREWATCH_POSTMORTEM_API_HOST", "0.0.0.0"),  # noqa: S104
            ("FIREWATCH_POSTMORTEM_HTTP_HOST", "0.0.0.0"),  # noqa: S104
        ),
    ),
    Image(
        "comms",
        "war room and stakeholder channels, update cadence, the status page",
        (
            _worker("comms", "comms_service", "incident events, promise scheduler, sends"),
            Process(
                "comms-api",
                ("firewatch-comms-api",),
                "public gRPC CommsService",
                50055,
                "grpc:firewatch.comms.v1.CommsService",
            ),
            Process(
                "statuspage",
                ("firewatch-statuspage",),
                "the status page (cheroot) and its /metrics",
                8090,
                "http",
            ),
        ),
        default="statuspage",
        env=(
            ("FIREWATCH_COMMS_API_HOST", "0.0.0.0"),  # noqa: S104
            ("FIREWATCH_STATUSPAGE_HOST", "0.0.0.0"),  # noqa: S104
        ),
    ),
    Image(
        "audit",
        "log verification and sealing, replay, signed evidence",
        (
            Process(
                "audit-api",
                ("firewatch-audit-api",),
                "public gRPC AuditService plus the periodic sealer",
                50056,
                "grpc:firewatch.audit.v1.AuditService",
            ),
        ),
        default="audit-api",
        env=(
            ("FIREWATCH_AUDIT_API_HOST", "0.0.0.0"),  # noqa: S104
            # Mount the key read-only and the seals on storage the database administrator
            # does not control (ADR 0014).
            ("FIREWATCH_AUDIT_KEY_FILE", "/secrets/audit-seal.pem"),
            ("FIREWATCH_AUDIT_SEAL_FILE", "/seals/audit-seals.jsonl"),
        ),
        # The other services' renderers (firewatch.renderers entry points), so a replay
        # shows each stream as its API's message, not a generic fold.
        extras="renderers",
        other_entry_points=("firewatch-audit  the offline verify/replay/export command",),
    ),
    Image(
        "runbooks",
        "runbooks, step tracking, automated actions",
        (
            _worker("runbooks", "runbooks_service", "incident declarations, action timer"),
            Process(
                "runbooks-api",
                ("firewatch-runbooks-api",),
                "public gRPC RunbookService",
                50057,
                "grpc:firewatch.runbooks.v1.RunbookService",
            ),
        ),
        default="runbooks-api",
        env=(("FIREWATCH_RUNBOOKS_API_HOST", "0.0.0.0"),),  # noqa: S104
    ),
)

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def workspace_packages(root: Path = ROOT) -> dict[str, str]:
    """Distribution name -> folder (relative to the root) of every lib and service."""
    found: dict[str, str] = {}
    for pyproject in sorted(
        [*root.glob("libs/*/pyproject.toml"), *root.glob("services/*/pyproject.toml")]
    ):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        found[_normalise(project["name"])] = pyproject.parent.relative_to(root).as_posix()
    return found


def _project(root: Path, folder: str) -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads(
        (root / folder / "pyproject.toml").read_text(encoding="utf-8")
    )["project"]
    return project


def _requirements(root: Path, folder: str, extras: set[str]) -> list[str]:
    project = _project(root, folder)
    requirements = list(project.get("dependencies", []))
    for extra in sorted(extras):
        optional = project.get("optional-dependencies", {})
        if extra not in optional:
            raise ValueError(f"{folder}/pyproject.toml has no extra {extra!r}")
        requirements += optional[extra]
    return requirements


def closure(service: str, extras: str = "", root: Path = ROOT) -> list[str]:
    """The repository folders an image of `service` must install: the service and every
    workspace package its pyproject.toml depends on, transitively (extras followed).

    In dependency order, ties by name: pip (23.2) cannot match a plain `firewatch-x`
    requirement to a local `./libs/x[extra]` argument listed after the package that
    needs it, so each package comes before its dependents."""
    packages = workspace_packages(root)
    seen: dict[str, set[str]] = {}
    needs: dict[str, set[str]] = {}
    pending = [(f"services/{service}", {e for e in extras.split(",") if e})]
    while pending:
        folder, wanted = pending.pop()
        if folder in seen and wanted <= seen[folder]:
            continue
        seen[folder] = seen.get(folder, set()) | wanted
        for requirement in _requirements(root, folder, seen[folder]):
            match = _NAME.match(requirement)
            if match is None:
                raise ValueError(f"{folder}/pyproject.toml: cannot read {requirement!r}")
            name, nested = _normalise(match.group(1)), match.group(2) or ""
            if name in packages:
                needs.setdefault(folder, set()).add(packages[name])
                pending.append((packages[name], {e.strip() for e in nested.split(",") if e}))
    ordered: list[str] = []
    while len(ordered) < len(seen):
        ready = sorted(f for f in seen if f not in ordered and needs.get(f, set()) <= set(ordered))
        if not ready:
            raise ValueError(f"dependency cycle among {sorted(set(seen) - set(ordered))}")
        ordered.append(ready[0])
    return ordered


def _install_argument(folder: str, image: Image) -> str:
    if folder == "libs/eventlog":
        return f'"./{folder}[{EVENTLOG_EXTRAS}]"'
    if folder == f"services/{image.service}" and image.extras:
        return f'"./{folder}[{image.extras}]"'
    return f"./{folder}"


def render(image: Image, root: Path = ROOT) -> str:
    """The Dockerfile of one image."""
    folders = closure(image.service, image.extras, root)
    width = max(len(p.name) for p in image.processes) + 2
    lines = [
        "# GENERATED from one template by deploy/images/dockerfiles.py (ADR 0019); edit that",
        "# and run `.venv/bin/python deploy/images/dockerfiles.py`. tests/deploy checks this",
        "# file is current and installs exactly what it copies into a fresh virtualenv.",
        f"# The {image.service} service: {image.summary}.",
        "# Processes (set the container's command; FIREWATCH_HEALTHCHECK to its target):",
    ]
    for process in image.processes:
        lines.append(f"#   {process.name:<{width}}{' '.join(process.command)}")
        port = f"port {process.port}, " if process.port else f"metrics on {METRICS_PORT}, "
        lines.append(f"#   {'':<{width}}{port}{process.summary}")
        lines.append(f"#   {'':<{width}}FIREWATCH_HEALTHCHECK={process.healthcheck_target()}")
    for entry in image.other_entry_points:
        lines.append(f"#   also: {entry}")
    used = {p.command[0] for p in image.processes}
    tools = sorted(
        script
        for folder in folders
        if folder.startswith("libs/")
        for script in _project(root, folder).get("scripts", {})
        if script not in used
    )
    if tools:
        lines.append(f"#   tools from the libraries: {', '.join(tools)}")
    lines += [
        "# Environment, ports and metrics per process: README, 'Deploying a service on its own'.",
        f"# Build from the repository root: docker build -f services/{image.service}/Dockerfile .",
        "FROM python:3.11-slim",
        "WORKDIR /app",
        "COPY constraints.txt ./",
        f"COPY {HEALTHCHECK_SOURCE} {HEALTHCHECK_TARGET}",
    ]
    lines += [f"COPY {folder} {folder}" for folder in folders]
    arguments = [_install_argument(folder, image) for folder in folders]
    install = ["RUN pip install --no-cache-dir --constraint constraints.txt hatchling \\"]
    install.append(
        "    && pip install --no-cache-dir --no-build-isolation --constraint constraints.txt \\"
    )
    row: list[str] = []
    for argument in arguments:
        if row and len("       " + " ".join([*row, argument])) > 88:
            install.append("       " + " ".join(row) + " \\")
            row = []
        row.append(argument)
    install.append("       " + " ".join(row))
    lines += install
    lines += [
        f"RUN useradd --system --uid {UID} --no-create-home firewatch \\",
        f"    && mkdir -p /data && chown {UID}:{UID} /data",
    ]
    env = [
        ("FIREWATCH_STORE_URL", "sqlite:////data/eventlog.db"),
        *image.env,
        # `nameko run` imports eventlet, which prints a plain-text warning before any
        # logging is set up; dropping it keeps a worker's log JSON from its first line.
        *((("PYTHONWARNINGS", WORKER_WARNINGS),) if _runs_nameko(image) else ()),
        ("FIREWATCH_HEALTHCHECK", image.default_process.healthcheck_target()),
    ]
    lines.append("ENV " + " \\\n    ".join(f"{key}={value}" for key, value in env))
    ports = sorted(
        {p.port for p in image.processes if p.port}
        | ({METRICS_PORT} if any(p.probe == "metrics" for p in image.processes) else set())
    )
    lines += [
        "EXPOSE " + " ".join(str(p) for p in ports),
        f"USER {UID}",
        "HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \\",
        f'    CMD ["python", "{HEALTHCHECK_TARGET}"]',
        "CMD [" + ", ".join(f'"{part}"' for part in image.default_process.command) + "]",
    ]
    return "\n".join(lines) + "\n"


def dockerfile_path(image: Image, root: Path = ROOT) -> Path:
    return root / "services" / image.service / "Dockerfile"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a Dockerfile is stale")
    args = parser.parse_args(argv)
    stale = []
    for image in IMAGES:
        path, text = dockerfile_path(image), render(image)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            continue
        stale.append(path.relative_to(ROOT).as_posix())
        if not args.check:
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("stale (run deploy/images/dockerfiles.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    for name in stale:
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
