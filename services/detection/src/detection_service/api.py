"""The detection service's public gRPC API (firewatch.alert.v1.AlertService).

A thin adapter: each method authenticates (apikit.rpc.guarded), turns the request into
a DetectionApplication call and the result into protobuf (`api_messages`). Deciding,
appending and timers live in the application layer. Plain threads, never eventlet
(stock grpcio hangs under it).

Where it runs (ADR 0008): the HTTP ingestion process serves it on the same
application instance when FIREWATCH_DETECTION_API_ENABLED is set (`start_api`), so
there is one writer and one ticker. `firewatch-detection-api` (`main`) is a
gRPC-only, read-only replica: it never ticks and refuses writes, because samples
pushed to or alerts decided by a second process would race the writer's timers.

Field names in INVALID_ARGUMENT are the request's (`severity`, `labels.<name>`,
`matchers[0].name`, `samples[2].value`, `rule.threshold`; a check's fields as its
definition names them, `steps.0.url`), never the internal
PagerDuty-shaped names the application validates with.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import grpc

from apikit.auth import READERS, WRITERS, Principal, Role, ScopeError, TokenRegistry
from apikit.rpc import (
    RunningServer,
    guarded,
    known_enum,
    optional_timestamp,
    read_timestamp,
    serve_until_signalled,
    start_server,
    tls_files,
)
from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from detection_service import heartbeat as heartbeat_module
from detection_service.alert import Alert
from detection_service.api_messages import (
    ACTIONS,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    MAX_RULES_YAML,
    PD_FIELDS,
    SEVERITY_FROM_PB,
    STATUS_FROM_PB,
    checked_annotations,
    checked_labels,
    from_check_definition,
    from_matcher,
    from_rule,
    page_after,
    page_token,
    rule_problems,
    sort_key,
    span,
    to_alert,
    to_check,
    to_check_history,
    to_check_result,
    to_heartbeat,
    to_rule,
    to_silence,
)
from detection_service.app import DetectionApplication, InvalidPayloadError
from detection_service.config import DetectionSettings
from detection_service.heartbeat import HeartbeatMonitor
from detection_service.integration import Integration, IntegrationKind
from detection_service.rule import RulesFileError, parse_rules
from detection_service.silence import Silence
from eventlog import EventLogError, StreamPermissionError
from firewatch.alert.v1 import alert_pb2 as pb
from firewatch.alert.v1 import alert_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AlertService"].full_name

SENDERS = frozenset({Role.ADMIN, Role.RESPONDER, Role.INTEGRATION})
"""SendAlert, PushSamples, PingHeartbeat: what a monitoring tool's token needs."""

ID_NAMESPACE = uuid.UUID("7d3c8a52-2f0e-5b61-9a4d-6e1b0c9f2a37")
DEFAULT_HISTORY = timedelta(hours=24)
"""ListCheckResults' durable history window when the request leaves it unset."""
"""Fixed forever: derives dedup keys and silence ids from idempotency keys."""


# ---------------------------------------------------------------------- servicer


