"""A nameko worker process for the reliable-handler tests (run as a subprocess).

It monkey-patches itself, like `nameko run`, so that the pytest process never has to.
Its handler reacts to incident events by appending to `comms-*` streams of the same
SQLite log, with ids derived from the input event (servicekit.ids), so the test
observes it by following the log, and a redelivery cannot append twice.

    python nameko_worker.py '<json params>'

params: mode ("record" | "flaky" | "failing"), broker, prefix, queue, log,
max_attempts, first_delay, backoff, delivery_limit, event_types, max_workers, and
metrics_port (served through the handler's METRICS_PORT config; otherwise the harness
serves the metrics itself on a free port). The log is also the worker's STORE_URL: its
identity is the platform the worker accepts messages from. The first stdout line is
{"metrics_port": N}: the worker's Prometheus endpoint.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402 - after monkey_patch, as eventlet requires
import logging  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from typing import Any  # noqa: E402

from nameko.cli.run import run  # noqa: E402
from prometheus_client import start_http_server  # noqa: E402

from eventlog import EventMetadata, NewEvent, Ownership, RecordedEvent, StreamState  # noqa: E402
from eventlog.sqlite import SQLiteEventStore  # noqa: E402
from servicekit.consumer import reliable_handler  # noqa: E402
from servicekit.ids import derived_event_id  # noqa: E402
from servicekit.logs import configure_logging  # noqa: E402

HANDLER = "servicekit_test.open_channel"


def build_service(params: dict[str, Any]) -> type:
    store = SQLiteEventStore(params["log"], writer="communications", ownership=Ownership.platform())
    mode = params["mode"]
    attempts: Counter[str] = Counter()

    def record(event: RecordedEvent, event_type: str, index: int, data: dict[str, Any]) -> None:
        store.append(
            f"comms-{event.stream.split('-', 1)[1]}",
            [
                NewEvent(
                    event_type,
                    {"input_id": str(event.id), "input_position": event.position, **data},
                    id=derived_event_id(HANDLER, event.id, index),
                    metadata=EventMetadata(
                        correlation_id=event.metadata.correlation_id,
                        causation_id=str(event.id),
                    ),
                )
            ],
            StreamState.ANY,
        )

    class Worker:
        name = "servicekit_test_worker"

        @reliable_handler(
            source_service="incident",
            event_types=params.get("event_types", ["#"]),
            queue=params["queue"],
            max_attempts=params.get("max_attempts", 5),
            first_delay=params.get("first_delay", 0.05),
            backoff=params.get("backoff", 2.0),
            delivery_limit=params.get("delivery_limit", 20),
        )
        def open_channel(self, event: RecordedEvent) -> None:
            attempts[str(event.id)] += 1
            attempt = attempts[str(event.id)]
            if mode == "flaky" and attempt <= 2:
                # Index 1.. for failures, so each attempt is recorded exactly once.
                record(event, "ChannelOpenFailed", attempt, {"attempt": attempt})
                raise RuntimeError(f"transient failure {attempt} for {event.id}")
            if mode == "failing":
                raise RuntimeError(f"always fails ({event.id})")
            record(event, "ChannelOpened", 0, {"attempt": attempt})

    return Worker


def main() -> None:
    params = json.loads(sys.argv[1])
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    configure_logging()  # stderr: stdout carries only the metrics port line
    config: dict[str, Any] = {}
    if "metrics_port" in params:
        # Served by the reliable handler itself, as in production (METRICS_PORT).
        config["METRICS_PORT"] = params["metrics_port"]
        print(json.dumps({"metrics_port": params["metrics_port"]}), flush=True)
    else:
        server, _ = start_http_server(0, addr="127.0.0.1")
        print(json.dumps({"metrics_port": server.server_address[1]}), flush=True)
    config |= {
        "AMQP_URI": params["broker"],
        "FIREWATCH_EXCHANGE_PREFIX": params["prefix"],
        "STORE_URL": f"sqlite:///{params['log']}",
        "max_workers": params.get("max_workers", 10),
        "LOGGING": {"version": 1, "disable_existing_loggers": False},
    }
    run([build_service(params)], config)


if __name__ == "__main__":
    main()
