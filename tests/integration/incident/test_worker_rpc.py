"""The incident nameko worker, run as its own process on real RabbitMQ, answers RPC."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventlog import Ownership
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain
from tests.conftest import BROKER_URL

CONFIG = Path(__file__).resolve().parents[3] / "services" / "incident" / "config.yaml"

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Path]:
    log_path = tmp_path / "log.db"
    env = {
        **os.environ,
        "FIREWATCH_STORE_URL": f"sqlite:///{log_path}",
        "FIREWATCH_BROKER_URL": BROKER_URL,
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "nameko", "run", "--config", str(CONFIG), "incident_service.worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    # The RPC queue exists once the consumer has connected; the worker says so.
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if "Connected to amqp" in line:
            break
    else:
        pytest.fail("worker exited before connecting:\n" + "".join(seen))
    try:
        yield log_path
    finally:
        process.terminate()
        process.wait(timeout=30)


def rpc_proxy() -> object:
    warnings.simplefilter("ignore", DeprecationWarning)
    from nameko.standalone.rpc import ClusterRpcProxy

    return ClusterRpcProxy({"AMQP_URI": BROKER_URL}, timeout=20)


def test_other_services_declare_and_read_incidents_over_internal_rpc(worker: Path) -> None:
    with rpc_proxy() as rpc:  # type: ignore[attr-defined]
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
    store = SQLiteEventStore(worker, ownership=Ownership.platform())
    events = store.read_stream(f"{domain.STREAM_CATEGORY}-{declared['incident_id']}")
    assert [e.type for e in events] == ["IncidentDeclared", "TimelineNoteAdded"]
    assert events[0].metadata.causation_id == "alert-9"


def test_a_domain_refusal_reaches_the_caller_as_a_remote_error(worker: Path) -> None:
    from nameko.exceptions import RemoteError

    with rpc_proxy() as rpc, pytest.raises(RemoteError, match="title"):  # type: ignore[attr-defined]
        rpc.incident.declare_incident(title="", severity="P1", services=["web"], declared_by="x")
