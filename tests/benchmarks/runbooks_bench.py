"""Declaration to automated action: the runbooks path at a fixed incident rate, against
its same-run floor.

Owns the benchmark of issue 13: ONE relay for the whole log (`python -m
servicekit.relay`, as `make run` runs it) and the runbooks worker (`nameko run`) on the
local RabbitMQ under a unique exchange prefix (its queues are prefixed too), one SQLite
log in a temporary directory, and a loopback HTTP receiver in this process that
records when each action's request arrives. A runbook for service `checkout` has one
automatic, idempotent HTTP step whose target is the incident (so no guard rail refuses
a run; the limit is set above the load).

The load generator declares incidents through the incident application (in this
process, on the same log) at a fixed rate; per incident: declaration appended ->
request received by the receiver.

The floor, measured in the same run on the same machine: one broker hop (publish with
confirm -> consumed on a quorum queue, as the relay -> worker hop) plus one bare HTTP
POST to the same receiver. Target: p50 <= 3x the floor.

Bounded: everything on 127.0.0.1, a fixed number of incidents, a deadline for the
requests; it terminates (then kills) only the processes it started and deletes its
queues and exchanges. Nothing here asserts a time: results are returned as markdown.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kombu import Connection

from eventlog import FakeClock, Ownership
from eventlog.clock import system_clock
from eventlog.sqlite import SQLiteEventStore
from incident_service.app import IncidentApplication
from runbooks_service.app import RunbooksApplication
from runbooks_service.worker import QUEUE_BINDINGS
from servicekit.topology import Topology
from tests.benchmarks.paging_path_bench import ROOT, Child, _ms, _p99, broker_hop

TARGET = 3.0


def _progress(message: str) -> None:
    print(f"[bench] runbooks: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Plan:
    incidents: int
    rate: float
    warmup: int
    floor_samples: int
    paced_samples: int
    """Floor samples taken at the load's own rate (one every 1/rate seconds)."""
    deadline: float


FULL = Plan(
    incidents=400, rate=20.0, warmup=20, floor_samples=200, paced_samples=100, deadline=120.0
)
QUICK = Plan(incidents=20, rate=20.0, warmup=3, floor_samples=20, paced_samples=10, deadline=60.0)


@dataclass
class Receiver:
    arrivals: dict[str, float] = field(default_factory=dict)
    """incident id -> wall time the action's request arrived."""
    calls: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, ids: list[str], timeout: float) -> bool:
        with self.lock:
            return self.lock.wait_for(lambda: all(i in self.arrivals for i in ids), timeout)


@contextlib.contextmanager
def receiver_server(receiver: Receiver) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
            try:
                incident = str(json.loads(body).get("incident", ""))
            except ValueError:
                incident = ""
            with receiver.lock:
                if incident != "floor":
                    receiver.calls += 1
                receiver.arrivals.setdefault(incident, arrived)
                receiver.lock.notify_all()
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def bare_post(port: int, samples: int, *, interval: float = 0.0) -> float:
    """Median POST to the receiver on a fresh connection each time, as the worker does;
    `interval` paces the samples as `broker_hop` does."""
    times = []
    for index in range(samples + 5):
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", "/floor", body=b'{"incident": "floor"}')
            connection.getresponse().read()
        finally:
            connection.close()
        if index >= 5:
            times.append(time.perf_counter() - started)
        if interval:
            time.sleep(interval)  # sleep-ok: pacing the samples, not a wait
    return _ms(statistics.median(times))


def _runbook(port: int) -> dict[str, Any]:
    return {
        "id": "bench-rollback",
        "title": "Bench rollback",
        "services": ["checkout"],
        "steps": [
            {
                "id": "rollback",
                "title": "Roll back",
                "kind": "http",
                "automatic": True,
                "idempotent": True,
                "target": "{{ incident.id }}",
                "guards": {"max_runs": 10_000, "per_minutes": 1},
                "action": {
                    "url": f"http://127.0.0.1:{port}/rollback",
                    "body": '{"incident": "{{ incident.id }}"}',
                },
            }
        ],
    }


