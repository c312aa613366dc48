"""`@reliable_handler`: a nameko entrypoint that never loses an event.

Stock nameko acks a message after the worker finishes even when the handler raised,
so a failing handler silently drops its event, and its handler queues are classic
queues declared only when the handler first starts. This entrypoint owns the
alternative, on top of nameko's own Consumer/QueueConsumer machinery:

- it consumes from the durable quorum queue that `servicekit.topology` declares (and
  declares it again at setup, idempotently; deploy-time declaration is what makes a
  late-starting consumer receive events published before it started);
- it refuses, before anything else, a message that does not carry its own platform's
  id (header `x-firewatch-platform`, set by the relay from the log's identity): a
  message of another platform that shares the broker is parked with the reason
  "foreign platform: ...", one without the header with "no platform id: ...", each
  counted in `firewatch_events_refused_total{queue,reason}` and logged as
  `consumer.event_refused` (ADR 0012). It is never handled;
- a message the broker has delivered `delivery_limit` times without an ack (its
  consumer crashed or was killed each time) is parked here, visibly, instead of being
  dead-lettered silently by RabbitMQ on the next requeue;
- it decodes the envelope and calls the service method with the `RecordedEvent`;
- success: ack;
- failure: publish the message, with `x-attempt` incremented, to the retry queue for
  that attempt's delay (its TTL dead-letters it back to the main queue), wait for the
  broker's confirm, and only then ack the original: publish-then-ack, so a crash in
  between duplicates the message and never loses it;
- after the last attempt: publish to the parking queue (with the attempt count,
  reason and traceback in headers), log an error, count it in
  `firewatch_events_parked_total{queue=...}`, then ack;
- if even that publish fails, the original is requeued, never acked;
- a body that is not a valid envelope is parked at once: retrying cannot fix it.

While the service method runs, every line it logs carries the event's correlation id,
its id as causation id and its type (`servicekit.logs.event_context`), and
`firewatch_handler_seconds{queue}` times each delivery.

Handlers must be idempotent by event id (see `servicekit.ids`): every path above can
deliver an event more than once.

Config keys read from the nameko config: AMQP_URI; STORE_URL (falls back to
FIREWATCH_STORE_URL, then the services' default), the log whose identity is this
platform's; FIREWATCH_EXCHANGE_PREFIX (falls back to the environment variable of the
same name, then the prefix derived from the platform identity); and METRICS_PORT
(falls back to FIREWATCH_METRICS_PORT; unset: the metrics are not served).
"""

from __future__ import annotations

import functools
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import Any

import kombu.connection
import kombu.entity
import kombu.pools
import structlog
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer

from eventlog.identity import PlatformIdentity
from eventlog.model import RecordedEvent
from servicekit import envelope, metrics
from servicekit.logs import event_context
from servicekit.platform import platform_topology
from servicekit.topology import (
    DEFAULT_BACKOFF,
    DEFAULT_DELIVERY_LIMIT,
    DEFAULT_FIRST_DELAY,
    DEFAULT_MAX_ATTEMPTS,
    PREFIX_ENV,
    QueueBinding,
    Topology,
    exponential_delays,
)

log = structlog.get_logger("servicekit.consumer")

PREFIX_CONFIG_KEY = PREFIX_ENV
HEADER_ATTEMPT = "x-attempt"
HEADER_LAST_ERROR = "x-last-error"
HEADER_PARKED_REASON = "x-parked-reason"
HEADER_PARKED_TRACEBACK = "x-parked-traceback"
HEADER_PARKED_AT = "x-parked-at"
HEADER_ORIGINAL_QUEUE = "x-original-queue"
HEADER_DELIVERY_COUNT = "x-delivery-count"
"""Set by RabbitMQ on quorum-queue deliveries: earlier deliveries that were not acked."""
REFUSED_FOREIGN = "foreign_platform"
REFUSED_MISSING = "no_platform_id"
_MAX_HEADER_TEXT = 4000
"""Header values travel in every frame header; keep tracebacks bounded."""

_CARRIED = frozenset(
    {"delivery_mode", "priority", "correlation_id", "message_id", "timestamp", "type", "app_id"}
)
"""Basic properties a retried or parked copy keeps. Not `expiration` (a copy must not
inherit a TTL), not `application_headers` (passed separately), not `reply_to`."""

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]

