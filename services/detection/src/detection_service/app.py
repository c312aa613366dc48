"""The detection service's application layer: every use case an adapter may call.

Adapters (HTTP ingestion, the gRPC AlertService, tests) hold one
`DetectionApplication`; it wires the parts below and lists their use cases. Each part
owns one thing and runs its commands on the kit (appkit, ADR 0013) through `Core`:

- `ingestion`: integrations and the Alertmanager, PagerDuty and gRPC alert paths;
- `silences` and `heartbeats`: muting alerts, and dead-man's switches;
- `evaluation`: the platform's own rules and the samples pushed to them;
- `checks`: synthetic checks, whose results are samples for those rules (ADR 0021);
- `timers`: `tick()`, everything that happens because time passed;
- `queries`: reads from the caught-up read model;
- `policies` (shared): suppression and alert grouping, which span aggregates.

Time comes from the injected clock only; nothing here knows HTTP, gRPC or nameko.
"""

from __future__ import annotations

from detection_service.checks import Checks
from detection_service.core import MAX_ATTEMPTS, Core, InvalidPayloadError
from detection_service.evaluation import RuleEvaluation
from detection_service.heartbeats import Heartbeats
from detection_service.ingestion import (
    CreatedIntegration,
    Ingestion,
    IngestResult,
    UnknownIntegrationError,
)
from detection_service.policies import Policies
from detection_service.queries import Queries
from detection_service.routing import DetectionConfig
from detection_service.silences import Silences
from detection_service.timers import TickReport, Timers
from eventlog import EventStore
from eventlog.clock import Clock

__all__ = [
    "CreatedIntegration",
    "DetectionApplication",
    "IngestResult",
    "InvalidPayloadError",
    "TickReport",
    "UnknownIntegrationError",
]


class DetectionApplication:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        config: DetectionConfig | None = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.core = Core(store, clock, config or DetectionConfig(), max_attempts=max_attempts)
        self.store, self.clock, self.config = store, clock, self.core.config
        policies = Policies(self.core)
        ingestion = Ingestion(self.core, policies)
        silences = Silences(self.core, policies)
        heartbeats = Heartbeats(self.core, policies)
        rules = RuleEvaluation(self.core, policies)
        timers = Timers(self.core, policies, heartbeats, rules)
        queries = Queries(self.core)
        checks = Checks(self.core, rules)
        self.checks = checks

        # ---- integrations and alerts from outside
        self.create_integration = ingestion.create_integration
        self.revoke_integration = ingestion.revoke_integration
        self.authenticate = ingestion.authenticate
        self.ingest_alertmanager = ingestion.ingest_alertmanager
        self.ingest_pagerduty = ingestion.ingest_pagerduty
        self.send_alert = ingestion.send_alert
        # ---- silences and heartbeats
        self.create_silence = silences.create_silence
        self.expire_silence = silences.expire_silence
        self.create_heartbeat = heartbeats.create_heartbeat
        self.ping_heartbeat = heartbeats.ping_heartbeat
        # ---- rules and samples
        self.define_rule = rules.define_rule
        self.remove_rule = rules.remove_rule
        self.load_rules = rules.load_rules
        self.push_samples = rules.push_samples
        # ---- synthetic checks (run by synthetics.CheckScheduler on the writer)
        self.define_check = checks.define_check
        self.remove_check = checks.remove_check
        self.get_check = checks.get
        self.list_checks = checks.list_checks
        self.run_check = checks.run_once
        self.record_check_result = checks.record
        self.check_results = checks.results
        # ---- time
        self.tick = timers.tick
        # ---- reads
        self.list_alerts = queries.list_alerts
        self.get_alert = queries.get_alert
        self.find_alert = queries.find_alert
        self.list_groups = queries.list_groups
        self.get_group = queries.get_group
        self.group_of = queries.group_of
        self.list_silences = queries.list_silences
        self.list_rules = queries.list_rules
        self.list_heartbeats = queries.list_heartbeats
        self.list_integrations = queries.list_integrations