@dataclass
class Result:
    plan: Plan
    latencies_ms: list[float]
    missing: int
    floor_hop_ms: float
    floor_http_ms: float
    """Back to back: the least each part costs on a busy machine."""
    paced_hop_ms: float
    paced_http_ms: float
    """At the load's rate: the least each part costs when, as on the path, one message
    and one request come every 1/rate seconds (the verdict's floor)."""
    calls: int
    to_attempt_ms: list[float] = field(default_factory=list)
    """Declaration -> ActionAttempted recorded (relay, broker hop, worker's append)."""
    attempt_to_arrival_ms: list[float] = field(default_factory=list)
    """ActionAttempted recorded -> request arrived (tpool, connect, send)."""

    @property
    def floor_ms(self) -> float:
        return self.floor_hop_ms + self.floor_http_ms

    @property
    def paced_floor_ms(self) -> float:
        return self.paced_hop_ms + self.paced_http_ms

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return _p99(self.latencies_ms) if self.latencies_ms else float("nan")


def declare_at_rate(
    incidents: IncidentApplication, count: int, rate: float
) -> list[tuple[str, float]]:
    sent: list[tuple[str, float]] = []
    started = time.perf_counter()
    for index in range(count):
        due = started + index / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)  # sleep-ok: pacing the load generator at a fixed rate
        result = incidents.declare(
            title=f"bench {index}", severity="P1", services=["checkout"], declared_by="bench"
        )
        sent.append((str(result.incident_id), time.time()))
    return sent


