"""What every detection use case shares: the log, the clock, the routing configuration,
the caught-up read model, the command runner and the one writer lock.

Owns how detection runs commands on the kit (ADR 0013): aggregates load from the
in-memory read model (`ModelSource`), and event ids are *causal*: uuid5 of the stream,
the version decided at, the index and an input-derived cause (e.g. an Alertmanager
alert's fingerprint+startsAt+status, ADR 0008), which is also the causation id. A
retried delivery re-appends the same ids and the log drops them. It decides nothing
itself and never talks HTTP, gRPC or nameko.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from appkit import Aggregate, CommandResult, CommandRunner, EventIds, ModelSource, ProjectionRunner
from contracts.domain import InvalidCommandError
from detection_service.events import EVENTS
from detection_service.projections import DetectionReadModel
from detection_service.routing import DetectionConfig
from eventlog import EventStore
from eventlog.clock import Clock

ID_NAMESPACE = uuid.UUID("2b7e54f0-7c1d-5a43-9e6b-d1f0a4c3b8e2")
"""Fixed forever: changing it would give retried deliveries new event ids."""
EVENT_IDS = EventIds(ID_NAMESPACE, "{stream}@{version}/{index}/{key}")
MAX_ATTEMPTS = 5

C = TypeVar("C")
S = TypeVar("S")
T = TypeVar("T")


class InvalidPayloadError(InvalidCommandError):
    """Input that fails validation; `errors` lists every bad field (PagerDuty style)."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        field, _, problem = self.errors[0].partition(": ")
        super().__init__(field, problem or self.errors[0])


def checked_id(value: str, field: str) -> str:
    """An id a caller named (alert, group, silence, rule, heartbeat), or the field's error."""
    if not isinstance(value, str) or not re.fullmatch(
        r"[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,150}", value
    ):
        raise InvalidCommandError(field, f"{str(value)[:64]!r} is not a valid id")
    return value


class Core:
    def __init__(
        self, store: EventStore, clock: Clock, config: DetectionConfig, *, max_attempts: int
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.projections = ProjectionRunner(store, DetectionReadModel)
        self.runner = CommandRunner(
            store,
            EVENTS,
            EVENT_IDS,
            source=ModelSource(self.projections),
            max_attempts=max_attempts,
        )
        # One detection writer process, one command at a time; appends are still
        # version-checked, so a second writer costs retries, never corruption.
        self.lock = threading.RLock()

    @property
    def model(self) -> DetectionReadModel:
        return self.projections.projection

    def caught_up(self) -> DetectionReadModel:
        """The read model with everything committed so far applied."""
        self.projections.catch_up()
        return self.model

    def atomically(self, body: Callable[[], T]) -> T:
        """Run `body`'s commands as one unit of work: one transaction (ADR 0024). The
        caller holds `lock`, which keeps readers from the model's staged state."""
        return self.runner.atomically(body)

    def run(
        self, aggregate: Aggregate[C, S], stream: str, command: C, *, cause: str, actor: str
    ) -> CommandResult[S]:
        return self.runner.execute(
            aggregate, stream, command, actor=actor, key=cause, causation_id=cause[:200]
        )
