"""`make run`: start the platform's processes locally and stop them together.

Owns only process supervision for a developer machine: it prepares the local state
folder (the SQLite log and its platform identity, checkpoints, and API tokens on the
record: admin, auditor, and the `oncall` user's own responder token), declares the
RabbitMQ topology under the platform's own prefix (ADR 0012), starts each service's
processes with the same environment, prefixes their output, reports where each listens
once the APIs answer health checks and every metrics port answers, and on Ctrl-C or
SIGTERM stops every process it started (SIGTERM, then SIGKILL after a grace period).
Production deployments use deploy/compose.yaml or deploy/k8s instead.

Environment (all optional):
  FIREWATCH_HOME                 state folder (default var/firewatch)
  FIREWATCH_STORE_URL            event log (default sqlite:///$FIREWATCH_HOME/eventlog.db)
  FIREWATCH_BROKER_URL           RabbitMQ (default amqp://guest:guest@127.0.0.1:5672//)
  FIREWATCH_INCIDENT_API_PORT    incident gRPC port (default 50051)
  FIREWATCH_EXCHANGE_PREFIX      RabbitMQ names (default firewatch-<platform id>, so two
                                 checkouts or homes on one broker never share queues)
  FIREWATCH_COMMS_API_PORT       communications gRPC port (default 50055)
  FIREWATCH_STATUSPAGE_PORT      the status page (default 8090)
  FIREWATCH_RUNBOOKS_API_PORT    runbooks gRPC port (default 50057)
  FIREWATCH_DEMO_AUTOMATION_PORT a stand-in automation endpoint runbook actions can
                                 call locally (default 8097)
  FIREWATCH_METRICS_BASE_PORT    each process serves Prometheus metrics on its own port,
                                 counted up from here in start order (default 9101; 0:
                                 a free port each); the ports are written as Prometheus
                                 file_sd targets to $FIREWATCH_HOME/metrics-targets.json
  FIREWATCH_LOG_FORMAT           console (default here: readable lines) or json
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from apikit.auth import Role
from servicekit.logs import WORKER_WARNINGS

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GRACE_SECONDS = 10.0
# Stand-ins for what production has elsewhere: a mail relay and an automation system.
LOCAL_ONLY = frozenset({"mailbox", "demo-automation"})


@dataclass
class Managed:
    name: str
    command: list[str]
    process: subprocess.Popen[str] | None = None
    # Ours serve metrics; the mailbox and the demo automation endpoint are stand-ins.
    metrics: bool = True
    metrics_port: int | None = None


def assign_metrics_ports(processes: list[Managed], base: int, home: Path) -> Path:
    """Give every process of ours its own metrics port (FIREWATCH_METRICS_PORT in its
    environment) and write them as Prometheus file_sd targets, which is also how
    tests find them."""
    targets = []
    ours = [m for m in processes if m.metrics]
    for index, managed in enumerate(ours):
        managed.metrics_port = base + index if base else free_port()
        targets.append(
            {
                "targets": [f"127.0.0.1:{managed.metrics_port}"],
                "labels": {"process": managed.name},
            }
        )
    path = home / "metrics-targets.json"
    path.write_text(json.dumps(targets, indent=2) + "\n", encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def broker_reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5672), 2):
            return True
    except OSError:
        return False


def ensure_broker(url: str) -> None:
    if broker_reachable(url):
        return
    host = urlparse(url).hostname or "127.0.0.1"
    if host in ("127.0.0.1", "localhost") and any(
        (Path(d) / "rabbitmq-server").exists() for d in os.environ.get("PATH", "").split(":")
    ):
        print("run: RabbitMQ is not reachable; starting the local one (rabbitmq-server -detached)")
        subprocess.run(["rabbitmq-server", "-detached"], check=False)  # noqa: S607
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if broker_reachable(url):
                return
            time.sleep(1)  # sleep-ok: waiting for an external server to open its port
    sys.exit(
        f"run: RabbitMQ is not reachable at {url}.\n"
        "  Install and start it:  apt-get install rabbitmq-server && rabbitmq-server -detached\n"
        "  or point FIREWATCH_BROKER_URL at a running broker."
    )


def local_token(
    home: Path, store_url: str, file_name: str, name: str, role: Role, user: str | None = None
) -> Path:
    """Once: a token for the local user, kept in `home/file_name`, issued on the record
    (a `TokenIssued` event in the log, apikit.tokens) like any `firewatch-token issue`."""
    from apikit.tokens import TokenAdmin
    from contracts.domain import DomainError
    from eventlog import open_store

    token_file = home / file_name
    if token_file.exists():
        return token_file
    store = open_store(store_url, writer="credentials")
    try:
        admin = TokenAdmin(store, home / "tokens.json")
        try:
            token = admin.issue(name, role, by="make run", user=user)
        except DomainError:
            # The name is live but its token file was lost: retire it, then reissue.
            admin.revoke(name, by="make run", reason=f"{file_name} was lost")
            token = admin.issue(name, role, by="make run", user=user)
    finally:
        store.close()
    token_file.write_text(token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    return token_file


def prepare_home(home: Path, store_url: str) -> Path:
    """Create the state folder and the log's platform identity, then, once, an admin
    token for the local user. The identity comes first so that it is position 1 on a
    fresh log (ADR 0012), before the bootstrap's own events (TokenIssued, ...)."""
    from servicekit.platform import identity_of

    home.mkdir(parents=True, exist_ok=True)
    identity_of(store_url)
    return local_token(home, store_url, "admin.token", "local-admin", Role.ADMIN)