def measure(broker_url: str, plan: Plan) -> Result:
    run = uuid.uuid4().hex[:8]
    prefix = f"rb{run}"
    topology = Topology(prefix)
    receiver = Receiver()
    children: list[Child] = []
    with (
        tempfile.TemporaryDirectory(prefix="firewatch-runbooks-bench-") as folder,
        receiver_server(receiver) as port,
    ):
        work = Path(folder)
        log_path = work / "log.db"

        def open_as(writer: str) -> SQLiteEventStore:
            return SQLiteEventStore(
                log_path, writer=writer, ownership=Ownership.platform(), clock=system_clock
            )

        RunbooksApplication(open_as("runbooks"), FakeClock(datetime.now(UTC))).publish(
            _runbook(port), by="bench"
        )
        incidents = IncidentApplication(open_as("incident"), system_clock)
        with Connection(broker_url) as connection:
            topology.declare(connection, QUEUE_BINDINGS)
        try:
            env = {
                **os.environ,
                "FIREWATCH_STORE_URL": f"sqlite:///{log_path}",
                "FIREWATCH_BROKER_URL": broker_url,
                "FIREWATCH_EXCHANGE_PREFIX": prefix,
                "FIREWATCH_CHECKPOINT_URL": f"sqlite:///{work / 'checkpoints.db'}",
                "FIREWATCH_RUNBOOKS_SENDER": f"bench-{run}",
                "PYTHONWARNINGS": "ignore::DeprecationWarning",
                "PYTHONUNBUFFERED": "1",
            }

            def start(name: str, *argv: str) -> Child:
                child = Child(name, [sys.executable, *argv], env, work)
                children.append(child)
                return child

            _progress("starting relay and runbooks worker")
            relay = start("relay", "-m", "servicekit.relay", "--name", "bench")
            worker = start(
                "runbooks worker", "-m", "nameko", "run", "--config",
                str(ROOT / "services/runbooks/config.yaml"), "runbooks_service.worker",
            )  # fmt: skip
            relay.wait_for_line("relay.connected")
            worker.wait_for_line("Connected to amqp")

            _progress(f"warm-up: {plan.warmup} incidents")
            warm = declare_at_rate(incidents, plan.warmup, rate=5)
            if not receiver.wait_for([i for i, _ in warm], 60):
                raise RuntimeError("warm-up actions never arrived:\n" + "".join(worker.lines[-40:]))

            _progress(f"floor: {plan.floor_samples} samples each of broker hop and HTTP POST")
            hop, _confirm = broker_hop(broker_url, prefix, plan.floor_samples)
            http_ms = bare_post(port, plan.floor_samples)
            _progress(f"floor at {plan.rate:g}/s: {plan.paced_samples} samples of each")
            paced_hop, _confirm = broker_hop(
                broker_url, prefix, plan.paced_samples, interval=1 / plan.rate
            )
            paced_http_ms = bare_post(port, plan.paced_samples, interval=1 / plan.rate)

            _progress(f"load: {plan.incidents} incidents at {plan.rate:g}/s")
            sent = declare_at_rate(incidents, plan.incidents, plan.rate)
            ids = [i for i, _ in sent]
            receiver.wait_for(ids, plan.deadline)
            with receiver.lock:
                latencies = [
                    _ms(receiver.arrivals[i] - at) for i, at in sent if i in receiver.arrivals
                ]
                missing = sum(1 for i in ids if i not in receiver.arrivals)
                calls = receiver.calls
                arrivals = dict(receiver.arrivals)
            attempted = {
                str(e.data["incident_id"]): e.recorded_at.timestamp()
                for e in open_as("runbooks").read_all()
                if e.type == "ActionAttempted"
            }
            to_attempt = [_ms(attempted[i] - at) for i, at in sent if i in attempted]
            to_arrival = [
                _ms(arrivals[i] - attempted[i]) for i, _ in sent if i in attempted and i in arrivals
            ]
        finally:
            for child in reversed(children):
                child.stop()
            with Connection(broker_url) as connection:
                topology.delete(connection, QUEUE_BINDINGS)
    return Result(
        plan, latencies, missing, hop, http_ms, paced_hop, paced_http_ms, calls,
        to_attempt, to_arrival,
    )  # fmt: skip


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def markdown(result: Result) -> str:
    ratio = result.p50 / result.paced_floor_ms if result.paced_floor_ms else float("nan")
    back_to_back = result.p50 / result.floor_ms if result.floor_ms else float("nan")
    verdict = "meets" if ratio <= TARGET else "misses"
    plan = result.plan
    return "\n".join(
        [
            "## Runbooks: declaration to automated action",
            "",
            f"{plan.incidents} P1 incidents declared at {plan.rate:g}/s on one SQLite log; "
            "one relay for the whole log and the runbooks worker (`nameko run`) on the local "
            "RabbitMQ; each incident matches a runbook whose automatic, idempotent HTTP step "
            "calls a loopback receiver in the benchmark process. Latency: declaration "
            "appended -> the action's request arrives (wall clock, one machine). Floor, same "
            "run: one broker hop (publish with confirm -> consumed, quorum queue) plus one "
            "bare HTTP POST to the same receiver (new connection, as the worker), measured "
            f"twice: back to back, and paced at the load's {plan.rate:g}/s. The verdict uses "
            "the paced floor, because the path sends one message and one request every "
            f"{1000 / plan.rate:g} ms and the broker is slower to deliver a message that "
            "comes alone after an idle gap than one in a back-to-back stream; no code on "
            "the path can beat the paced figure.",
            "",
            "| measure | ms |",
            "|---|---|",
            f"| p50 | {result.p50:.1f} |",
            f"| p99 | {result.p99:.1f} |",
            f"| floor: broker hop | {result.floor_hop_ms:.1f} |",
            f"| floor: HTTP POST | {result.floor_http_ms:.1f} |",
            f"| floor total | {result.floor_ms:.1f} |",
            f"| floor at {plan.rate:g}/s: broker hop | {result.paced_hop_ms:.1f} |",
            f"| floor at {plan.rate:g}/s: HTTP POST | {result.paced_http_ms:.1f} |",
            f"| floor at {plan.rate:g}/s: total | {result.paced_floor_ms:.1f} |",
            f"| stage: declared -> attempt recorded (p50) | {_median(result.to_attempt_ms):.1f} |",
            f"| stage: attempt recorded -> request arrived (p50) | "
            f"{_median(result.attempt_to_arrival_ms):.1f} |",
            "",
            f"p50 is {ratio:.1f}x the floor at {plan.rate:g}/s: {verdict} the target "
            f"(p50 <= {TARGET:g}x floor); {back_to_back:.1f}x the back-to-back floor. "
            f"{len(result.latencies_ms)} of {plan.incidents} requests arrived "
            f"({result.missing} missing by the {plan.deadline:g} s deadline), "
            f"{result.calls} action calls in all (warm-up included; one per incident means "
            "none was repeated).",
            "",
        ]
    )


def run(broker_url: str, *, quick: bool) -> str:
    return markdown(measure(broker_url, QUICK if quick else FULL))
