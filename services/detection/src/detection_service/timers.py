"""Detection's one ticker: everything that happens because time passed.

Owns `tick()`: it fires silence ends, heartbeat deadlines, alert timers (auto-resolve,
flapping end) from the read model's projection of due items, evaluates the rules, and
re-checks suppressions. Each timer is decided from recorded state, so it fires once
however often `tick()` runs. In production only the HTTP ingestion process ticks
(every second); tests tick on a FakeClock (ADR 0008).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.events import DomainEvent
from detection_service import alert, silence
from detection_service.aggregates import ALERT, SILENCE
from detection_service.core import Core
from detection_service.evaluation import RuleEvaluation
from detection_service.heartbeats import Heartbeats
from detection_service.policies import Policies
from detection_service.projections import DueKind


@dataclass(frozen=True, slots=True)
class TickReport:
    at: datetime
    event_types: tuple[str, ...]


class Timers:
    def __init__(
        self, core: Core, policies: Policies, heartbeats: Heartbeats, rules: RuleEvaluation
    ) -> None:
        self.core = core
        self.policies = policies
        self.heartbeats = heartbeats
        self.rules = rules

    def tick(self) -> TickReport:
        """Fire everything due now: silence ends, heartbeat deadlines, rule `for`
        durations, auto-resolves and flapping ends. Safe to call as often as you
        like and from one place only (the HTTP process's ticker): each timer is
        decided from recorded state, so it fires once."""
        core = self.core
        with core.lock:
            model = core.caught_up()
            at = core.clock()
            events: list[DomainEvent] = []
            for item in model.due(at):
                match item.kind:
                    case DueKind.SILENCE:
                        events += core.run(
                            SILENCE,
                            silence.stream_for(item.key),
                            silence.ExpireSilence(at, None),
                            cause="ended",
                            actor="ticker",
                        ).events
                    case DueKind.HEARTBEAT:
                        events += self.heartbeats.heartbeat_missed(item.key, at)
                    case DueKind.ALERT:
                        events += core.run(
                            ALERT,
                            alert.stream_for(item.key),
                            alert.CheckTimers(at, core.config.flap_policy),
                            cause=f"timer/{at.isoformat()}",
                            actor="ticker",
                        ).events
                        events += self.policies.sync_group(item.key, at, "ticker")
            events += self.rules.evaluate(at)
            events += self.policies.review_suppressions(at)
            return TickReport(at, tuple(e.event_type() for e in events))