def prepare_audit(home: Path, store_url: str) -> Path:
    """Once: the audit service's sealing key and a local auditor token."""
    from audit_service.keys import generate_key

    key_file = home / "audit" / "seal.pem"
    if not key_file.exists():
        generate_key(key_file)
    local_token(home, store_url, "auditor.token", "local-auditor", Role.AUDITOR)
    return key_file


def prepare_integrations(home: Path, store_url: str) -> Path:
    """Once: an Alertmanager and a PagerDuty-style integration, keys kept in the home."""
    keys_file = home / "integration-keys.json"
    if keys_file.exists():
        return keys_file
    from detection_service.app import DetectionApplication
    from detection_service.routing import DetectionConfig
    from eventlog import open_store
    from eventlog.clock import system_clock

    store = open_store(store_url, writer="detection")
    try:
        app = DetectionApplication(store, system_clock, DetectionConfig())
        keys = {
            name: app.create_integration(name, name, created_by="make run").key
            for name in ("alertmanager", "pagerduty")
        }
    finally:
        store.close()
    keys_file.write_text(json.dumps(keys, indent=2) + "\n", encoding="utf-8")
    keys_file.chmod(0o600)
    return keys_file


def prepare_paging(home: Path, store_url: str) -> Path:
    """Once: an ack-link secret and a local on-call setup (user `oncall`, whose email goes
    to the local mailbox, paged at once by the `default` policy)."""
    secret_file = home / "paging-ack.secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
        secret_file.chmod(0o600)
    marker = home / ".paging-bootstrapped"
    if not marker.exists():
        from eventlog import open_store
        from eventlog.clock import system_clock
        from paging_service.app import PagingApplication

        store = open_store(store_url, writer="paging")
        try:
            paging = PagingApplication(store, system_clock)
            paging.register_user(
                "oncall",
                "On-call engineer",
                "UTC",
                contact_methods=[
                    {"method_id": "email", "kind": "email", "address": "oncall@firewatch.local"}
                ],
            )
            paging.create_policy(
                "default", "Local default", [{"targets": ["user:oncall"], "delay_minutes": 5}]
            )
        finally:
            store.close()
        marker.touch()
    return secret_file


def prepare_comms(home: Path, store_url: str, page_url: str) -> tuple[Path, str]:
    """Once: a secret, where each incident's two channels open (two distinct local
    mailbox addresses) and a status page with one component. Returns the channels file
    and the secret."""
    secret_file = home / "comms.secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
        secret_file.chmod(0o600)
    channels = home / "comms-channels.yaml"
    if not channels.exists():
        channels.write_text(
            "war_room:\n"
            "  - {channel_id: war-room, kind: email, address: war-room@firewatch.local}\n"
            "stakeholder:\n"
            "  - {channel_id: stakeholders, kind: email, address: stakeholders@firewatch.local}\n",
            encoding="utf-8",
        )
    marker = home / ".comms-bootstrapped"
    if not marker.exists():
        from comms_service.app import CommsApplication
        from eventlog import open_store
        from eventlog.clock import system_clock

        store = open_store(store_url, writer="communications")
        try:
            comms = CommsApplication(store, system_clock, page_url=page_url)
            comms.configure_page(name="Firewatch (local)", url=page_url, by="make run")
            comms.add_component("checkout", "Checkout", by="make run")
        finally:
            store.close()
        marker.touch()
    return channels, secret_file.read_text(encoding="utf-8").strip()


