"""`@rpc` for nameko services, on the platform's own RPC exchange and queues.

Stock nameko puts every service's RPC on the exchange `nameko-rpc` and the queue
`rpc-<service>`, whatever platform it belongs to. Two platforms on one vhost (a `make
run` next to `make test`, staging next to production) would then share `rpc-incident`:
a call from one platform is answered, and acted on, by the other's worker, against the
other's log. This module owns the alternative (ADR 0012): the same entrypoint, consuming
`<prefix>.rpc-<service>` bound to the exchange `<prefix>.rpc`, and replying on that
exchange, where the prefix is the platform's (`servicekit.platform`).

Callers pass the platform's exchange to their proxy: `rpc_proxy_config(topology, uri)`
gives `ClusterRpcProxy` its config.
"""

from __future__ import annotations

from typing import Any

import kombu.entity
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    RPC_EXCHANGE_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.rpc import Responder, RpcConsumer
from nameko.rpc import Rpc as _NamekoRpc

from servicekit.platform import platform_topology
from servicekit.topology import Topology

# kombu's classes are unannotated; see servicekit.relay.
_Exchange: Any = kombu.entity.Exchange
_Queue: Any = kombu.entity.Queue


def rpc_proxy_config(topology: Topology, amqp_uri: str) -> dict[str, Any]:
    """nameko config for a `ClusterRpcProxy` that calls this platform's services."""
    return {AMQP_URI_CONFIG_KEY: amqp_uri, RPC_EXCHANGE_CONFIG_KEY: topology.rpc_exchange}


class PlatformRpcConsumer(RpcConsumer):  # type: ignore[misc]
    """nameko's RpcConsumer with the platform's exchange and queue names."""

    exchange: Any = None
    queue: Any

    def setup(self) -> None:
        if self.queue is not None:
            return
        _, topology = platform_topology(self.container.config)
        service = self.container.service_name
        self.exchange = _Exchange(topology.rpc_exchange, durable=True, type="topic")
        self.queue = _Queue(
            topology.rpc_queue(service),
            exchange=self.exchange,
            routing_key=f"{service}.*",
            durable=True,
        )
        self.queue_consumer.register_provider(self)
        self._registered = True

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        # nameko's own, except that the reply goes out on this platform's exchange
        # (stock nameko reads it from the config, where it would be `nameko-rpc`).
        config = self.container.config
        responder = Responder(
            config[AMQP_URI_CONFIG_KEY],
            self.exchange,
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER),
            message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class Rpc(_NamekoRpc):  # type: ignore[misc]
    """The entrypoint behind `@rpc`; see the module docstring."""

    rpc_consumer = PlatformRpcConsumer()


rpc: Any = Rpc.decorator
"""`@rpc`: nameko's, under the platform's prefix."""
