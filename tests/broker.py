"""Helpers for tests that start nameko workers on the shared RabbitMQ."""

from __future__ import annotations

import importlib
import time
from collections.abc import Sequence
from importlib.metadata import entry_points

import amqp.exceptions
from kombu import Connection

from servicekit.topology import QueueBinding
from tests.conftest import BROKER_URL


def wait_until_consumed(queues: Sequence[str], timeout: float = 60) -> None:
    """Until every queue has a consumer: a worker that consumes has finished starting.

    nameko 2.14 can hang on a SIGTERM that arrives while one of its queue consumers is
    still starting (QueueConsumer's unregister/stop race), so a test that may end fast
    waits for this before it lets its worker be stopped.
    """
    deadline = time.monotonic() + timeout
    with Connection(BROKER_URL) as connection:
        for queue in queues:
            while not _consumers(connection, queue):
                assert time.monotonic() < deadline, f"nobody consumes {queue} after {timeout}s"
                time.sleep(0.05)  # sleep-ok: polling the broker's consumer count, with a deadline


def _consumers(connection: Connection, queue: str) -> int:
    channel = connection.channel()
    try:
        count = int(channel.queue_declare(queue, passive=True).consumer_count)
    except amqp.exceptions.NotFound:
        return 0  # not declared yet: the worker declares it as it starts (closes the channel)
    channel.close()
    return count


def every_worker_binding() -> list[QueueBinding]:
    """The consumer queues of every installed service's worker (`<package>.worker`'s
    QUEUE_BINDINGS), found through the `firewatch.events` entry points that each service
    registers. Teardown deletes these, so a new service's quorum queues are not left on
    the shared broker by every test platform (hundreds of leftover quorum queues slow
    RabbitMQ's boot and every declaration)."""
    bindings: list[QueueBinding] = []
    for entry in sorted(entry_points(group="firewatch.events"), key=lambda e: e.value):
        package = entry.value.split(":")[0].split(".")[0]
        try:
            worker = importlib.import_module(f"{package}.worker")
        except ModuleNotFoundError:
            continue  # a service with no worker consumes nothing
        bindings.extend(getattr(worker, "QUEUE_BINDINGS", ()))
    return bindings


def delete_prefix(prefix: str) -> None:
    """Delete every exchange and worker queue under `prefix` (a test's own), so quorum
    queues do not pile up on the shared broker run after run."""
    from servicekit.topology import Topology

    with Connection(BROKER_URL) as connection:
        Topology(prefix=prefix).delete(connection, every_worker_binding())
