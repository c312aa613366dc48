"""Deterministic event ids: how an idempotency key becomes the ids of a command's events.

A command that carries a key gets event ids derived from it (uuid5), so a retried or
racing identical decision appends the same ids and the log's idempotent append keeps
one copy (DESIGN principle 2). One mechanism, one formula per service: the formula is a
template over

    {stream}   the stream name          {id}       the stream name after its category
    {key}      the idempotency key      {index}    the event's place in the decision
    {version}  the stream version the decision was made at (-1 for a new stream)

A template without {index} names one event per key; the runner refuses it for a
decision of several events (paging's delivery attempts, whose ids receivers see).

Ids are stored forever and adapters hand some of them to the outside world, so a
service's template is fixed once it has appended with it. A template with {version}
makes ids *causal* rather than replayable: the same key may decide again at a later
version (a rule going pending twice), and a retry is recognised by the log, not by
looking the ids up.

Pure: no store, no clock.
"""

from __future__ import annotations

import string
import uuid
from dataclasses import dataclass

from appkit.decider import stream_id

DEFAULT_TEMPLATE = "{stream}/{key}/{index}"
_FIELDS = frozenset({"stream", "id", "key", "index", "version"})


@dataclass(frozen=True, slots=True)
class EventIds:
    """`derive(stream, key, version, index)` under a service's fixed namespace."""

    namespace: uuid.UUID
    template: str = DEFAULT_TEMPLATE

    def __post_init__(self) -> None:
        names = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
        if not names <= _FIELDS:
            raise ValueError(f"unknown fields {sorted(names - _FIELDS)} in {self.template!r}")
        if "key" not in names or not names & {"stream", "id"}:
            raise ValueError(
                f"{self.template!r} must name the key and the stream (or its id): "
                "otherwise two commands could derive the same ids"
            )

    @property
    def single(self) -> bool:
        """True when the template has no {index}: it serves one-event decisions only."""
        return "{index}" not in self.template

    @property
    def versioned(self) -> bool:
        """True when ids depend on the version read (then a replay cannot be looked up)."""
        return "{version}" in self.template

    def derive(self, stream: str, key: str, version: int | None, index: int) -> uuid.UUID:
        if index and self.single:
            raise ValueError(
                f"{self.template!r} has no {{index}}, so it can name only a decision's first "
                f"event, not event {index}"
            )
        name = self.template.format(
            stream=stream,
            id=stream_id(stream),
            key=key,
            index=index,
            version=-1 if version is None else version,
        )
        return uuid.uuid5(self.namespace, name)