class AlertServicer(pb_grpc.AlertServiceServicer):
    def __init__(
        self, app: DetectionApplication, tokens: TokenRegistry, *, writable: bool = True
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.writable = writable

    def _write(self) -> None:
        if not self.writable:
            raise PreconditionFailedError(
                "this detection API is a read-only replica; send writes to the detection "
                "writer process (firewatch-detection-http with FIREWATCH_DETECTION_API_ENABLED)"
            )

    # ------------------------------------------------------------------ alerts

    @guarded(SENDERS)
    def SendAlert(  # noqa: N802 - gRPC method names
        self, request: pb.SendAlertRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.SendAlertResponse:
        action = known_enum(
            request.action, ACTIONS, "action", "action (trigger, acknowledge, resolve)"
        )
        trigger = action == "trigger"
        severity = (
            known_enum(request.severity, SEVERITY_FROM_PB, "severity", "severity").value
            if trigger
            else "error"
        )
        if action == "acknowledge" and who.user is not None:
            # The ack rule (ADR 0017) is checked where pages are: a person acknowledges
            # through the on-call API, which records them and checks they were paged.
            raise ScopeError(
                f"action: token {who.credential!r} acts as {who.user}, and a person "
                "acknowledges a page with `incidentctl page ack INC-N` (OnCallService "
                "Acknowledge, which checks they were paged), not by acknowledging the "
                "source alert; only unbound tokens (the sending tool) acknowledge here"
            )
        labels = checked_labels(request.labels, "labels")
        annotations = checked_annotations(request.annotations)
        started_at = optional_timestamp(request, "started_at")
        source = self._source(request.integration, who)
        self._write()
        dedup_key = request.dedup_key or None
        if dedup_key is None and trigger and request.idempotency_key:
            # PagerDuty makes a key up for a trigger without one; deriving it from the
            # idempotency key makes the retry of a lost answer hit the same alert.
            dedup_key = uuid.uuid5(
                ID_NAMESPACE, f"dedup/{source.integration_id}/{request.idempotency_key}"
            ).hex
        try:
            result = self.app.send_alert(
                source,
                action=action,
                dedup_key=dedup_key,
                summary=request.summary,
                severity=severity,
                origin=request.origin or "api",
                labels=labels,
                annotations=annotations,
                started_at=started_at,
            )
        except InvalidPayloadError as error:
            raise InvalidCommandError(
                PD_FIELDS.get(error.field, error.field), error.problem
            ) from None
        try:
            state: Alert | None = self.app.get_alert(result.alert_id)
        except NotFoundError:
            state = None  # acknowledging or resolving a key never triggered: PD says OK
        return pb.SendAlertResponse(
            dedup_key=result.dedup_key,
            alert_id=result.alert_id,
            event_types=list(result.event_types),
            alert=to_alert(state, self.app.group_of(state.alert_id)) if state else None,
        )

    @guarded(READERS)
    def GetAlert(  # noqa: N802
        self, request: pb.GetAlertRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetAlertResponse:
        if request.alert_id:
            state = self.app.get_alert(request.alert_id)
        elif request.dedup_key:
            integration_id = request.integration or _token_integration(who, self.app).integration_id
            state = self.app.find_alert(integration_id, request.dedup_key)
        else:
            raise InvalidCommandError("alert_id", "is required (or dedup_key)")
        return pb.GetAlertResponse(alert=to_alert(state, self.app.group_of(state.alert_id)))

    @guarded(READERS)
    def ListAlerts(  # noqa: N802
        self, request: pb.ListAlertsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListAlertsResponse:
        statuses = {known_enum(s, STATUS_FROM_PB, "statuses", "status") for s in request.statuses}
        severities = {
            known_enum(s, SEVERITY_FROM_PB, "severities", "severity") for s in request.severities
        }
        wanted = dict(request.labels)
        if not 0 <= request.page_size <= MAX_PAGE_SIZE:
            raise InvalidCommandError("page_size", f"must be 1..{MAX_PAGE_SIZE} (0 means 50)")
        size = request.page_size or DEFAULT_PAGE_SIZE
        after = page_after(request.page_token)
        found = [
            a
            for a in self.app.list_alerts()
            if (not statuses or a.status in statuses)
            and (not severities or a.severity in severities)
            and (not request.integration or a.integration == request.integration)
            and all(a.labels.get(k) == v for k, v in wanted.items())
            and (not request.paging_only or a.pages)
            and (after is None or sort_key(a) < after)
        ]
        found.sort(key=sort_key, reverse=True)  # newest first
        page = found[:size]
        token = page_token(sort_key(page[-1])) if len(found) > size else ""
        return pb.ListAlertsResponse(
            alerts=[to_alert(a, self.app.group_of(a.alert_id)) for a in page],
            next_page_token=token,
        )

    # ------------------------------------------------------------------ silences

    @guarded(WRITERS)
    def CreateSilence(  # noqa: N802
        self, request: pb.CreateSilenceRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.CreateSilenceResponse:
        matchers = [from_matcher(m, f"matchers[{i}]") for i, m in enumerate(request.matchers)]
        now = self.app.clock()
        starts_at = optional_timestamp(request, "starts_at")
        has_end, has_duration = request.HasField("ends_at"), request.HasField("duration")
        if has_end and has_duration:
            raise InvalidCommandError("duration", "give ends_at or duration, not both")
        if has_end:
            ends_at = read_timestamp(request.ends_at, "ends_at")
        elif has_duration:
            duration = span(request.duration, "duration")
            try:
                ends_at = (starts_at or now) + duration
            except OverflowError:
                raise InvalidCommandError("duration", "is too long") from None
        else:
            raise InvalidCommandError("ends_at", "is required (or duration)")
        self._write()
        silence_id = (
            str(uuid.uuid5(ID_NAMESPACE, f"silence/{who.name}/{request.idempotency_key}"))
            if request.idempotency_key
            else None
        )
        try:
            created = self.app.create_silence(
                matchers,
                ends_at=ends_at,
                created_by=who.name,
                comment=request.comment,
                starts_at=starts_at,
                silence_id=silence_id,
            )
        except PreconditionFailedError:
            # The id exists only if this key created it before: a retry.
            existing = self._silence(silence_id) if silence_id else None
            if existing is None:
                raise
            return pb.CreateSilenceResponse(silence=to_silence(existing, now), replayed=True)
        return pb.CreateSilenceResponse(silence=to_silence(created, self.app.clock()))

    @guarded(READERS)
    def ListSilences(  # noqa: N802
        self, request: pb.ListSilencesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListSilencesResponse:
        now = self.app.clock()
        return pb.ListSilencesResponse(
            silences=[
                to_silence(s, now) for s in self.app.list_silences(active_only=request.active_only)
            ]
        )

    @guarded(WRITERS)
    def ExpireSilence(  # noqa: N802
        self, request: pb.ExpireSilenceRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ExpireSilenceResponse:
        if not request.silence_id:
            raise InvalidCommandError("silence_id", "is required")
        self._write()
        events = self.app.expire_silence(request.silence_id, expired_by=who.name)
        state = self._silence(request.silence_id)
        assert state is not None  # expire_silence raised NotFoundError otherwise
        return pb.ExpireSilenceResponse(
            silence=to_silence(state, self.app.clock()), event_types=events
        )

    def _silence(self, silence_id: str) -> Silence | None:
        return next((s for s in self.app.list_silences() if s.silence_id == silence_id), None)

    # ------------------------------------------------------------------ rules

    @guarded(WRITERS)
    def DefineRule(  # noqa: N802
        self, request: pb.DefineRuleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.DefineRuleResponse:
        if not request.HasField("rule"):
            raise InvalidCommandError("rule", "is required")
        spec = from_rule(request.rule)
        self._write()
        changed = self.app.define_rule(spec, defined_by=who.name)
        return pb.DefineRuleResponse(rule=to_rule(spec), changed=changed)

    @guarded(WRITERS)
    def RemoveRule(  # noqa: N802
        self, request: pb.RemoveRuleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RemoveRuleResponse:
        if not request.name:
            raise InvalidCommandError("name", "is required")
        self._write()
        try:
            self.app.remove_rule(request.name, removed_by=who.name)
        except NotFoundError:
            raise NotFoundError(f"no rule named {request.name!r}") from None
        return pb.RemoveRuleResponse()

    @guarded(READERS)
    def ListRules(  # noqa: N802
        self, request: pb.ListRulesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListRulesResponse:
        return pb.ListRulesResponse(rules=[to_rule(spec) for spec in self.app.list_rules()])

    @guarded(READERS)
    def ValidateRules(  # noqa: N802
        self, request: pb.ValidateRulesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ValidateRulesResponse:
        if len(request.yaml) > MAX_RULES_YAML:
            raise InvalidCommandError("yaml", f"is longer than {MAX_RULES_YAML} characters")
        try:
            specs = parse_rules(request.yaml, request.source or "<rules>")
        except RulesFileError as error:
            return pb.ValidateRulesResponse(valid=False, problems=rule_problems(error))
        return pb.ValidateRulesResponse(valid=True, rules=[to_rule(spec) for spec in specs])

    # ------------------------------------------------------------------ heartbeats

    @guarded(WRITERS)
    def CreateHeartbeat(  # noqa: N802
        self, request: pb.CreateHeartbeatRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.CreateHeartbeatResponse:
        if not request.HasField("interval"):
            raise InvalidCommandError("interval", "is required (at least 1 second)")
        interval = span(request.interval, "interval")
        grace = span(request.grace, "grace") if request.HasField("grace") else timedelta(0)
        labels = checked_labels(request.labels, "labels")
        self._write()
        try:
            state = self.app.create_heartbeat(
                request.name, interval=interval, grace=grace, labels=labels, created_by=who.name
            )
        except PreconditionFailedError:
            # Creating the same monitor again is a retry, not a conflict: the name is
            # the natural idempotency key. A different definition is refused.
            existing = self._heartbeat(request.name)
            if existing is None or (existing.interval, existing.grace, existing.labels) != (
                interval,
                grace,
                labels,
            ):
                raise
            return pb.CreateHeartbeatResponse(heartbeat=to_heartbeat(existing), created=False)
        return pb.CreateHeartbeatResponse(heartbeat=to_heartbeat(state), created=True)

    @guarded(READERS)
    def ListHeartbeats(  # noqa: N802
        self, request: pb.ListHeartbeatsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListHeartbeatsResponse:
        return pb.ListHeartbeatsResponse(
            heartbeats=[to_heartbeat(h) for h in self.app.list_heartbeats()]
        )

    @guarded(SENDERS)
    def PingHeartbeat(  # noqa: N802
        self, request: pb.PingHeartbeatRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.PingHeartbeatResponse:
        if not heartbeat_module.NAME.match(request.name):
            raise InvalidCommandError(
                "name", "must be 1-63 of a-z, 0-9, '.', '_', '-', starting alphanumeric"
            )
        self._write()
        events = self.app.ping_heartbeat(request.name)
        state = self._heartbeat(request.name)
        assert state is not None  # ping_heartbeat raised NotFoundError otherwise
        return pb.PingHeartbeatResponse(heartbeat=to_heartbeat(state), event_types=events)

    def _heartbeat(self, name: str) -> HeartbeatMonitor | None:
        return next((h for h in self.app.list_heartbeats() if h.name == name), None)

    # ------------------------------------------------------------------ samples

    @guarded(SENDERS)
    def PushSamples(  # noqa: N802
        self, request: pb.PushSamplesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.PushSamplesResponse:
        samples: list[dict[str, Any]] = []
        for index, sample in enumerate(request.samples):
            item: dict[str, Any] = {
                "name": sample.name,
                "labels": dict(sample.labels),
                "value": sample.value,
            }
            if sample.HasField("timestamp"):
                when = read_timestamp(sample.timestamp, f"samples[{index}].timestamp")
                item["timestamp"] = when.isoformat()
            samples.append(item)
        self._write()
        return pb.PushSamplesResponse(accepted=self.app.push_samples(samples))

    # ------------------------------------------------------------------ synthetic checks

    @guarded(WRITERS)
    def DefineCheck(  # noqa: N802
        self, request: pb.DefineCheckRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.DefineCheckResponse:
        raw = from_check_definition(request.definition)
        self._write()
        spec, changed = self.app.define_check(raw, defined_by=who.name)
        return pb.DefineCheckResponse(check=self._check(spec.name), changed=changed)

    @guarded(WRITERS)
    def RemoveCheck(  # noqa: N802
        self, request: pb.RemoveCheckRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RemoveCheckResponse:
        if not request.name:
            raise InvalidCommandError("name", "is required")
        self._write()
        self.app.remove_check(request.name, removed_by=who.name)
        return pb.RemoveCheckResponse()

    @guarded(READERS)
    def ListChecks(  # noqa: N802
        self, request: pb.ListChecksRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListChecksResponse:
        return pb.ListChecksResponse(
            checks=[to_check(view.state, view.last) for view in self.app.list_checks()]
        )

    @guarded(WRITERS)
    def RunCheck(  # noqa: N802
        self, request: pb.RunCheckRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RunCheckResponse:
        if not request.name:
            raise InvalidCommandError("name", "is required")
        # A replica may probe (it is a read) but must not record: results are samples
        # for the writer's rules, and a second recorder would race its outcome events.
        result = self.app.run_check(request.name, record=self.writable)
        return pb.RunCheckResponse(result=to_check_result(result), recorded=self.writable)

    @guarded(READERS)
    def ListCheckResults(  # noqa: N802
        self, request: pb.ListCheckResultsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListCheckResultsResponse:
        if request.limit < 0:
            raise InvalidCommandError("limit", "must be 0 (the default, 100) or more")
        history = (
            span(request.history, "history") if request.HasField("history") else DEFAULT_HISTORY
        )
        results = self.app.check_results(request.name, request.limit or 100)
        # The durable series from the log (ADR 0026): a restart empties `results`, not this.
        intervals, summaries = to_check_history(
            self.app.checks.history(request.name), self.app.clock() - history
        )
        return pb.ListCheckResultsResponse(
            check=self._check(request.name),
            results=[to_check_result(r) for r in results],
            intervals=intervals,
            summaries=summaries,
        )

    def _check(self, name: str) -> pb.Check:
        state = self.app.get_check(name)
        return to_check(state, self.app.checks.latest(name))

    # ------------------------------------------------------------------ identity

    def _source(self, name: str, who: Principal) -> Integration:
        """Whose dedup-key namespace the alert lives in (see SendAlertRequest.integration)."""
        if not name:
            if who.integrations:
                # Sending as the token itself would step outside its integrations scope.
                raise ScopeError(
                    f"integration: is required: token {who.credential!r} is scoped to the "
                    f"integrations {', '.join(sorted(who.integrations))} and may send only "
                    "as one of them, not as itself"
                )
            return _token_integration(who, self.app)
        if who.integrations:
            # A token scoped to integrations may send as those and no other.
            if not who.may_use_integration(name):
                raise ForeignIntegrationError(
                    f"token {who.credential!r} is scoped to the integrations "
                    f"{', '.join(sorted(who.integrations))}, not {name[:64]!r}"
                )
        elif who.role is Role.INTEGRATION and name != who.credential:
            # An integration token must not resolve or acknowledge another tool's alerts.
            raise ForeignIntegrationError(
                f"{who.credential} has role integration and may send only as its own "
                f"integration, not as {name[:64]!r}"
            )
        found = next((i for i in self.app.list_integrations() if i.name == name), None)
        if found is None:
            raise NotFoundError(f"no integration named {name!r}")
        if not found.active:
            raise PreconditionFailedError(f"integration {name!r} was revoked")
        return found


class ForeignIntegrationError(StreamPermissionError):
    """An integration token naming another integration. Subclasses the log's permission
    error only because that is what apikit.rpc.abort_for maps to PERMISSION_DENIED
    (context.abort inside a guarded method would surface as INTERNAL)."""

    def __init__(self, message: str) -> None:
        EventLogError.__init__(self, message)  # not the log's "writer may not" wording


def _token_integration(who: Principal, app: DetectionApplication) -> Integration:
    # The same identity the HTTP endpoints give an API token, so an alert sent by
    # one path can be resolved by the other.
    # The token's own name, never a bound person's: it names the sending tool.
    return Integration(
        integration_id=f"token.{who.credential}"[:63],
        name=who.credential,
        kind=IntegrationKind.API,
        created_at=app.clock(),
    )


# ---------------------------------------------------------------------- processes


def start_api(
    app: DetectionApplication,
    tokens: TokenRegistry,
    settings: DetectionSettings,
    *,
    writable: bool = True,
) -> RunningServer:
    """Serve AlertService (plus health and reflection) on `app`; returns once listening."""
    servicer = AlertServicer(app, tokens, writable=writable)
    register: list[Callable[[grpc.Server], None]] = [
        lambda server: pb_grpc.add_AlertServiceServicer_to_server(  # type: ignore[no-untyped-call]
            servicer, server
        )
    ]
    return start_server(
        host=settings.detection_api_host,
        port=settings.detection_api_port,
        register=register,
        service_names=[SERVICE_NAME],
        tls=tls_files(settings.detection_api_tls_cert, settings.detection_api_tls_key),
    )


def serve(settings: DetectionSettings | None = None) -> None:
    """The read-only replica process, until SIGTERM/SIGINT: no ticker, writes refused."""
    from detection_service.routing import DetectionConfig, load_config
    from eventlog import open_store
    from eventlog.clock import system_clock

    settings = settings or DetectionSettings()
    tokens = (
        TokenRegistry(settings.tokens_file) if settings.tokens_file else TokenRegistry.from_env()
    )
    config = (
        load_config(settings.detection_config) if settings.detection_config else DetectionConfig()
    )
    # No writer name: this process must not append (rules files are the writer's job).
    store = open_store(settings.store_url)
    app = DetectionApplication(store, system_clock, config)
    running = start_api(app, tokens, settings, writable=False)
    tls = tls_files(settings.detection_api_tls_cert, settings.detection_api_tls_key)
    serve_until_signalled(
        running,
        f"detection api (read-only replica) listening on {settings.detection_api_host}:"
        f"{running.port} ({'TLS' if tls else 'plaintext'}), log {settings.store_url}",
    )
    store.close()


def main() -> None:
    from servicekit.process import start as start_process

    start_process("detection-api")  # one log format, metrics on FIREWATCH_METRICS_PORT
    serve()


if __name__ == "__main__":
    main()
