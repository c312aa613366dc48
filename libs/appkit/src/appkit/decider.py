"""The decider: what the kit needs to know about an aggregate.

Owns the shape every aggregate's pure core already has (DESIGN principle 3): an initial
state, `decide(command, state) -> events` and `evolve(state, event) -> state`, plus the
two facts the runners need around it: the stream category it lives in and which
incident (or other subject) its events are about, for their `correlation_id`.

Pure: it must never import a framework, the store or a clock. Domain modules stay as
they are; a service wraps their three functions in an `Aggregate` in its app layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from contracts.events import DomainEvent

C_contra = TypeVar("C_contra", contravariant=True)
S = TypeVar("S")
CommandT = TypeVar("CommandT")
StateT = TypeVar("StateT")


def stream_id(stream: str) -> str:
    """The part of a stream name after its category: `incident-<uuid>` -> `<uuid>`."""
    return stream.split("-", 1)[1] if "-" in stream else stream


def by_stream_id(stream: str, state: object) -> str | None:
    """Correlate events with the id in their stream's name (an incident's own stream,
    an escalation named after its incident, an alert group)."""
    return stream_id(stream)


def uncorrelated(stream: str, state: object) -> str | None:
    """Events that belong to no incident (a user, a schedule, a policy)."""
    return None


class Decider(Protocol[C_contra, S]):
    """What the command and projection runners accept. `Aggregate` is the usual one."""

    @property
    def category(self) -> str: ...

    @property
    def initial(self) -> S: ...

    def decide(self, command: C_contra, state: S) -> Sequence[DomainEvent]:
        """The events a command produces; raises a DomainError when it cannot."""
        ...

    def evolve(self, state: S, event: DomainEvent) -> S:
        """Apply one recorded fact; never raises for a recorded event."""
        ...

    def correlation(self, stream: str, state: S) -> str | None:
        """What the events of `stream` are about, given the state after them."""
        ...


@dataclass(frozen=True, slots=True)
class Aggregate(Generic[CommandT, StateT]):
    """A decider made of a domain module's functions:
    `Aggregate("incident", domain.INITIAL, domain.decide, domain.evolve)`.

    `correlation(stream, state_after)` fills each event's `correlation_id` unless the
    caller names one; by default it is the id in the stream's name.
    """

    category: str
    initial: StateT
    decide: Callable[[CommandT, StateT], Sequence[DomainEvent]]
    evolve: Callable[[StateT, DomainEvent], StateT]
    correlation: Callable[[str, StateT], str | None] = by_stream_id
    fold_events: Callable[[Iterable[DomainEvent], StateT], StateT] | None = None
    """Optional: the domain's own fold, equal to `evolve` over the events but cheaper
    for a long stream (e.g. one copy of the state per run instead of one per event)."""


def fold(decider: Decider[Any, S], events: Iterable[DomainEvent], state: S | None = None) -> S:
    """`evolve` over `events`, from `state` (the decider's initial state by default);
    through the decider's `fold_events` when it has one."""
    current = decider.initial if state is None else state
    bulk: Callable[[Iterable[DomainEvent], S], S] | None = getattr(decider, "fold_events", None)
    if bulk is not None:
        return bulk(events, current)
    for event in events:
        current = decider.evolve(current, event)
    return current