def declare_topology(env: dict[str, str]) -> tuple[str, str]:
    """Exchanges and every service's consumer queues exist before anything publishes,
    so a consumer that starts later still finds its events waiting. Reading the log's
    platform identity here creates it on a fresh log, before any other process starts.
    Returns the platform id and the exchange prefix."""
    from kombu import Connection

    from comms_service.worker import QUEUE_BINDINGS as COMMS_BINDINGS
    from incident_service.worker import QUEUE_BINDINGS as INCIDENT_BINDINGS
    from paging_service.worker import QUEUE_BINDINGS as PAGING_BINDINGS
    from postmortem_service.worker import QUEUE_BINDINGS as POSTMORTEM_BINDINGS
    from runbooks_service.worker import QUEUE_BINDINGS as RUNBOOKS_BINDINGS
    from servicekit.platform import STORE_URL_CONFIG_KEY, platform_topology
    from servicekit.topology import PREFIX_ENV

    identity, topology = platform_topology(
        {STORE_URL_CONFIG_KEY: env["FIREWATCH_STORE_URL"], PREFIX_ENV: env.get(PREFIX_ENV)}
    )
    with Connection(env["FIREWATCH_BROKER_URL"]) as connection:
        topology.declare(
            connection,
            [
                *INCIDENT_BINDINGS,
                *PAGING_BINDINGS,
                *POSTMORTEM_BINDINGS,
                *COMMS_BINDINGS,
                *RUNBOOKS_BINDINGS,
            ],
        )
    return str(identity), topology.prefix


def pump(name: str, stream: object) -> None:
    for line in stream:  # type: ignore[attr-defined]
        print(f"{name:>16} | {line}", end="", flush=True)


def wait_healthy(address: str, service: str, timeout: float) -> None:
    with grpc.insecure_channel(address) as channel:
        grpc.channel_ready_future(channel).result(timeout=timeout)
        health = health_pb2_grpc.HealthStub(channel)
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        if answer.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError(f"{service} at {address} is not serving")


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our URL
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)  # sleep-ok: waiting for a process we started to open its port


def wait_metrics(processes: list[Managed], timeout: float) -> None:
    """Every process's metrics port answers (nameko workers open theirs a moment after
    the APIs are healthy), all within one deadline."""
    deadline = time.monotonic() + timeout
    for managed in processes:
        if managed.metrics_port is not None:
            url = f"http://127.0.0.1:{managed.metrics_port}/metrics"
            wait_http(url, timeout=max(0.0, deadline - time.monotonic()))


