"""The RabbitMQ topology: exchange and queue names, their arguments, and declaring them.

This module owns every name and argument on the broker, so that the relay, the
consumers and the deploy step can never disagree (RabbitMQ refuses a re-declaration
with different arguments):

- one durable topic exchange per owning service, `<prefix>.<service>`, where the owner
  of a stream category comes from eventlog's ownership map; the routing key is the
  event type. There is no alternate exchange: an event type no consumer binds is
  returned to the relay, which counts it and moves on (ADR 0012). The broker keeps only
  what a consumer will read; the log keeps everything. A service's private bookkeeping
  streams (`LOG_ONLY_CATEGORIES`: the incident numbering) have no exchange at all: they
  are in the log and its timelines, never on the broker (ADR 0034);
- per consumer queue (`QueueBinding`, its name put under the prefix by `qualified`, so
  platforms sharing a vhost never share a queue): the durable **quorum** queue itself, bound to
  its source exchange for each event type; one retry queue per distinct backoff delay,
  `<queue>.retry.<ms>ms`, whose queue TTL dead-letters messages back to the main queue
  (a fixed TTL per queue, because RabbitMQ expires messages only at the head of a
  queue: mixed per-message expirations in one queue would block short delays behind
  long ones); and the parking queue `<queue>.parking` for messages that exhausted their
  attempts. The main queue also dead-letters into parking, so a message that crashes
  its consumer again and again (quorum `x-delivery-limit`) is parked, not dropped;
- nameko RPC under the prefix too (`servicekit.rpc`): the exchange `<prefix>.rpc` and
  one queue `<prefix>.rpc-<service>` per service, instead of nameko's shared
  `nameko-rpc` / `rpc-<service>`.

What bounds each queue (ADR 0012): a main queue holds what its consumer has not read
yet; a retry queue holds a message at most its TTL; a parking queue grows with every
parked message, which is counted, logged and meant to be alerted on.

Dead-lettering uses RabbitMQ's at-least-once strategy (quorum queues, 3.10+), which
needs `x-overflow: reject-publish`; without it a dead-lettered message can be lost.

`declare()` is idempotent and meant to run at deploy time and at every startup: a
consumer queue that exists before the first event is published is what lets a consumer
that starts late still receive everything.

The prefix is `FIREWATCH_EXCHANGE_PREFIX` when set, otherwise derived from the
platform's identity (`firewatch-<first 12 hex digits of the platform id>`, see
`eventlog.identity`), so two installations on one vhost get disjoint names without
anyone configuring them.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventlog.identity import PlatformIdentity
from eventlog.model import category_of
from eventlog.ownership import PLATFORM_OWNERSHIP

LOG_ONLY_CATEGORIES = frozenset({"incidentnumber"})
"""Owned categories the relay never publishes: a service's own bookkeeping, which no
consumer acts on. `incidentnumber-all` is the incident numbering counter; every fact it
holds (the number) is in the IncidentDeclared that follows it. Publishing it cost a
publish and a confirm per declaration, and, when it was committed alone, a confirm
round trip before the relay read the declaration (ADR 0034)."""

PREFIX_ENV = "FIREWATCH_EXCHANGE_PREFIX"
DERIVED_PREFIX_STEM = "firewatch"
LEGACY_UNROUTED = "unrouted"
"""`<prefix>.unrouted`: the alternate exchange and queue before ADR 0012; only deleted."""
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_FIRST_DELAY = 1.0
DEFAULT_BACKOFF = 5.0
DEFAULT_DELIVERY_LIMIT = 20
"""Redeliveries (crashes/requeues, not handler failures) before RabbitMQ parks a message."""

_QUORUM = {"x-queue-type": "quorum"}
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


class TopologyError(ValueError):
    """A topology description that cannot be declared."""


def derived_prefix(platform: PlatformIdentity) -> str:
    """The default exchange prefix of a platform: `firewatch-<12 hex digits of its id>`."""
    return f"{DERIVED_PREFIX_STEM}-{platform.short_id}"


def exponential_delays(
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    first_delay: float = DEFAULT_FIRST_DELAY,
    backoff: float = DEFAULT_BACKOFF,
) -> tuple[float, ...]:
    """Delays (seconds) before attempts 2..max_attempts: first, first*backoff, ...

    The defaults give 1 s, 5 s, 25 s, 125 s: long enough to outlast a restart of a
    dependency, short enough that a transient fault costs minutes, not hours.
    """
    if max_attempts < 1:
        raise TopologyError(f"max_attempts must be >= 1, got {max_attempts}")
    if first_delay <= 0 or backoff < 1:
        raise TopologyError("first_delay must be > 0 and backoff >= 1")
    return tuple(first_delay * backoff**n for n in range(max_attempts - 1))


@dataclass(frozen=True, slots=True)
class QueueBinding:
    """One consumer queue: which service's exchange it reads and which event types.

    `event_types` are topic binding keys, so "#" takes every event of the source.
    `retry_delays[n]` is the wait before attempt n+2; a message is parked after
    `len(retry_delays) + 1` failed attempts.
    """

    service_queue_name: str
    source_service: str
    event_types: Sequence[str]
    retry_delays: Sequence[float] = exponential_delays()
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT

    def __post_init__(self) -> None:
        if not _NAME.match(self.service_queue_name):
            raise TopologyError(
                f"queue name {self.service_queue_name!r} must be 1-200 of A-Z a-z 0-9 _ . : -"
            )
        if isinstance(self.event_types, str):
            raise TopologyError("event_types must be a sequence of event types, not one string")
        # Callers naturally pass lists; a tuple keeps the frozen binding hashable.
        object.__setattr__(self, "event_types", tuple(self.event_types))
        object.__setattr__(self, "retry_delays", tuple(float(d) for d in self.retry_delays))
        if not self.event_types:
            raise TopologyError(f"queue {self.service_queue_name!r} binds no event types")
        if any(delay <= 0 for delay in self.retry_delays):
            raise TopologyError("every retry delay must be > 0 seconds")
        if self.delivery_limit < 1:
            raise TopologyError("delivery_limit must be >= 1")

    @property
    def queue(self) -> str:
        return self.service_queue_name

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays) + 1

    @property
    def parking_queue(self) -> str:
        return f"{self.service_queue_name}.parking"

    def retry_delay_ms(self, failed_attempt: int) -> int | None:
        """The delay after attempt `failed_attempt` (1-based) failed; None means park."""
        if failed_attempt < 1:
            raise ValueError(f"attempts are counted from 1, got {failed_attempt}")
        if failed_attempt > len(self.retry_delays):
            return None
        # At least 1 ms: a TTL of 0 would mean "expire now" and busy-loop the retry.
        return max(1, round(self.retry_delays[failed_attempt - 1] * 1000))

    def retry_queue(self, delay_ms: int) -> str:
        return f"{self.service_queue_name}.retry.{delay_ms}ms"

    @property
    def retry_queues(self) -> dict[str, int]:
        """Retry queue name → TTL (ms); attempts with equal delays share a queue."""
        delays = (self.retry_delay_ms(n) for n in range(1, len(self.retry_delays) + 1))
        return {self.retry_queue(ms): ms for ms in delays if ms is not None}


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A queue's name and its exact declaration arguments."""

    name: str
    arguments: Mapping[str, Any]


