"""The paging service's public gRPC API (firewatch.oncall.v1.OnCallService).

A thin adapter: each method authenticates (apikit.rpc.guarded), converts the request
into a PagingApplication call and the result into protobuf (both translations live in
`api_messages`). Business rules live in the aggregate modules, loading and appending in
app.py; errors map to status codes through apikit's one table (ADR 0007). This process
is plain threads, never eventlet (stock grpcio hangs under eventlet).

Roles: managing users, schedules, layers and policies is an admin's job; overrides
("I'll take Saturday") and acknowledgements are what responders do at 2 a.m., so those
also accept a responder; every read accepts admin, responder and auditor. The
acknowledging user recorded in the log is the caller's token principal: a token's name
should be the user id it belongs to.

Errors in nested request fields are reported with the request's path
(`layer.time_zone`, `method.address`), so a client can point at what it sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc

from apikit.auth import READERS, WRITERS, Principal, Role, TokenRegistry
from apikit.rpc import (
    guarded,
    known_enum,
    optional_timestamp,
    to_timestamp,
)
from contracts.domain import InvalidCommandError, NotFoundError, required_text
from firewatch.oncall.v1 import oncall_pb2 as pb
from firewatch.oncall.v1 import oncall_pb2_grpc as pb_grpc
from paging_service.api_messages import (
    VIA_FROM_PB,
    contact_method,
    escalation_message,
    instant_field,
    nested,
    outcome_message,
    page_message,
    policy_definition,
    policy_message,
    renamed,
    schedule_message,
    shift_message,
    target_strings,
    team_message,
    time_range,
    time_windows,
    turn_definition,
    user_message,
    uuid_field,
    wall_clock,
)
from paging_service.api_settings import PagingApiSettings
from paging_service.app import CommandResult, PagingApplication

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["OnCallService"].full_name

ADMINS = frozenset({Role.ADMIN})
"""Management: who may change whom the platform wakes up."""

ICAL_CONTENT_TYPE = "text/calendar; charset=utf-8"


class OnCallServicer(pb_grpc.OnCallServiceServicer):
    def __init__(self, app: PagingApplication, tokens: TokenRegistry) -> None:
        self.app = app
        self.tokens = tokens

    # ------------------------------------------------------------------ on call

    @guarded(READERS)
    def WhoIsOnCall(  # noqa: N802 - gRPC method names
        self, request: pb.WhoIsOnCallRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.WhoIsOnCallResponse:
        now = self.app.clock()
        at = optional_timestamp(request, "at")
        users = self.app.who_is_on_call(required_text(request.target, "target"), at)
        # The application reads the configuration as of `at` exactly when `at` is before
        # its clock's now; its now is read a moment after ours, so for a past `at` both
        # agree (an unset `at` means now: today's configuration).
        return pb.WhoIsOnCallResponse(
            target=request.target.strip(),
            at=to_timestamp(at or now),
            users=users,
            configuration_as_of_at=at is not None and at < now,
        )

    @guarded(READERS)
    def ListShifts(  # noqa: N802
        self, request: pb.ListShiftsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListShiftsResponse:
        schedule_id = required_text(request.schedule_id, "schedule_id")
        start, end = time_range(request)
        shifts = self.app.list_shifts(schedule_id, start, end)
        names = self._names({s.user_id for s in shifts})
        return pb.ListShiftsResponse(
            schedule_id=schedule_id,
            shifts=[shift_message(s, names.get(s.user_id, "")) for s in shifts],
        )

    @guarded(READERS)
    def ExportSchedule(  # noqa: N802
        self, request: pb.ExportScheduleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ExportScheduleResponse:
        start, end = time_range(request)
        feed = self.app.export_ical(required_text(request.schedule_id, "schedule_id"), start, end)
        return pb.ExportScheduleResponse(ical=feed.decode("utf-8"), content_type=ICAL_CONTENT_TYPE)

    # ------------------------------------------------------------------ users

    @guarded(ADMINS)
    def RegisterUser(  # noqa: N802
        self, request: pb.RegisterUserRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RegisterUserResponse:
        result = self.app.register_user(
            request.user_id,
            request.name,
            request.time_zone,
            contact_methods=[
                contact_method(m, f"contact_methods.{i}")
                for i, m in enumerate(request.contact_methods)
            ],
            # Empty lists mean "the default" (every method at once; weekdays 09-17), as
            # proto3 cannot tell an empty list from an absent one.
            notification_rules=[
                {"method_id": r.method_id, "after_minutes": r.after_minutes}
                for r in request.notification_rules
            ]
            or None,
            business_hours=time_windows(request.business_hours, "business_hours") or None,
            actor=who.name,
        )
        return pb.RegisterUserResponse(
            outcome=outcome_message(result),
            user=user_message(self.app.get_user(request.user_id.strip())),
        )

    @guarded(ADMINS)
    def AddContactMethod(  # noqa: N802
        self, request: pb.AddContactMethodRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddContactMethodResponse:
        user_id = required_text(request.user_id, "user_id")
        method = contact_method(request.method, "method")
        result = self.app.add_contact_method(
            user_id, method["method_id"], method["kind"], method["address"], actor=who.name
        )
        return pb.AddContactMethodResponse(
            outcome=outcome_message(result), user=user_message(self.app.get_user(user_id))
        )

    @guarded(ADMINS)
    def RemoveContactMethod(  # noqa: N802
        self, request: pb.RemoveContactMethodRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RemoveContactMethodResponse:
        user_id = required_text(request.user_id, "user_id")
        method_id = required_text(request.method_id, "method_id")
        result = self.app.remove_contact_method(user_id, method_id, actor=who.name)
        return pb.RemoveContactMethodResponse(
            outcome=outcome_message(result), user=user_message(self.app.get_user(user_id))
        )

    @guarded(ADMINS)
    def SetBusinessHours(  # noqa: N802
        self, request: pb.SetBusinessHoursRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.SetBusinessHoursResponse:
        user_id = required_text(request.user_id, "user_id")
        windows = time_windows(request.business_hours, "business_hours")
        if not windows:
            raise InvalidCommandError("business_hours", "give at least one window")
        with renamed("windows", "business_hours"):
            result = self.app.set_business_hours(user_id, windows, actor=who.name)
        return pb.SetBusinessHoursResponse(
            outcome=outcome_message(result), user=user_message(self.app.get_user(user_id))
        )

    @guarded(ADMINS)
    def ChangeTimeZone(  # noqa: N802
        self, request: pb.ChangeTimeZoneRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ChangeTimeZoneResponse:
        user_id = required_text(request.user_id, "user_id")
        time_zone = required_text(request.time_zone, "time_zone")
        result = self.app.change_time_zone(user_id, time_zone, actor=who.name)
        return pb.ChangeTimeZoneResponse(
            outcome=outcome_message(result), user=user_message(self.app.get_user(user_id))
        )

    # ------------------------------------------------------------------ teams

    @guarded(ADMINS)
    def CreateTeam(  # noqa: N802
        self, request: pb.CreateTeamRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.CreateTeamResponse:
        outcome, team = self._team(self.app.create_team, request, who)
        return pb.CreateTeamResponse(outcome=outcome, team=team)

    @guarded(ADMINS)
    def ChangeTeam(  # noqa: N802
        self, request: pb.ChangeTeamRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ChangeTeamResponse:
        outcome, team = self._team(self.app.change_team, request, who)
        return pb.ChangeTeamResponse(outcome=outcome, team=team)

    def _team(
        self,
        use_case: Callable[..., CommandResult[Any]],
        request: pb.CreateTeamRequest | pb.ChangeTeamRequest,
        who: Principal,
    ) -> tuple[pb.CommandOutcome, pb.Team]:
        """Create and change take the same whole definition of a team."""
        team_id = required_text(request.team_id, "team_id")
        result = use_case(
            team_id,
            request.name,
            list(request.members),
            schedule_id=request.schedule_id or None,
            actor=who.name,
        )
        return outcome_message(result), team_message(self.app.get_team(team_id))

    # ------------------------------------------------------------------ schedules

    @guarded(ADMINS)
    def CreateSchedule(  # noqa: N802
        self, request: pb.CreateScheduleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.CreateScheduleResponse:
        result = self.app.create_schedule(
            request.schedule_id, request.name, request.time_zone, actor=who.name
        )
        return pb.CreateScheduleResponse(
            outcome=outcome_message(result), schedule=self._schedule(request.schedule_id)
        )

    @guarded(ADMINS)
    def AddLayer(  # noqa: N802
        self, request: pb.AddLayerRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddLayerResponse:
        outcome, schedule = self._layer(self.app.add_layer, request, who)
        return pb.AddLayerResponse(outcome=outcome, schedule=schedule)

    @guarded(ADMINS)
    def ChangeLayer(  # noqa: N802
        self, request: pb.ChangeLayerRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ChangeLayerResponse:
        outcome, schedule = self._layer(self.app.change_layer, request, who)
        return pb.ChangeLayerResponse(outcome=outcome, schedule=schedule)

    def _layer(
        self,
        use_case: Callable[..., CommandResult[Any]],
        request: pb.AddLayerRequest | pb.ChangeLayerRequest,
        who: Principal,
    ) -> tuple[pb.CommandOutcome, pb.Schedule]:
        """Add and change take the same whole definition of a layer."""
        schedule_id = required_text(request.schedule_id, "schedule_id")
        if not request.HasField("layer"):
            raise InvalidCommandError("layer", "is required")
        layer = request.layer
        with nested("layer"):
            turn = turn_definition(layer.turn) if layer.HasField("turn") else None
            restrictions = time_windows(layer.restrictions, "restrictions")
            result = use_case(
                schedule_id,
                layer.layer_id,
                layer.name,
                list(layer.users),
                start=wall_clock(layer.start, "start"),
                turn=turn,
                time_zone=layer.time_zone or None,
                restrictions=restrictions,
                actor=who.name,
            )
        return outcome_message(result), self._schedule(schedule_id)

    @guarded(ADMINS)
    def RemoveLayer(  # noqa: N802
        self, request: pb.RemoveLayerRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RemoveLayerResponse:
        schedule_id = required_text(request.schedule_id, "schedule_id")
        layer_id = required_text(request.layer_id, "layer_id")
        result = self.app.remove_layer(schedule_id, layer_id, actor=who.name)
        return pb.RemoveLayerResponse(
            outcome=outcome_message(result), schedule=self._schedule(schedule_id)
        )

    @guarded(WRITERS)
    def AddOverride(  # noqa: N802
        self, request: pb.AddOverrideRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddOverrideResponse:
        schedule_id = required_text(request.schedule_id, "schedule_id")
        override_id = self.app.add_override(
            schedule_id,
            request.user_id,
            instant_field(request, "start"),
            instant_field(request, "end"),
            override_id=request.override_id or None,
            actor=who.name,
        )
        return pb.AddOverrideResponse(override_id=override_id, schedule=self._schedule(schedule_id))

    @guarded(WRITERS)
    def RemoveOverride(  # noqa: N802
        self, request: pb.RemoveOverrideRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RemoveOverrideResponse:
        schedule_id = required_text(request.schedule_id, "schedule_id")
        result = self.app.remove_override(
            schedule_id, required_text(request.override_id, "override_id"), actor=who.name
        )
        return pb.RemoveOverrideResponse(
            outcome=outcome_message(result), schedule=self._schedule(schedule_id)
        )

    @guarded(READERS)
    def GetSchedule(  # noqa: N802
        self, request: pb.GetScheduleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetScheduleResponse:
        as_of = optional_timestamp(request, "as_of")
        return pb.GetScheduleResponse(
            schedule=self._schedule(required_text(request.schedule_id, "schedule_id"), as_of)
        )

    # ------------------------------------------------------------------ policies

    @guarded(ADMINS)
    def CreatePolicy(  # noqa: N802
        self, request: pb.CreatePolicyRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.CreatePolicyResponse:
        with target_strings():
            result = self.app.create_policy(
                request.policy_id, request.name, actor=who.name, **policy_definition(request)
            )
        return pb.CreatePolicyResponse(
            outcome=outcome_message(result),
            policy=policy_message(self.app.get_policy(request.policy_id)),
        )

    @guarded(ADMINS)
    def RevisePolicy(  # noqa: N802
        self, request: pb.RevisePolicyRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RevisePolicyResponse:
        policy_id = required_text(request.policy_id, "policy_id")
        with target_strings():
            result = self.app.revise_policy(
                policy_id, request.name, actor=who.name, **policy_definition(request)
            )
        return pb.RevisePolicyResponse(
            outcome=outcome_message(result), policy=policy_message(self.app.get_policy(policy_id))
        )

    @guarded(READERS)
    def GetPolicy(  # noqa: N802
        self, request: pb.GetPolicyRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetPolicyResponse:
        as_of = optional_timestamp(request, "as_of")
        policy = self.app.get_policy(required_text(request.policy_id, "policy_id"), as_of=as_of)
        return pb.GetPolicyResponse(policy=policy_message(policy))

    # ------------------------------------------------------------------ pages

    @guarded(WRITERS)
    def Acknowledge(  # noqa: N802
        self, request: pb.AcknowledgeRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AcknowledgeResponse:
        which = request.WhichOneof("subject")
        if which is None:
            raise InvalidCommandError("incident_id", "name the incident_id or the page_id")
        via = known_enum(request.via, VIA_FROM_PB, "via", "acknowledgement channel")
        subject = {which: uuid_field(getattr(request, which), which)}
        # A token bound to a person acts as that person, who must have been paged;
        # an unbound one acts under its own name (docs/adr/0017).
        state = self.app.acknowledge(
            by=who.name, via=via.value, as_person=who.user is not None, **subject
        )
        return pb.AcknowledgeResponse(escalation=escalation_message(state))

    @guarded(READERS)
    def ListPages(  # noqa: N802
        self, request: pb.ListPagesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListPagesResponse:
        incident_id = uuid_field(request.incident_id, "incident_id")
        state = self.app.get_escalation(incident_id)
        pages = self.app.list_pages(incident_id)
        return pb.ListPagesResponse(
            escalation=escalation_message(state), pages=[page_message(p) for p in pages]
        )

    # ------------------------------------------------------------------ helpers

    def _schedule(self, schedule_id: str, as_of: datetime | None = None) -> pb.Schedule:
        return schedule_message(self.app.get_schedule(schedule_id.strip(), as_of=as_of))

    def _names(self, user_ids: set[str]) -> dict[str, str]:
        names = {}
        for user_id in user_ids:
            try:
                names[user_id] = self.app.get_user(user_id).name
            except NotFoundError:
                continue  # a shift's user is always registered; a name is cosmetic anyway
        return names


# ---------------------------------------------------------------------- process


def serve(settings: PagingApiSettings | None = None) -> None:
    """Run the API process until SIGTERM/SIGINT."""
    from apikit.rpc import serve_until_signalled, start_server, tls_files
    from eventlog import open_store
    from eventlog.clock import system_clock

    settings = settings or PagingApiSettings()
    store = open_store(settings.store_url, writer="paging")
    tokens = TokenRegistry(settings.tokens_file)
    # No scheduler here: the paging worker runs tick(); this process only answers calls.
    servicer = OnCallServicer(PagingApplication(store, system_clock), tokens)
    tls = tls_files(settings.paging_api_tls_cert, settings.paging_api_tls_key)
    register: list[Callable[[grpc.Server], None]] = [
        lambda server: pb_grpc.add_OnCallServiceServicer_to_server(  # type: ignore[no-untyped-call]
            servicer, server
        )
    ]
    running = start_server(
        host=settings.paging_api_host,
        port=settings.paging_api_port,
        register=register,
        service_names=[SERVICE_NAME],
        tls=tls,
    )
    serve_until_signalled(
        running,
        f"paging api listening on {settings.paging_api_host}:{running.port} "
        f"({'TLS' if tls else 'plaintext'}), log {settings.store_url}",
    )
    store.close()


def main() -> None:
    from servicekit.process import start as start_process

    start_process("paging-api")  # one log format, metrics on FIREWATCH_METRICS_PORT
    serve()


if __name__ == "__main__":
    main()