def platform_processes(env: dict[str, str], mailbox: Path) -> list[Managed]:
    """Every process `make run` starts, in start order. deploy/compose.yaml and deploy/k8s
    run the same ones under the same names, less the local stand-ins (LOCAL_ONLY); a
    test (tests/deploy) keeps them in step."""
    return [
        Managed("relay", [PYTHON, "-m", "servicekit.relay", "--name", "local-relay"]),
        Managed("incident-api", [PYTHON, "-m", "incident_service.api"]),
        Managed("detection-http", [PYTHON, "-m", "detection_service.http"]),
        Managed(
            "mailbox",
            [
                PYTHON,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{env['FIREWATCH_SMTP_PORT']}",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(mailbox),
            ],
            metrics=False,
        ),
        Managed("paging-http", [PYTHON, "-m", "paging_service.http"]),
        Managed("paging-api", [PYTHON, "-m", "paging_service.api"]),
        Managed("audit-api", [PYTHON, "-m", "audit_service.server"]),
        Managed(
            "paging-worker",
            [
                PYTHON,
                "-m",
                "nameko",
                "run",
                "--config",
                str(ROOT / "services/paging/config.yaml"),
                "paging_service.worker",
            ],
        ),
        Managed("postmortem-api", [PYTHON, "-m", "postmortem_service.api"]),
        Managed("postmortem-http", [PYTHON, "-m", "postmortem_service.web"]),
        Managed(
            "postmortem-worker",
            [
                PYTHON,
                "-m",
                "nameko",
                "run",
                "--config",
                str(ROOT / "services/postmortem/config.yaml"),
                "postmortem_service.worker",
            ],
        ),
        Managed("comms-api", [PYTHON, "-m", "comms_service.api"]),
        Managed("statuspage", [PYTHON, "-m", "comms_service.web"]),
        Managed(
            "comms-worker",
            [
                PYTHON,
                "-m",
                "nameko",
                "run",
                "--config",
                str(ROOT / "services/comms/config.yaml"),
                "comms_service.worker",
            ],
        ),
        Managed("runbooks-api", [PYTHON, "-m", "runbooks_service.api"]),
        Managed(
            "demo-automation",
            [
                PYTHON,
                "-m",
                "runbooks_service.demo_receiver",
                "--port",
                env["FIREWATCH_DEMO_AUTOMATION_PORT"],
            ],
            metrics=False,
        ),
        Managed(
            "runbooks-worker",
            [
                PYTHON,
                "-m",
                "nameko",
                "run",
                "--config",
                str(ROOT / "services/runbooks/config.yaml"),
                "runbooks_service.worker",
            ],
        ),
        Managed(
            "incident-worker",
            [
                PYTHON,
                "-m",
                "nameko",
                "run",
                "--config",
                str(ROOT / "services/incident/config.yaml"),
                "incident_service.worker",
            ],
        ),
    ]


