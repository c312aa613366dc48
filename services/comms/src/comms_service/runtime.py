"""What every part of the communications application shares: the command runner.

Owns the store port, the injected clock and this process's sender identity (its slot
and a fresh instance id), the aggregates (with the cadence and retry policies they
decide by), the in-memory model (`model.CommsModel`, appkit's ModelSource) caught up
from the log before each command and query, running a command on one of them, and the
two reads the other parts all need: the status page and its subscribers.
"""

from __future__ import annotations

import uuid
from typing import Any

from appkit import CommandResult, CommandRunner, EventIds, ModelSource, ProjectionRunner
from comms_service import dispatch as dsp
from comms_service import room as rm
from comms_service import statuspage as sp
from comms_service import subscriber as sub
from comms_service.cadence import CadencePolicy
from comms_service.common import EVENTS, ID_NAMESPACE
from comms_service.model import CommsModel, aggregates
from eventlog import EventStore
from eventlog.clock import Clock


class Runtime:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        *,
        cadence: CadencePolicy,
        retry: dsp.RetryPolicy,
        sender: str,
    ) -> None:
        self.store = store
        self.clock = clock
        self.sender = sender
        self.instance = str(uuid.uuid4())
        self.aggregates = aggregates(
            rm.make_decide(cadence), dsp.make_decide(retry), dsp.make_evolve(retry)
        )
        self.projections = ProjectionRunner(store, lambda: CommsModel(self.aggregates.values()))
        self.runner = CommandRunner(
            store, EVENTS, EventIds(ID_NAMESPACE), source=ModelSource(self.projections)
        )

    @property
    def model(self) -> CommsModel:
        self.projections.catch_up()
        return self.projections.projection

    def run(
        self,
        category: str,
        stream: str,
        command: Any,
        *,
        actor: str,
        key: str | None = None,
        causation_id: str | None = None,
        not_found: str | None = None,
    ) -> CommandResult[Any]:
        return self.runner.execute(
            self.aggregates[category],
            stream,
            command,
            actor=actor,
            key=key,
            causation_id=causation_id,
            not_found=not_found,
        )

    @property
    def actor(self) -> str:
        """Who the worker's own commands are recorded as."""
        return f"comms-worker:{self.sender}"

    def page(self) -> sp.Page:
        state, _ = self.model.state(sp.PAGE_STREAM)
        return state  # type: ignore[no-any-return]

    def subscribers(self) -> list[sub.Subscriber]:
        return [state for _, state in self.model.streams(sub.STREAM_CATEGORY)]