# kombu's classes are unannotated; see servicekit.relay.
_Connection: Any = kombu.connection.Connection
_Queue: Any = kombu.entity.Queue


class UnconfirmedPublishError(Exception):
    """The broker did not confirm a retry/parking publish (nack, return or timeout)."""


class ConfirmedPublisher:
    """Publishes one message through the default exchange and waits for its confirm.

    Each publish uses a fresh channel from a pooled connection, in confirm mode with
    `mandatory`, so a missing queue is a clear error, and a returned message's late
    ack can never be mistaken for the confirm of the next publish (as it can on a
    reused confirm channel). Only the failure path uses this, so one channel per
    message is affordable.
    """

    def __init__(self, amqp_uri: str, confirm_timeout: float = 30.0) -> None:
        self._connection = _Connection(amqp_uri)
        self._timeout = confirm_timeout

    def publish(
        self,
        queue: str,
        body: bytes,
        *,
        headers: dict[str, Any],
        properties: dict[str, Any],
    ) -> None:
        pool: Any = kombu.pools.connections[self._connection]
        with pool.acquire(block=True, timeout=self._timeout) as connection:
            try:
                self._publish(connection, queue, body, headers, properties)
            except Exception:
                # A broken connection must not go back into the pool as if healthy;
                # kombu reconnects a closed Connection lazily on next use.
                _close_quietly(connection)
                raise

    def _publish(
        self,
        connection: Any,
        queue: str,
        body: bytes,
        headers: dict[str, Any],
        properties: dict[str, Any],
    ) -> None:
        channel = connection.channel()
        outcome: list[str] = []
        try:
            channel.events["basic_return"].add(
                lambda exc, exchange, routing_key, message: outcome.append(f"returned: {exc}")
            )
            channel.events["basic_ack"].add(lambda tag, multiple: outcome.append("ack"))
            channel.events["basic_nack"].add(lambda tag, multiple: outcome.append("nack"))
            channel.confirm_select()
            message = channel.prepare_message(
                body,
                content_type=properties.get("content_type"),
                content_encoding=properties.get("content_encoding"),
                headers=headers,
                properties={
                    **{k: v for k, v in properties.items() if k in _CARRIED and v is not None},
                    # Retry and parking copies are always persistent, whatever came in.
                    "delivery_mode": envelope.PERSISTENT,
                },
            )
            channel.basic_publish(message, exchange="", routing_key=queue, mandatory=True)
            while "ack" not in outcome and "nack" not in outcome:
                connection.drain_events(timeout=self._timeout)
        finally:
            _close_quietly(channel)
        if outcome != ["ack"]:
            raise UnconfirmedPublishError(f"publish to {queue!r} not confirmed: {outcome}")


def _close_quietly(resource: Any) -> None:
    try:
        resource.close()
    except Exception as exc:  # noqa: BLE001 - closing something already broken
        log.debug("consumer.close_failed", error=repr(exc))


class RawQueueConsumer(QueueConsumer):  # type: ignore[misc]
    """nameko's QueueConsumer, but hands providers the raw message.

    Stock kombu decodes the body before the callback and, on a body it cannot decode,
    raises inside the consume loop, which kills the container again and again. With
    `on_message`, decoding is ours, and an undecodable body is parked like any other
    poison message.
    """

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        for provider in self._providers:
            consumer = consumer_cls(
                queues=[provider.queue],
                on_message=partial(self._on_raw_message, provider),
                accept=None,
            )
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def _on_raw_message(self, provider: Any, message: Any) -> None:
        self.handle_message(provider, message.body, message)