def main() -> int:
    home = Path(os.environ.get("FIREWATCH_HOME", ROOT / "var" / "firewatch")).resolve()
    env = dict(os.environ)
    env.setdefault("FIREWATCH_STORE_URL", f"sqlite:///{home / 'eventlog.db'}")
    env.setdefault("FIREWATCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    env.setdefault("FIREWATCH_CHECKPOINT_URL", f"sqlite:///{home / 'checkpoints.db'}")
    env.setdefault("FIREWATCH_TOKENS_FILE", str(home / "tokens.json"))
    env.setdefault("FIREWATCH_INCIDENT_API_PORT", "50051")
    env.setdefault("FIREWATCH_DETECTION_HTTP_PORT", "8080")
    env.setdefault("FIREWATCH_DETECTION_CONFIG", str(ROOT / "deploy/local/detection.yaml"))
    env.setdefault("FIREWATCH_DETECTION_API_ENABLED", "1")
    env.setdefault("FIREWATCH_DETECTION_API_PORT", "50052")
    env.setdefault("FIREWATCH_SMTP_HOST", "127.0.0.1")
    env.setdefault("FIREWATCH_SMTP_PORT", "8025")
    env.setdefault("FIREWATCH_PAGING_HTTP_PORT", "8081")
    env.setdefault("FIREWATCH_PAGING_API_PORT", "50053")
    env.setdefault("FIREWATCH_POSTMORTEM_API_PORT", "50054")
    env.setdefault("FIREWATCH_POSTMORTEM_HTTP_PORT", "8083")
    # The operators' route when an escalation reaches nobody: the local mailbox too.
    env.setdefault("FIREWATCH_PAGING_FALLBACK_EMAILS", "operators@firewatch.local")
    env.setdefault("FIREWATCH_COMMS_API_PORT", "50055")
    env.setdefault("FIREWATCH_STATUSPAGE_PORT", "8090")
    env.setdefault(
        "FIREWATCH_STATUSPAGE_URL", f"http://127.0.0.1:{env['FIREWATCH_STATUSPAGE_PORT']}"
    )
    # Reminders and overdue escalations reach people through the local mailbox too.
    env.setdefault(
        "FIREWATCH_COMMS_CONTACTS", "alice=alice@firewatch.local,oncall=oncall@firewatch.local"
    )
    env.setdefault("FIREWATCH_AUDIT_API_PORT", "50056")
    env.setdefault("FIREWATCH_RUNBOOKS_API_PORT", "50057")
    env.setdefault("FIREWATCH_RUNBOOKS_SENDER", "runbooks-local")
    env.setdefault("FIREWATCH_DEMO_AUTOMATION_PORT", "8097")
    env.setdefault("FIREWATCH_AUDIT_SEAL_FILE", str(home / "audit-seals.jsonl"))
    env.setdefault("FIREWATCH_METRICS_BASE_PORT", "9101")
    env.setdefault("FIREWATCH_LOG_FORMAT", "console")
    env.setdefault("PYTHONUNBUFFERED", "1")
    # eventlet and nameko announce their own deprecation on every start; it is known
    # (docs/adr) and would bury the lines that matter. eventlet's is not a
    # DeprecationWarning: the workers' filter (servicekit.logs.WORKER_WARNINGS) drops it.
    env.setdefault("PYTHONWARNINGS", f"ignore::DeprecationWarning,{WORKER_WARNINGS}")
    api_address = f"127.0.0.1:{env['FIREWATCH_INCIDENT_API_PORT']}"

    ensure_broker(env["FIREWATCH_BROKER_URL"])
    token_file = prepare_home(home, env["FIREWATCH_STORE_URL"])
    keys_file = prepare_integrations(home, env["FIREWATCH_STORE_URL"])
    env.setdefault(
        "FIREWATCH_PAGING_ACK_SECRET_FILE", str(prepare_paging(home, env["FIREWATCH_STORE_URL"]))
    )
    channels_file, comms_secret = prepare_comms(
        home, env["FIREWATCH_STORE_URL"], env["FIREWATCH_STATUSPAGE_URL"]
    )
    env.setdefault("FIREWATCH_COMMS_CHANNELS_FILE", str(channels_file))
    env.setdefault("FIREWATCH_COMMS_SECRET", comms_secret)
    env.setdefault("FIREWATCH_AUDIT_KEY_FILE", str(prepare_audit(home, env["FIREWATCH_STORE_URL"])))
    # The on-call engineer's own token: a responder bound to the paging user `oncall`,
    # so what they do (the quick start's ack) is recorded as done by them.
    local_token(
        home, env["FIREWATCH_STORE_URL"], "oncall.token", "oncall-cli", Role.RESPONDER, "oncall"
    )
    mailbox = home / "mail"
    platform_id, prefix = declare_topology(env)

    processes = platform_processes(env, mailbox)
    targets_file = assign_metrics_ports(processes, int(env["FIREWATCH_METRICS_BASE_PORT"]), home)
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        for managed in processes:
            own_env = dict(env)
            own_env.pop("FIREWATCH_METRICS_PORT", None)
            if managed.metrics_port is not None:
                own_env["FIREWATCH_METRICS_PORT"] = str(managed.metrics_port)
            managed.process = subprocess.Popen(  # noqa: S603 - our own commands
                managed.command,
                env=own_env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            threading.Thread(
                target=pump, args=(managed.name, managed.process.stdout), daemon=True
            ).start()
        wait_healthy(api_address, "firewatch.incident.v1.IncidentService", timeout=60)
        detection_port = env["FIREWATCH_DETECTION_HTTP_PORT"]
        wait_http(f"http://127.0.0.1:{detection_port}/healthz", timeout=60)
        wait_http(f"http://127.0.0.1:{env['FIREWATCH_PAGING_HTTP_PORT']}/healthz", timeout=60)
        wait_healthy(
            f"127.0.0.1:{env['FIREWATCH_DETECTION_API_PORT']}",
            "firewatch.alert.v1.AlertService",
            timeout=60,
        )
        wait_healthy(
            f"127.0.0.1:{env['FIREWATCH_PAGING_API_PORT']}",
            "firewatch.oncall.v1.OnCallService",
            timeout=60,
        )
        wait_healthy(
            f"127.0.0.1:{env['FIREWATCH_AUDIT_API_PORT']}",
            "firewatch.audit.v1.AuditService",
            timeout=60,
        )
        wait_healthy(
            f"127.0.0.1:{env['FIREWATCH_POSTMORTEM_API_PORT']}",
            "firewatch.postmortem.v1.PostmortemService",
            timeout=60,
        )
        wait_http(f"http://127.0.0.1:{env['FIREWATCH_POSTMORTEM_HTTP_PORT']}/healthz", timeout=60)
        wait_healthy(
            f"127.0.0.1:{env['FIREWATCH_COMMS_API_PORT']}",
            "firewatch.comms.v1.CommsService",
            timeout=60,
        )
        wait_http(f"{env['FIREWATCH_STATUSPAGE_URL']}/healthz", timeout=60)
        wait_healthy(
            f"127.0.0.1:{env['FIREWATCH_RUNBOOKS_API_PORT']}",
            "firewatch.runbooks.v1.RunbookService",
            timeout=60,
        )
        wait_metrics(processes, timeout=60)
        print(
            "\nFirewatch is running (Ctrl-C stops everything)\n"
            f"  incident api     {api_address}  gRPC with reflection and health checks\n"
            f"  incident worker  nameko on {env['FIREWATCH_BROKER_URL']}\n"
            f"  detection http   http://127.0.0.1:{detection_port}/v1/alertmanager (webhook v4)"
            f" and /v2/enqueue (PagerDuty Events v2); keys in {keys_file}\n"
            f"  alert api        127.0.0.1:{env['FIREWATCH_DETECTION_API_PORT']}  gRPC "
            "AlertService (incidentctl alert, silence, rule, heartbeat)\n"
            f"  on-call api      127.0.0.1:{env['FIREWATCH_PAGING_API_PORT']}  gRPC "
            "(incidentctl oncall, incidentctl page)\n"
            f"  paging           worker on RabbitMQ; ack links http://127.0.0.1:"
            f"{env['FIREWATCH_PAGING_HTTP_PORT']}/ack/...\n"
            f"  postmortem api   127.0.0.1:{env['FIREWATCH_POSTMORTEM_API_PORT']}  gRPC "
            "(incidentctl postmortem, actions, report)\n"
            f"  postmortems      http://127.0.0.1:{env['FIREWATCH_POSTMORTEM_HTTP_PORT']}"
            "/postmortems (pages, exports, /metrics)\n"
            f"  comms api        127.0.0.1:{env['FIREWATCH_COMMS_API_PORT']}  gRPC "
            "CommsService (incidentctl comms)\n"
            "  comms worker     war room + stakeholder channel per incident, update reminders\n"
            f"  status page      {env['FIREWATCH_STATUSPAGE_URL']}/  "
            f"(JSON: {env['FIREWATCH_STATUSPAGE_URL']}/api/v2/summary.json)\n"
            f"  local mailbox    smtp 127.0.0.1:{env['FIREWATCH_SMTP_PORT']} -> {mailbox}/new\n"
            f"  audit api        127.0.0.1:{env['FIREWATCH_AUDIT_API_PORT']}  gRPC "
            f"(incidentctl audit); seals -> {env['FIREWATCH_AUDIT_SEAL_FILE']}\n"
            f"  runbooks api     127.0.0.1:{env['FIREWATCH_RUNBOOKS_API_PORT']}  gRPC "
            "RunbookService (incidentctl runbook)\n"
            "  runbooks worker  attaches runbooks to incidents, runs automated steps\n"
            f"  demo automation  http://127.0.0.1:{env['FIREWATCH_DEMO_AUTOMATION_PORT']}/  "
            "(a stand-in endpoint for runbook actions)\n"
            f"  relay            event log -> RabbitMQ exchanges {prefix}.<service>\n"
            f"  event log        {env['FIREWATCH_STORE_URL']}\n"
            f"  platform         {platform_id} (RabbitMQ names under {prefix}.)\n"
            f"  metrics          {metrics_summary(processes)}\n"
            f"                   (Prometheus file_sd targets: {targets_file})\n"
            f"  admin token      export FIREWATCH_TOKEN_FILE={token_file}\n"
            "ready",
            flush=True,
        )
        while not stopping.is_set():
            for managed in processes:
                assert managed.process is not None
                if managed.process.poll() is not None:
                    print(f"run: {managed.name} exited with {managed.process.returncode}")
                    stopping.set()
            stopping.wait(0.5)
    finally:
        stop_all(processes)
    return 0


def metrics_summary(processes: list[Managed]) -> str:
    ports = [m.metrics_port for m in processes if m.metrics_port is not None]
    if not ports:
        return "not served"
    return f"http://127.0.0.1:<port>/metrics, ports {min(ports)}-{max(ports)} (one per process)"


def stop_all(processes: list[Managed]) -> None:
    for managed in reversed(processes):
        if managed.process is not None and managed.process.poll() is None:
            managed.process.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for managed in reversed(processes):
        if managed.process is None:
            continue
        try:
            managed.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"run: {managed.name} ignored SIGTERM; killing it")
            managed.process.kill()
            managed.process.wait()
    print("run: stopped")


if __name__ == "__main__":
    raise SystemExit(main())
