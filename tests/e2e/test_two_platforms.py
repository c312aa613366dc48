"""Two whole platforms on one RabbitMQ vhost, both with default settings (issue 8).

This is `make test` next to a developer's `make run`, or staging next to production on
one broker: each platform must declare exactly its own incidents and page its own
mailbox, and a message of the other platform that reaches one of its queues must be
parked, not acted on. It also checks, on the real services, that no queue keeps what
nobody reads."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import amqp.exceptions
import pytest
from kombu import Connection

from incident_service.worker import QUEUE_BINDINGS as INCIDENT_BINDINGS
from servicekit import envelope
from tests.broker import every_worker_binding
from tests.conftest import BROKER_URL
from tests.e2e.localplatform import LocalPlatform

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


@pytest.fixture
def platforms(tmp_path: Path) -> Iterator[tuple[LocalPlatform, LocalPlatform]]:
    with LocalPlatform(tmp_path / "one") as one, LocalPlatform(tmp_path / "two") as two:
        yield one, two


def parked_messages(queue: str, count: int, timeout: float) -> list[Any]:
    """Consume `count` messages from a parking queue, waiting on the socket."""
    got: list[Any] = []
    with Connection(BROKER_URL) as connection:
        channel = connection.channel()
        channel.basic_consume(queue, callback=got.append, no_ack=True)
        deadline = time.monotonic() + timeout
        while len(got) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"{len(got)} of {count} messages in {queue} after {timeout}s"
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=min(left, 1.0))
    return got


def test_two_platforms_with_default_settings_on_one_vhost_keep_to_themselves(
    platforms: tuple[LocalPlatform, LocalPlatform],
) -> None:
    one, two = platforms
    assert one.identity() != two.identity()
    # Each identity is its fresh log's first event (ADR 0012), before make run's own.
    assert one.identity().position == two.identity().position == 1
    prefixes = (one.topology().prefix, two.topology().prefix)
    assert prefixes[0] != prefixes[1]
    assert all(prefix.startswith("firewatch-") for prefix in prefixes), prefixes

    one.send_alert("Checkout returns 5xx on platform one")
    two.send_alert("Payments time out on platform two")
    for platform, title in ((one, "Checkout returns 5xx"), (two, "Payments time out")):
        platform.wait_for("PageDelivered")
        (declared,) = platform.events("IncidentDeclared")
        assert title in declared.data["title"], declared.data
        # The mailbox also gets the communications service's channel messages; the
        # page is the one with [PAGE], and nothing of the other platform is anywhere.
        mails = platform.mails()
        (page,) = [m for m in mails if "Subject: [PAGE]" in m]
        assert "Subject: [PAGE] INC-1 " in page
        assert title in page
        other = "Payments time out" if platform is one else "Checkout returns 5xx"
        assert all(other not in mail for mail in mails)

    # Platform one's own alert-group event, injected into platform two's exchange (as a
    # misconfigured shared prefix would deliver it): two's incident worker parks it.
    (firing,) = one.events("AlertGroupFiring")
    wire = envelope.encode(firing, str(one.identity().platform_id))
    with Connection(BROKER_URL) as connection:
        channel = connection.channel()
        properties = wire.properties()
        channel.basic_publish(
            channel.prepare_message(
                wire.body,
                content_type=properties.pop("content_type"),
                content_encoding=properties.pop("content_encoding"),
                headers=properties.pop("headers"),
                properties=properties,
            ),
            exchange=two.topology().exchange_for_service("detection"),
            routing_key=firing.type,
        )
        channel.close()
    incident_queue = two.topology().qualified(INCIDENT_BINDINGS[0])
    (parked,) = parked_messages(incident_queue.parking_queue, 1, timeout=60)
    assert parked.properties["message_id"] == str(firing.id)
    assert parked.headers["x-parked-reason"].startswith(
        f"foreign platform: published by platform {one.identity().platform_id}"
    )
    refused = two.wait_for_output("consumer.event_refused")
    assert refused.lstrip().startswith("incident-worker |"), refused
    assert len(two.events("IncidentDeclared")) == 1, "the foreign alert was acted on"
    assert len(one.events("IncidentDeclared")) == 1

    # Nothing kept for nobody: every consumer queue of both platforms is empty (the
    # parked message was consumed above), and there is no catch-all queue.
    with Connection(BROKER_URL) as connection:
        channel = connection.channel()
        for platform in (one, two):
            topology = platform.topology()
            for binding in every_worker_binding():
                for spec in topology.queue_specs(topology.qualified(binding)):
                    depth = channel.queue_declare(spec.name, passive=True).message_count
                    assert depth == 0, f"{spec.name} holds {depth}"
            with pytest.raises(amqp.exceptions.NotFound):
                connection.channel().queue_declare(f"{topology.prefix}.unrouted", passive=True)
        channel.close()