class ReliableHandler(Consumer):  # type: ignore[misc]
    """The entrypoint behind `@reliable_handler`; see the module docstring."""

    queue_consumer = RawQueueConsumer()

    def __init__(
        self,
        source_service: str,
        event_types: Sequence[str],
        queue: str,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        first_delay: float = DEFAULT_FIRST_DELAY,
        backoff: float = DEFAULT_BACKOFF,
        retry_delays: Sequence[float] | None = None,
        delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
        declare: bool = True,
        **kwargs: Any,
    ) -> None:
        # nameko calls __init__ again when it binds the entrypoint to a container, so
        # this only records arguments; connections are made in setup().
        delays = (
            tuple(retry_delays)
            if retry_delays is not None
            else exponential_delays(max_attempts, first_delay, backoff)
        )
        self.binding = QueueBinding(
            queue, source_service, tuple(event_types), delays, delivery_limit
        )
        self.declare_topology = declare
        self.topology: Topology | None = None
        self.platform: PlatformIdentity | None = None
        self.publisher: ConfirmedPublisher | None = None
        super().__init__(queue=_Queue(queue, no_declare=True), requeue_on_error=False, **kwargs)

    def setup(self) -> None:
        config = self.container.config
        amqp_uri = config[AMQP_URI_CONFIG_KEY]
        # The platform is the one whose log this service uses (ADR 0012): its id is
        # what every message must carry, and it names the queues unless a prefix is set.
        self.platform, self.topology = platform_topology(config)
        log.info(
            "consumer.platform",
            queue=self.topology.qualified(self.binding).queue,
            platform=str(self.platform),
            exchange_prefix=self.topology.prefix,
        )
        # Consume from the queue under this platform's prefix (what deploy declared).
        self.binding = self.topology.qualified(self.binding)
        self.queue = _Queue(self.binding.queue, no_declare=True)
        if self.declare_topology:
            with _Connection(amqp_uri) as connection:
                self.topology.declare(connection, [self.binding])
        self.publisher = ConfirmedPublisher(amqp_uri)
        # Refused and parked messages must be visible to monitoring, not only in-process.
        try:
            metrics.PROCESS.info({"process": f"{self.container.service_name}-worker"})
            metrics.serve_from_config(config)
        except OSError as exc:
            # A taken port must not stop a worker from consuming: say so loudly instead.
            log.exception("consumer.metrics_not_served", error=_describe(exc))
        super().setup()

    # ------------------------------------------------------------------ delivery

    def handle_message(self, body: bytes, message: Any) -> None:
        if self._refused(message):
            return
        deliveries = _delivery_count(message)
        if deliveries >= self.binding.delivery_limit:
            # RabbitMQ dead-letters it on the next requeue, silently: park it visibly.
            self._park(
                message,
                _attempt(message),
                f"delivered {deliveries + 1} times without an ack: its consumer crashed, "
                "was killed or lost its connection while handling it each time",
                None,
            )
            return
        try:
            event = envelope.decode(body)
        except envelope.EnvelopeError as exc:
            self._park(message, _attempt(message), f"undecodable envelope: {exc}", None)
            return
        handle_result = partial(self.handle_result_for, message, event, time.monotonic())
        try:
            self.container.spawn_worker(
                self,
                (event,),
                {},
                context_data=self.unpack_message_headers(message),
                handle_result=handle_result,
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result_for(
        self,
        message: Any,
        event: RecordedEvent,
        started: float,
        worker_ctx: Any,
        result: Any = None,
        exc_info: ExcInfo | None = None,
    ) -> tuple[Any, ExcInfo | None]:
        metrics.HANDLER_SECONDS.labels(self.binding.queue).observe(time.monotonic() - started)
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            metrics.EVENTS_HANDLED.labels(self.binding.queue).inc()
        else:
            self._after_failure(message, event, exc_info)
        return result, exc_info

    def _after_failure(self, message: Any, event: RecordedEvent, exc_info: ExcInfo) -> None:
        attempt = _attempt(message)
        delay_ms = self.binding.retry_delay_ms(attempt)
        error = _describe(exc_info[1])
        if delay_ms is None:
            self._park(message, attempt, error, exc_info, event)
            return
        headers = dict(message.headers or {})
        # The copy is a new message to the broker: a stale count (which RabbitMQ 4 no
        # longer overwrites on a first delivery) would park it before its time.
        headers.pop(HEADER_DELIVERY_COUNT, None)
        headers[HEADER_ATTEMPT] = attempt + 1
        headers[HEADER_LAST_ERROR] = error[:_MAX_HEADER_TEXT]
        retry_queue = self.binding.retry_queue(delay_ms)
        if self._move(message, retry_queue, headers):
            metrics.EVENTS_RETRIED.labels(self.binding.queue).inc()
            log.warning(
                "consumer.retry_scheduled",
                queue=self.binding.queue,
                event_id=str(event.id),
                event_type=event.type,
                attempt=attempt,
                next_attempt_in_ms=delay_ms,
                error=error,
            )

    def _refused(self, message: Any) -> bool:
        """Park a message that is not this platform's; True if it was refused."""
        assert self.platform is not None, "setup() reads the platform identity"
        ours = str(self.platform.platform_id)
        theirs = (message.headers or {}).get(envelope.HEADER_PLATFORM)
        if theirs == ours:
            return False
        if theirs is None:
            code = REFUSED_MISSING
            reason = (
                f"no platform id: the message has no {envelope.HEADER_PLATFORM} header, so "
                f"this platform's relay did not publish it; this consumer's log is "
                f"platform {ours} (ADR 0012)"
            )
        else:
            code = REFUSED_FOREIGN
            reason = (
                f"foreign platform: published by platform {theirs}, but this consumer's "
                f"log is platform {ours}; two platforms share the exchange prefix "
                f"{self.topology.prefix if self.topology else '?'!r} on this broker (ADR 0012)"
            )
        self._park(message, _attempt(message), reason, None, refused=code)
        return True

    def _park(
        self,
        message: Any,
        attempt: int,
        reason: str,
        exc_info: ExcInfo | None,
        event: RecordedEvent | None = None,
        *,
        refused: str | None = None,
    ) -> None:
        text = "".join(traceback.format_exception(*exc_info)) if exc_info else ""
        headers = dict(message.headers or {})
        headers[HEADER_ATTEMPT] = attempt
        headers[HEADER_PARKED_REASON] = reason[:_MAX_HEADER_TEXT]
        headers[HEADER_PARKED_TRACEBACK] = text[-_MAX_HEADER_TEXT:]
        headers[HEADER_PARKED_AT] = datetime.now(UTC).isoformat()
        headers[HEADER_ORIGINAL_QUEUE] = self.binding.queue
        if not self._move(message, self.binding.parking_queue, headers):
            return
        metrics.EVENTS_PARKED.labels(self.binding.queue).inc()
        if refused is not None:
            metrics.EVENTS_REFUSED.labels(self.binding.queue, refused).inc()
        log.error(
            "consumer.event_refused" if refused else "consumer.event_parked",
            queue=self.binding.queue,
            parking_queue=self.binding.parking_queue,
            event_id=str(event.id) if event else message.properties.get("message_id"),
            event_type=event.type if event else message.properties.get("type"),
            attempts=attempt,
            reason=reason,
            traceback=text,
        )

    def _move(self, message: Any, queue: str, headers: dict[str, Any]) -> bool:
        """Publish a copy to `queue`, confirmed, then ack the original; on any publish
        failure requeue the original instead. True if the message moved."""
        assert self.publisher is not None, "setup() creates the publisher"
        try:
            self.publisher.publish(
                queue, message.body, headers=headers, properties=dict(message.properties)
            )
        except Exception as exc:
            log.exception(
                "consumer.move_failed_requeued",
                queue=self.binding.queue,
                target=queue,
                event_id=message.properties.get("message_id"),
                error=_describe(exc),
            )
            self.queue_consumer.requeue_message(message)
            return False
        self.queue_consumer.ack_message(message)
        return True


def _attempt(message: Any) -> int:
    """This delivery's attempt number: 1 for a message straight from the relay."""
    value = (message.headers or {}).get(HEADER_ATTEMPT, 1)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _delivery_count(message: Any) -> int:
    value = (message.headers or {}).get(HEADER_DELIVERY_COUNT, 0)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def reliable_handler(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """`@reliable_handler(source_service, event_types, queue, max_attempts=5, ...)`.

    The service method runs with the handled event's ids bound for logging
    (`servicekit.logs.event_context`): every line it logs names the incident's
    correlation id and the event that caused the work."""
    register = ReliableHandler.decorator(*args, **kwargs)

    def decorate(method: Callable[..., Any]) -> Any:
        @functools.wraps(method)
        def handle(service: Any, event: RecordedEvent) -> Any:
            with event_context(event):
                return method(service, event)

        return register(handle)

    return decorate