class Topology:
    """Names and declarations under one exchange prefix.

    The prefix is, in order: `prefix`, the `FIREWATCH_EXCHANGE_PREFIX` environment
    variable, or the one derived from `platform` (the log's identity). There is no
    fixed default: one would put every installation on a vhost into the same queues.
    `ownership` maps each service to the stream categories it owns; the platform map
    is the default, tests may pass their own.
    """

    def __init__(
        self,
        prefix: str | None = None,
        ownership: Mapping[str, Iterable[str]] = PLATFORM_OWNERSHIP,
        *,
        platform: PlatformIdentity | None = None,
    ) -> None:
        # An empty variable counts as unset (compose files often pass `VAR=`).
        chosen = prefix or os.environ.get(PREFIX_ENV) or None
        if chosen is None:
            if platform is None:
                raise TopologyError(
                    f"no exchange prefix: pass the platform's identity (its log's "
                    f"platform_identity()) or set {PREFIX_ENV}"
                )
            chosen = derived_prefix(platform)
        if not _NAME.match(chosen):
            raise TopologyError(f"exchange prefix {chosen!r} must be 1-200 of A-Z a-z 0-9 _ . : -")
        self.prefix = chosen
        self.ownership = {service: frozenset(cats) for service, cats in ownership.items()}
        self._owner_of: dict[str, str] = {}
        for service, categories in self.ownership.items():
            for category in categories:
                if category in self._owner_of:
                    raise TopologyError(
                        f"category {category!r} is owned by both "
                        f"{self._owner_of[category]!r} and {service!r}"
                    )
                self._owner_of[category] = service

    # ------------------------------------------------------------------ names

    def exchange_for_service(self, service: str) -> str:
        if service not in self.ownership:
            raise TopologyError(
                f"{service!r} owns no stream categories; known services: "
                f"{', '.join(sorted(self.ownership))}"
            )
        return f"{self.prefix}.{service}"

    def owner_of_stream(self, stream: str) -> str | None:
        return self._owner_of.get(category_of(stream))

    def exchange_for_stream(self, stream: str) -> str | None:
        """The owner's exchange; None for a category no service owns (such as the
        log's own `platform-identity`), which no consumer could bind, and for the
        log-only categories (`LOG_ONLY_CATEGORIES`)."""
        category = category_of(stream)
        if category in LOG_ONLY_CATEGORIES:
            return None
        owner = self._owner_of.get(category)
        return None if owner is None else self.exchange_for_service(owner)

    @property
    def service_exchanges(self) -> list[str]:
        return [self.exchange_for_service(service) for service in sorted(self.ownership)]

    @property
    def rpc_exchange(self) -> str:
        """nameko RPC's exchange for this platform (`servicekit.rpc`)."""
        return f"{self.prefix}.rpc"

    def rpc_queue(self, service: str) -> str:
        """The queue a service's nameko RPC entrypoints consume (`servicekit.rpc`)."""
        return f"{self.prefix}.rpc-{service}"

    # ------------------------------------------------------------------ arguments

    def qualified(self, binding: QueueBinding) -> QueueBinding:
        """The binding with its queue name under this prefix, so that two platforms (or
        a test and a running `make run`) on one vhost never share a consumer queue.
        Names that already start with the prefix are kept as they are."""
        if binding.service_queue_name.startswith(f"{self.prefix}."):
            return binding
        return dataclasses.replace(
            binding, service_queue_name=f"{self.prefix}.{binding.service_queue_name}"
        )

    def queue_specs(self, binding: QueueBinding) -> list[QueueSpec]:
        """Every queue one binding needs, parking first (it is the others' DLX target)."""
        at_least_once = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
        specs = [QueueSpec(binding.parking_queue, dict(_QUORUM))]
        specs.append(
            QueueSpec(
                binding.queue,
                {
                    **_QUORUM,
                    **at_least_once,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": binding.parking_queue,
                    "x-delivery-limit": binding.delivery_limit,
                },
            )
        )
        for name, ttl_ms in binding.retry_queues.items():
            specs.append(
                QueueSpec(
                    name,
                    {
                        **_QUORUM,
                        **at_least_once,
                        "x-message-ttl": ttl_ms,
                        # The default exchange routes by queue name, so a retried
                        # message goes back to this consumer only, not to every queue
                        # bound to the source exchange.
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": binding.queue,
                    },
                )
            )
        return specs

    # ------------------------------------------------------------------ declaring

    def declare_exchanges(self, channel: Any, services: Iterable[str] | None = None) -> None:
        """Each service exchange (idempotent).

        `channel` is a py-amqp channel (kombu's `connection.channel()`).
        """
        for service in sorted(self.ownership if services is None else set(services)):
            channel.exchange_declare(
                self.exchange_for_service(service), "topic", durable=True, auto_delete=False
            )

    def declare_binding(self, channel: Any, binding: QueueBinding) -> None:
        exchange = self.exchange_for_service(binding.source_service)
        for spec in self.queue_specs(binding):
            channel.queue_declare(
                spec.name, durable=True, auto_delete=False, arguments=dict(spec.arguments)
            )
        for event_type in binding.event_types:
            channel.queue_bind(binding.queue, exchange, event_type)

    def declare(self, connection: Any, bindings: Sequence[QueueBinding] = ()) -> None:
        """Declare everything on a kombu `Connection` (idempotent)."""
        channel = connection.channel()
        try:
            self.declare_exchanges(channel)
            for binding in bindings:
                self.declare_binding(channel, self.qualified(binding))
        finally:
            channel.close()

    def delete(self, connection: Any, bindings: Sequence[QueueBinding] = ()) -> None:
        """Remove what `declare` created, the RPC exchange and queues `servicekit.rpc`
        declares, and a pre-ADR-0012 `<prefix>.unrouted` queue and exchange: for tests
        and for decommissioning a prefix (deleting what does not exist is a no-op).

        Never run against a live platform: deleting a queue discards its messages.
        """
        channel = connection.channel()
        try:
            for binding in bindings:
                for spec in self.queue_specs(self.qualified(binding)):
                    channel.queue_delete(spec.name)
            for service in sorted(self.ownership):
                channel.queue_delete(self.rpc_queue(service))
            channel.exchange_delete(self.rpc_exchange)
            for exchange in self.service_exchanges:
                channel.exchange_delete(exchange)
            channel.queue_delete(f"{self.prefix}.{LEGACY_UNROUTED}")
            channel.exchange_delete(f"{self.prefix}.{LEGACY_UNROUTED}")
        finally:
            channel.close()


def declare(connection: Any, bindings: Sequence[QueueBinding], topology: Topology) -> Topology:
    """Declare the platform's exchanges and the given consumer queues; returns `topology`."""
    topology.declare(connection, bindings)
    return topology
