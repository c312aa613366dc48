"""Helpers for tests that start nameko workers on the shared RabbitMQ."""

from __future__ import annotations

import time
from collections.abc import Sequence

import amqp.exceptions
from kombu import Connection

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
