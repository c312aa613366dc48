"""Deterministic ids for the events a handler appends, which make handlers idempotent.

A consumer gets every event at least once. If a handler derives the ids of the events
it appends from (its own name, the input event's id, the output's index), a redelivered
input re-appends exactly the same ids and the log's idempotent append returns the
original positions instead of writing twice. The same holds for attempts at external
side effects (an email, a webhook) recorded before they are made. This works unchanged
on every backend, EventStoreDB included, because it relies only on event-id idempotency.
"""

from __future__ import annotations

import uuid

DERIVED_ID_NAMESPACE = uuid.UUID("6f0c1d6e-5b1a-5d0e-9a51-8e0c3f4b2a17")
"""Fixed forever: changing it would give redeliveries new ids and break idempotency."""


def derived_event_id(
    handler_name: str, input_event_id: uuid.UUID | str, index: int = 0
) -> uuid.UUID:
    """The id of the `index`-th event `handler_name` appends in reaction to an input event.

    `handler_name` should be stable and unique across the platform, e.g.
    "paging.page_responders". The input id is normalised, so a UUID and its string
    form give the same result.
    """
    if not handler_name:
        raise ValueError("handler_name must be a non-empty, stable name")
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    normalised = str(uuid.UUID(str(input_event_id)))
    # A separator that cannot occur in a UUID keeps ("a:b", id) and ("a", "b:" + ...)
    # from colliding; the name itself may contain anything.
    return uuid.uuid5(DERIVED_ID_NAMESPACE, f"{normalised}|{index}|{handler_name}")
