"""Firewatch's application kit: what every service's app layer is built from.

- `Aggregate` / `Decider` (`appkit.decider`): a domain module's `initial`, `decide` and
  `evolve`, with its stream category and how its events are correlated;
- `CommandRunner` (`appkit.commands`): load, decide, append with the version read,
  retry on conflict, ids from an idempotency key, metadata filled one way, and one
  `CommandResult`;
- `acting_with` / `current_credential` (`appkit.acting`): the API token name of the
  call being handled, stamped into the events' metadata by the runner;
- `EventIds` (`appkit.ids`): a service's fixed formula for deterministic event ids;
- `ProjectionRunner`, `AggregateStates`, `ModelSource` (`appkit.projections`): read
  models caught up from the log with one checkpoint, rebuilt with one call;
- `Renderers`, `AsOfLog`, `installed_renderers` (`appkit.rendering`): the
  `firewatch.renderers` plug-in point through which each service shows its streams
  as its live API did at an instant (the audit service's replay).

docs/adding-a-service.md walks through them; ADR 0013 says why they are shaped so.
Pure except for the store port: no framework, no clock, no broker.
"""

from appkit.acting import acting_with, current_credential
from appkit.commands import (
    MAX_ATTEMPTS,
    CommandResult,
    CommandRunner,
    Loaded,
    LogSource,
    StateSource,
)
from appkit.decider import Aggregate, Decider, by_stream_id, fold, stream_id, uncorrelated
from appkit.ids import DEFAULT_TEMPLATE, EventIds
from appkit.projections import AggregateStates, ModelSource, Projection, ProjectionRunner

__all__ = [
    "DEFAULT_TEMPLATE",
    "MAX_ATTEMPTS",
    "Aggregate",
    "AggregateStates",
    "CommandResult",
    "CommandRunner",
    "Decider",
    "EventIds",
    "Loaded",
    "LogSource",
    "ModelSource",
    "Projection",
    "ProjectionRunner",
    "StateSource",
    "acting_with",
    "by_stream_id",
    "current_credential",
    "fold",
    "stream_id",
    "uncorrelated",
]
