"""The relay: the event log acts as the outbox, and this process moves it to RabbitMQ.

It owns the one path by which events reach the broker (DESIGN "Principles" 2): read
the log in commit order from the checkpoint, publish each event to its owner's
exchange, and move the durable checkpoint only past events the broker has confirmed.

- Plain threads and py-amqp, never eventlet: it blocks on SQLite/PostgreSQL reads and
  on the socket, and nothing else shares its process.
- Confirms are pipelined: up to `window` messages are published back to back, then
  their acks are awaited together (RabbitMQ acks many at once with `multiple`), which
  costs one round trip per window instead of one per message.
- Every message carries the log's platform id (header `x-firewatch-platform`), read
  from the log itself (`EventStore.platform_identity()`), so a consumer of another
  platform that receives it refuses it (ADR 0012).
- Publishes are persistent and `mandatory`. A message no queue takes (nobody binds
  its event type) comes back as basic.return (NO_ROUTE) before its ack: the broker
  keeps nothing, the relay counts it in `firewatch_relay_unrouted_total{event_type}`
  and moves on, since the log holds it for any consumer that needs it later. Events of
  a category no service owns (the log's own identity) or of a log-only category (the
  incident numbering, `topology.LOG_ONLY_CATEGORIES`, ADR 0034) are not published at
  all and are counted the same way. Any other return fails the window, like a nack.
- The checkpoint moves to the end of the longest confirmed prefix of the window, never
  past an unconfirmed, nacked or returned message. Any failure (nack, return, confirm
  timeout, connection or channel error) ends the session: reconnect with exponential
  backoff and republish from the checkpoint. Duplicates are possible; gaps are not.
- A session that made progress before failing reconnects at once (a dropped
  connection); one that keeps failing without progress backs off up to `max_backoff`.
- py-amqp reads the socket before every publish when the broker may send
  `connection.blocked`, only so that blocked callbacks run first: about half of a
  publish's CPU here. The relay reads the socket at every window's confirms anyway, so
  it turns that read off and handles the broker's blocked/unblocked notices itself
  (negotiated at the handshake, they still arrive): a warning and
  `firewatch_relay_broker_blocked`.

Run it with `python -m servicekit.relay --help`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import kombu.connection
import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_when_event_set,
    wait_exponential_jitter,
)

from eventlog.errors import BackendUnavailableError
from eventlog.identity import PlatformIdentity
from eventlog.model import EventFilter, RecordedEvent
from eventlog.port import EventStore, Subscription
from servicekit import envelope, metrics
from servicekit.checkpoint import CheckpointStore
from servicekit.topology import Topology

log = structlog.get_logger("servicekit.relay")

# kombu ships py.typed but leaves Connection's methods unannotated; treating the class
# as Any keeps strict mypy on our code without a type: ignore on every call.
Connection: Any = kombu.connection.Connection

DEFAULT_WINDOW = 256
NO_ROUTE = 312
"""AMQP reply code of a mandatory message that no queue is bound to take."""


class RelayWindowError(Exception):
    """A window did not confirm completely (nack, return or timeout); republish."""


class _SessionFailedError(Exception):
    """A session ended in a recoverable error without moving the checkpoint."""


@dataclass
class _Confirms:
    """Delivery-tag bookkeeping for one channel in confirm mode.

    After confirm.select the broker numbers this channel's publishes 1, 2, 3, ... and
    acks or nacks each tag (or every tag up to one, with `multiple`). A returned
    message is identified by its message_id (the event id), since a return carries no
    tag; RabbitMQ sends the return before the ack of the same message. A NO_ROUTE
    return is not a failure (nobody binds that event type); its ack still settles it.
    """

    next_tag: int = 1
    pending: dict[int, int] = field(default_factory=dict)
    """tag → index in the current window, until acked or nacked."""
    acked: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)
    """index → reason."""
    index_of_id: dict[str, int] = field(default_factory=dict)
    acks: int = 0
    unrouted: list[tuple[str, str]] = field(default_factory=list)
    """(exchange, event type) of each message the broker returned as NO_ROUTE."""

    def begin(self) -> None:
        self.pending.clear()
        self.acked.clear()
        self.failed.clear()
        self.index_of_id.clear()
        self.acks = 0
        self.unrouted.clear()

    def skipped(self, index: int) -> None:
        """A message of the window deliberately not published: settled at once."""
        self.acked.add(index)

    def published(self, index: int, message_id: str) -> None:
        self.pending[self.next_tag] = index
        self.index_of_id[message_id] = index
        self.next_tag += 1

    def _settle(self, tag: int, multiple: bool) -> list[int]:
        tags = [t for t in self.pending if t <= tag] if multiple else [tag]
        return [self.pending.pop(t) for t in tags if t in self.pending]

    def on_ack(self, delivery_tag: int, multiple: bool) -> None:
        indexes = self._settle(delivery_tag, multiple)
        self.acked.update(indexes)
        self.acks += len(indexes)

    def on_nack(self, delivery_tag: int, multiple: bool) -> None:
        for index in self._settle(delivery_tag, multiple):
            self.failed.setdefault(index, "nack")

    def on_return(self, exc: Any, exchange: str, routing_key: str, message: Any) -> None:
        if getattr(exc, "reply_code", None) == NO_ROUTE:
            self.unrouted.append((exchange, routing_key))
            return
        message_id = (getattr(message, "properties", None) or {}).get("message_id")
        index = self.index_of_id.get(str(message_id))
        if index is not None:
            self.failed.setdefault(index, "returned")
        log.error(
            "relay.message_returned",
            exchange=exchange,
            routing_key=routing_key,
            event_id=message_id,
            reason=str(exc),
        )

    @property
    def settled(self) -> bool:
        return not self.pending

    def confirmed_prefix(self, size: int) -> int:
        """How many leading messages of the window are acked and not failed."""
        count = 0
        while count < size and count in self.acked and count not in self.failed:
            count += 1
        return count


class Relay:
    """Relays `store`'s events to RabbitMQ from the checkpoint named `name`.

    `filter` limits what is relayed (e.g. one relay per service: its own categories).
    The platform id every message carries is the log's own (`store.platform_identity()`,
    created here on a log that has none yet); the topology defaults to the one derived
    from it (or `FIREWATCH_EXCHANGE_PREFIX`).
    """

    def __init__(
        self,
        store: EventStore,
        broker_url: str,
        checkpoint: CheckpointStore,
        name: str,
        filter: EventFilter | None = None,
        *,
        topology: Topology | None = None,
        window: int = DEFAULT_WINDOW,
        confirm_timeout: float = 30.0,
        idle_wait: float = 0.2,
        heartbeat: int = 30,
        max_backoff: float = 10.0,
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.store = store
        self.broker_url = broker_url
        self.checkpoint = checkpoint
        self.name = name
        self.filter = filter
        self.platform: PlatformIdentity = store.platform_identity()
        self.topology = topology or Topology(platform=self.platform)
        self._platform_id = str(self.platform.platform_id)
        self._unrouted_types_seen: set[str] = set()
        self.window = window
        self.confirm_timeout = confirm_timeout
        self.idle_wait = idle_wait
        self.heartbeat = heartbeat
        self.max_backoff = max_backoff
        self.connection: Any = None
        """The live broker connection, if any (for diagnostics and fault-injection tests)."""
        self.sessions = 0
        """Connections opened so far; more than one means the relay reconnected."""
        self.failed_sessions = 0
        """Sessions that ended in a recoverable error (connection, channel, window)."""
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._position = checkpoint.load(name)
        self._high_water = self._position
        self._log = log.bind(relay=name)

    # ------------------------------------------------------------------ control

    @property
    def checkpoint_position(self) -> int:
        """The last position whose publish the broker confirmed (durably stored)."""
        with self._progress:
            return self._position

    def wait_for_checkpoint(self, position: int, timeout: float) -> bool:
        """Block until the checkpoint reaches `position`; False if `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while self._position < position:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._progress.wait(left)
            return True

    def stop(self) -> None:
        """Ask run() to return after the current window's confirms (thread/signal safe)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the relay cleanly. Call from the main thread."""

        def handle(signum: int, frame: FrameType | None) -> None:
            self._log.info("relay.signal", signal=signal.Signals(signum).name)
            self.stop()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    # ------------------------------------------------------------------ main loop

    def run(self) -> None:
        """Relay until stop(); reconnects on every recoverable error."""
        self._log.info(
            "relay.started",
            checkpoint=self._position,
            window=self.window,
            platform=self._platform_id,
            exchange_prefix=self.topology.prefix,
        )
        while not self._stop.is_set():
            retrying = Retrying(
                retry=retry_if_exception_type(_SessionFailedError),
                wait=wait_exponential_jitter(
                    multiplier=0.1, max=self.max_backoff, jitter=min(1.0, self.max_backoff / 4)
                ),
                stop=stop_when_event_set(self._stop),
                # Waiting on the stop event makes the backoff interruptible by SIGTERM.
                sleep=self._interruptible_sleep,
                before_sleep=self._before_retry,
                reraise=True,
            )
            try:
                for attempt in retrying:
                    with attempt:
                        self._session()
            except _SessionFailedError:
                # Only reached when stop() was requested while backing off.
                break
        self._log.info("relay.stopped", checkpoint=self.checkpoint_position)

    def _interruptible_sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _before_retry(self, state: RetryCallState) -> None:
        sleep = state.next_action.sleep if state.next_action else 0.0
        self._log.warning("relay.backoff", attempt=state.attempt_number, seconds=round(sleep, 2))

    def _session(self) -> None:
        """One connection's life: connect, declare, relay until stop or failure."""
        connection = Connection(self.broker_url, heartbeat=self.heartbeat, connect_timeout=10)
        recoverable: tuple[type[BaseException], ...] = (
            *connection.connection_errors,
            *connection.channel_errors,
            OSError,
            RelayWindowError,
            BackendUnavailableError,
        )
        start = self.checkpoint_position
        subscription: Subscription | None = None
        try:
            # max_retries=0: one attempt. The backoff is ours (tenacity, interruptible);
            # kombu's own connect() would add a blind 2 s retry.
            connection.ensure_connection(max_retries=0, reraise_as_library_errors=False)
            self._own_blocked_notices(connection.connection)
            channel = connection.channel()
            # Declared on every connect (idempotent), so that a publish can never hit a
            # missing exchange, which would close the channel with 404 and stall.
            self.topology.declare_exchanges(channel)
            confirms = _Confirms()
            channel.events["basic_ack"].add(confirms.on_ack)
            channel.events["basic_nack"].add(confirms.on_nack)
            channel.events["basic_return"].add(confirms.on_return)
            channel.confirm_select()
            self.connection = connection
            self.sessions += 1
            start = self.checkpoint.load(self.name)
            self._log.info("relay.connected", session=self.sessions, resume_from=start + 1)
            subscription = self.store.subscribe(from_position=start + 1, filter=self.filter)
            while not self._stop.is_set():
                batch = self._next_window(subscription, connection)
                if batch:
                    self._publish_window(connection, channel, confirms, batch)
                self._observe_lag()
        except recoverable as exc:
            self.failed_sessions += 1
            if not isinstance(exc, RelayWindowError):  # windows count their own reason
                metrics.RELAY_FAILURES.labels(self.name, "connection").inc()
            progressed = self.checkpoint_position > start
            self._log.warning(
                "relay.session_failed",
                error=f"{type(exc).__name__}: {exc}",
                checkpoint=self.checkpoint_position,
                progressed=progressed,
            )
            if not progressed:
                raise _SessionFailedError(str(exc)) from exc
            # Progress was made, so this was a fault, not a persistent condition:
            # return normally and reconnect at once with a fresh backoff.
        finally:
            self.connection = None
            if subscription is not None:
                subscription.close()
            _close_quietly(connection)

    def _own_blocked_notices(self, amqp_connection: Any) -> None:
        """See the module docstring: no socket read per publish; blocked notices are
        logged and exported instead of going to py-amqp's unset callbacks."""
        capabilities = amqp_connection.client_properties.get("capabilities")
        if isinstance(capabilities, dict) and capabilities.get("connection.blocked"):
            # Read by `_basic_publish` only; the broker was told at the handshake.
            capabilities["connection.blocked"] = False
        metrics.RELAY_BROKER_BLOCKED.labels(self.name).set(0)

        def blocked(reason: str) -> None:
            metrics.RELAY_BROKER_BLOCKED.labels(self.name).set(1)
            self._log.warning(
                "relay.broker_blocked",
                reason=reason,
                note="RabbitMQ accepts no publishes (a memory or disk alarm); the relay "
                "waits for confirms, and republishes from its checkpoint if they time out",
            )

        def unblocked() -> None:
            metrics.RELAY_BROKER_BLOCKED.labels(self.name).set(0)
            self._log.info("relay.broker_unblocked")

        amqp_connection.on_blocked = blocked
        amqp_connection.on_unblocked = unblocked

    def _next_window(self, subscription: Subscription, connection: Any) -> list[RecordedEvent]:
        first = subscription.next_event(timeout=self.idle_wait)
        if first is None:
            self._idle(connection)
            return []
        batch = [first]
        while len(batch) < self.window:
            # timeout=0: take what the log already has, never wait to fill a window.
            event = subscription.next_event(timeout=0)
            if event is None:
                break
            batch.append(event)
        return batch

    def _idle(self, connection: Any) -> None:
        # Read whatever the broker sent (heartbeats, a connection.close) and send our
        # heartbeat; otherwise an idle relay's connection would be declared dead.
        with contextlib.suppress(TimeoutError):
            connection.drain_events(timeout=0.01)
        connection.heartbeat_check()

    def _publish_window(
        self,
        connection: Any,
        channel: Any,
        confirms: _Confirms,
        batch: Sequence[RecordedEvent],
    ) -> None:
        confirms.begin()
        republished = 0
        skipped: list[tuple[str, str]] = []
        for index, event in enumerate(batch):
            exchange = self.topology.exchange_for_stream(event.stream)
            if exchange is None:
                # No service owns the category, so no consumer can bind it.
                confirms.skipped(index)
                skipped.append(("", event.type))
                continue
            if event.position <= self._high_water:
                republished += 1
            wire = envelope.encode(event, self._platform_id)
            properties = wire.properties()
            message = channel.prepare_message(
                wire.body,
                content_type=properties.pop("content_type"),
                content_encoding=properties.pop("content_encoding"),
                headers=properties.pop("headers"),
                properties=properties,
            )
            channel.basic_publish(
                message, exchange=exchange, routing_key=event.type, mandatory=True
            )
            confirms.published(index, wire.message_id)
        metrics.RELAY_PUBLISHED.labels(self.name).inc(len(batch) - len(skipped))
        if republished:
            metrics.RELAY_REPUBLISHED.labels(self.name).inc(republished)
        self._high_water = max(self._high_water, batch[-1].position)

        timed_out = self._await_confirms(connection, confirms)
        metrics.RELAY_CONFIRMS.labels(self.name).inc(confirms.acks)
        self._count_unrouted([*skipped, *confirms.unrouted])

        confirmed = confirms.confirmed_prefix(len(batch))
        if confirmed:
            self._advance(batch[confirmed - 1].position)
        if confirmed < len(batch):
            first_bad = batch[confirmed]
            reason = confirms.failed.get(confirmed, "timeout" if timed_out else "unconfirmed")
            metrics.RELAY_FAILURES.labels(self.name, reason).inc()
            raise RelayWindowError(
                f"event {first_bad.id} at position {first_bad.position} was not confirmed "
                f"({reason}); {len(batch) - confirmed} of {len(batch)} will be republished"
            )

    def _count_unrouted(self, unrouted: Sequence[tuple[str, str]]) -> None:
        for exchange, event_type in unrouted:
            metrics.RELAY_UNROUTED.labels(self.name, event_type).inc()
            if event_type not in self._unrouted_types_seen:
                # Once per type and process: routine, but worth one line when it starts.
                self._unrouted_types_seen.add(event_type)
                self._log.info(
                    "relay.event_type_unrouted",
                    exchange=exchange or None,
                    event_type=event_type,
                    note="no queue binds this event type; counted in "
                    "firewatch_relay_unrouted_total, kept only in the log",
                )

    def _await_confirms(self, connection: Any, confirms: _Confirms) -> bool:
        """Drain the connection until every tag is settled; True if it timed out."""
        deadline = time.monotonic() + self.confirm_timeout
        while not confirms.settled:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            try:
                connection.drain_events(timeout=min(left, 1.0))
            except TimeoutError:
                connection.heartbeat_check()
        return False

    def _observe_lag(self) -> None:
        """`firewatch_relay_lag_positions`: the log's head minus the checkpoint."""
        try:
            head = self.store.head_position()
        except BackendUnavailableError:
            return  # the session's own read will fail and say so
        metrics.RELAY_LAG.labels(self.name).set(max(0, head - self.checkpoint_position))

    def _advance(self, position: int) -> None:
        # Durable first, then visible: a crash between the two only repeats a window.
        self.checkpoint.save(self.name, position)
        metrics.RELAY_CHECKPOINT.labels(self.name).set(position)
        with self._progress:
            self._position = position
            self._progress.notify_all()


def _close_quietly(connection: Any) -> None:
    try:
        connection.release()
    except Exception as exc:  # noqa: BLE001 - a dead connection may fail to close in many ways
        log.debug("relay.close_failed", error=repr(exc))


# ---------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.relay",
        description="Relay the event log to RabbitMQ with publisher confirms and a checkpoint.",
    )
    env = os.environ.get
    parser.add_argument(
        "--store-url",
        default=env("FIREWATCH_STORE_URL"),
        required=env("FIREWATCH_STORE_URL") is None,
        help="event log URL, e.g. sqlite:////var/firewatch/eventlog.db (env FIREWATCH_STORE_URL)",
    )
    parser.add_argument(
        "--broker-url",
        default=env("FIREWATCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
        help="AMQP URL (env FIREWATCH_BROKER_URL)",
    )
    parser.add_argument(
        "--checkpoint",
        default=env("FIREWATCH_CHECKPOINT_URL"),
        required=env("FIREWATCH_CHECKPOINT_URL") is None,
        help="checkpoint store: sqlite:///path.db, a file path, or postgresql://... "
        "(env FIREWATCH_CHECKPOINT_URL)",
    )
    parser.add_argument("--name", default="relay", help="checkpoint name (one per relay)")
    parser.add_argument(
        "--exchange-prefix",
        default=None,
        help="exchange prefix (env FIREWATCH_EXCHANGE_PREFIX; default: derived from the "
        "log's platform identity)",
    )
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="confirm window size")
    parser.add_argument("--confirm-timeout", type=float, default=30.0)
    parser.add_argument(
        "--category",
        action="append",
        default=None,
        help="relay only these stream categories (repeatable); default: all",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=int(env("FIREWATCH_METRICS_PORT") or 0),
        help="serve Prometheus metrics here (0: off; env FIREWATCH_METRICS_PORT)",
    )
    parser.add_argument(
        "--log-format",
        choices=["console", "json"],
        default=None,
        help="log lines (default: env FIREWATCH_LOG_FORMAT, else console)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from eventlog.factory import open_store
    from servicekit.checkpoint import open_checkpoint_store
    from servicekit.logs import configure_logging

    args = _parser().parse_args(argv)
    configure_logging(json=None if args.log_format is None else args.log_format == "json")
    metrics.PROCESS.info({"process": "relay"})
    metrics.serve(args.metrics_port)
    event_filter = EventFilter.of(categories=args.category) if args.category else None
    store = open_store(args.store_url)
    checkpoint = open_checkpoint_store(args.checkpoint)
    relay = Relay(
        store,
        args.broker_url,
        checkpoint,
        args.name,
        event_filter,
        topology=Topology(args.exchange_prefix, platform=store.platform_identity()),
        window=args.window,
        confirm_timeout=args.confirm_timeout,
    )
    relay.install_signal_handlers()
    try:
        relay.run()
    finally:
        checkpoint.close()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
