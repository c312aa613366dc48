"""The incident nameko worker, run as its own process on real RabbitMQ, answers RPC, and
only its own platform's: two platforms on one vhost never answer each other's calls."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kombu import Connection

from eventlog import EventFilter, Ownership
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain
from incident_service.worker import QUEUE_BINDINGS
from servicekit.platform import STORE_URL_CONFIG_KEY, platform_topology
from servicekit.rpc import rpc_proxy_config
from servicekit.topology import PREFIX_ENV, Topology
from tests.broker import wait_until_consumed
from tests.conftest import BROKER_URL

CONFIG = Path(__file__).resolve().parents[3] / "services" / "incident" / "config.yaml"

pytestmark = pytest.mark.rabbitmq


@dataclass
class Worker:
    log_path: Path
    topology: Topology

    def rpc_proxy(self) -> object:
        warnings.simplefilter("ignore", DeprecationWarning)
        from nameko.standalone.rpc import ClusterRpcProxy

        return ClusterRpcProxy(rpc_proxy_config(self.topology, BROKER_URL), timeout=20)


@pytest.fixture
def start_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], Worker]]:
    """Incident workers with the default settings of `make run`: no exchange prefix, so
    each one's RabbitMQ names derive from its own log's platform identity."""
    monkeypatch.delenv(PREFIX_ENV, raising=False)
    started: list[tuple[subprocess.Popen[str], Worker]] = []

    def start(log_path: Path) -> Worker:
        url = f"sqlite:///{log_path}"
        _, topology = platform_topology({STORE_URL_CONFIG_KEY: url})
        env = {
            **os.environ,
            "FIREWATCH_STORE_URL": url,
            "FIREWATCH_BROKER_URL": BROKER_URL,
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nameko",
                "run",
                "--config",
                str(CONFIG),
                "incident_service.worker",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        worker = Worker(log_path, topology)
        started.append((process, worker))
        assert process.stdout is not None
        seen: list[str] = []
        for line in process.stdout:
            seen.append(line)
            if "Connected to amqp" in line:
                break
        else:
            pytest.fail("worker exited before connecting:\n" + "".join(seen))
        # Both of its consumers, so that stopping it never races its start (tests.broker).
        wait_until_consumed(
            [topology.rpc_queue("incident"), topology.qualified(QUEUE_BINDINGS[0]).queue]
        )
        return worker

    yield start
    for process, worker in started:
        process.terminate()
        process.wait(timeout=30)
        with Connection(BROKER_URL) as connection:
            worker.topology.delete(connection, QUEUE_BINDINGS)


@pytest.fixture
def worker(tmp_path: Path, start_worker: Callable[[Path], Worker]) -> Worker:
    return start_worker(tmp_path / "log.db")


def test_other_services_declare_and_read_incidents_over_internal_rpc(worker: Worker) -> None:
    with worker.rpc_proxy() as rpc:  # type: ignore[attr-defined]
        declared = rpc.incident.declare_incident(
            title="payments latency",
            severity="P2",
            services=["payments"],
            declared_by="detection",
            idempotency_key="group-1",
            causation_id="alert-9",
        )
        again = rpc.incident.declare_incident(
            title="payments latency",
            severity="P2",
            services=["payments"],
            declared_by="detection",
            idempotency_key="group-1",
            causation_id="alert-9",
        )
        rpc.incident.add_note(declared["reference"], "paging payments on-call", "paging")
        fetched = rpc.incident.get_incident(declared["reference"])

    assert again["replayed"] is True
    assert again["incident_id"] == declared["incident_id"]
    assert (fetched["severity"], fetched["status"], fetched["version"]) == (
        "P2",
        "investigating",
        1,
    )
    store = SQLiteEventStore(worker.log_path, ownership=Ownership.platform())
    events = store.read_stream(f"{domain.STREAM_CATEGORY}-{declared['incident_id']}")
    assert [e.type for e in events] == ["IncidentDeclared", "TimelineNoteAdded"]
    assert events[0].metadata.causation_id == "alert-9"


def test_a_domain_refusal_reaches_the_caller_as_a_remote_error(worker: Worker) -> None:
    from nameko.exceptions import RemoteError

    with worker.rpc_proxy() as rpc, pytest.raises(RemoteError, match="title"):  # type: ignore[attr-defined]
        rpc.incident.declare_incident(title="", severity="P1", services=["web"], declared_by="x")


def test_two_platforms_on_one_vhost_never_answer_each_others_calls(
    tmp_path: Path, start_worker: Callable[[Path], Worker]
) -> None:
    # With nameko's shared `rpc-incident` queue, each call would go to either worker:
    # ten calls all landing on the right one would then be a 1-in-1024 accident.
    ours = start_worker(tmp_path / "ours.db")
    theirs = start_worker(tmp_path / "theirs.db")
    assert ours.topology.rpc_queue("incident") != theirs.topology.rpc_queue("incident")
    with ours.rpc_proxy() as rpc:  # type: ignore[attr-defined]
        for n in range(10):
            rpc.incident.declare_incident(
                title=f"ours {n}", severity="P3", services=["web"], declared_by="test"
            )

    declared = EventFilter.of(event_types=["IncidentDeclared"])
    for worker, count in ((ours, 10), (theirs, 0)):
        store = SQLiteEventStore(worker.log_path, ownership=Ownership.platform())
        assert len(list(store.read_all(filter=declared))) == count, worker.log_path.name
        store.close()
