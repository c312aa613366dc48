"""Firewatch service kit: moving events from the log to RabbitMQ and into handlers.

- `servicekit.envelope`: the wire format of an event (pure);
- `servicekit.ids`: derived event ids that make handlers idempotent (pure);
- `servicekit.topology`: exchange/queue names and their declaration;
- `servicekit.platform`: this process's platform (its log's identity) and topology;
- `servicekit.checkpoint`: durable relay positions (SQLite, PostgreSQL);
- `servicekit.relay`: the log → RabbitMQ relay (plain threads; `python -m servicekit.relay`);
- `servicekit.consumer`: `@reliable_handler`, the nameko entrypoint with retry and parking;
- `servicekit.rpc`: nameko `@rpc` on the platform's own RPC exchange and queues.

Only the pure modules are imported here, so `import servicekit` pulls in neither kombu
nor nameko (nor eventlet).
"""

from servicekit.envelope import EnvelopeError, WireMessage, decode, encode
from servicekit.ids import derived_event_id

__all__ = ["EnvelopeError", "WireMessage", "decode", "derived_event_id", "encode"]
