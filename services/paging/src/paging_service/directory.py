"""The on-call directory: users, teams, schedules and escalation policies, and who is
on call for any of them at any instant.

Owns the directory's use cases (each a few lines over the kit's command runner, ADR
0013) and the cross-aggregate checks they need before anything is appended (an unknown
user, schedule or team is an `InvalidCommandError` naming the field). It also answers
the escalation runtime's two questions: whom a target means at an instant (`resolve`)
and when a low-urgency step may page someone in their business hours
(`business_open`). It never pages anyone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from appkit import CommandResult, CommandRunner
from contracts.domain import InvalidCommandError, NotFoundError
from eventlog import EventStore
from eventlog.clock import Clock
from paging_service import policy as pol
from paging_service import schedule as sch
from paging_service import team as tm
from paging_service import user as usr
from paging_service.aggregates import POLICY, SCHEDULE, TEAM, USER
from paging_service.common import build
from paging_service.ical import export_ical as render_ical
from paging_service.policy import Target, TargetKind

SHIFT_HORIZON = timedelta(days=8)
"""How far ahead a low-urgency step looks for someone's business hours."""


class Directory:
    def __init__(self, runner: CommandRunner, store: EventStore, clock: Clock) -> None:
        self.runner = runner
        self.store = store
        self.clock = clock

    # ------------------------------------------------------------------ users

    def register_user(
        self,
        user_id: str,
        name: str,
        time_zone: str,
        *,
        contact_methods: Sequence[Mapping[str, Any] | usr.ContactMethod] = (),
        notification_rules: Sequence[Mapping[str, Any] | usr.NotificationRule] | None = None,
        business_hours: Sequence[Mapping[str, Any]] | None = None,
        actor: str = "system",
    ) -> CommandResult[usr.User]:
        command = build(
            usr.RegisterUser,
            at=self.clock(),
            user_id=user_id,
            name=name,
            time_zone=time_zone,
            contact_methods=tuple(contact_methods),
            notification_rules=None if notification_rules is None else tuple(notification_rules),
            business_hours=None if business_hours is None else tuple(business_hours),
        )
        return self._user(command.user_id, command, actor, create=True)

    def change_time_zone(
        self, user_id: str, time_zone: str, *, actor: str = "system"
    ) -> CommandResult[usr.User]:
        return self._user(
            user_id, build(usr.ChangeTimeZone, at=self.clock(), time_zone=time_zone), actor
        )

    def add_contact_method(
        self, user_id: str, method_id: str, kind: str, address: str, *, actor: str = "system"
    ) -> CommandResult[usr.User]:
        method = {"method_id": method_id, "kind": kind, "address": address}
        return self._user(
            user_id, build(usr.AddContactMethod, at=self.clock(), method=method), actor
        )

    def remove_contact_method(
        self, user_id: str, method_id: str, *, actor: str = "system"
    ) -> CommandResult[usr.User]:
        command = build(usr.RemoveContactMethod, at=self.clock(), method_id=method_id)
        return self._user(user_id, command, actor)

    def set_notification_rules(
        self,
        user_id: str,
        rules: Sequence[Mapping[str, Any] | usr.NotificationRule],
        *,
        actor: str = "system",
    ) -> CommandResult[usr.User]:
        command = build(usr.SetNotificationRules, at=self.clock(), rules=tuple(rules))
        return self._user(user_id, command, actor)

    def set_business_hours(
        self, user_id: str, windows: Sequence[Mapping[str, Any]], *, actor: str = "system"
    ) -> CommandResult[usr.User]:
        command = build(usr.SetBusinessHours, at=self.clock(), windows=tuple(windows))
        return self._user(user_id, command, actor)

    def get_user(self, user_id: str, *, as_of: datetime | None = None) -> usr.User:
        state = self.runner.read(USER, usr.stream_for(user_id), until=as_of).state
        if not state.registered:
            raise NotFoundError(f"user {user_id!r} does not exist")
        return state

    def _user(
        self, user_id: str, command: usr.UserCommand, actor: str, *, create: bool = False
    ) -> CommandResult[usr.User]:
        return self.runner.execute(
            USER,
            usr.stream_for(directory_id(user_id, "user_id")),
            command,
            actor=actor,
            not_found=None if create else f"user {user_id!r} does not exist",
        )

    # ------------------------------------------------------------------ teams

    def create_team(
        self,
        team_id: str,
        name: str,
        members: Sequence[str],
        *,
        schedule_id: str | None = None,
        actor: str = "system",
    ) -> CommandResult[tm.Team]:
        command = build(
            tm.CreateTeam,
            at=self.clock(),
            team_id=team_id,
            name=name,
            members=tuple(members),
            schedule_id=schedule_id,
        )
        return self._team(command, actor)

    def change_team(
        self,
        team_id: str,
        name: str,
        members: Sequence[str],
        *,
        schedule_id: str | None = None,
        actor: str = "system",
    ) -> CommandResult[tm.Team]:
        command = build(
            tm.ChangeTeam,
            at=self.clock(),
            name=name,
            members=tuple(members),
            schedule_id=schedule_id,
        )
        return self._team(command, actor, team_id=team_id)

    def _team(
        self,
        command: tm.CreateTeam | tm.ChangeTeam,
        actor: str,
        *,
        team_id: str | None = None,
    ) -> CommandResult[tm.Team]:
        """Create (the id is in the command) or change `team_id`; members and the
        schedule must exist."""
        self._require_users("members", command.members)
        if command.schedule_id is not None:
            self._require("schedule_id", TargetKind.SCHEDULE, command.schedule_id)
        if isinstance(command, tm.CreateTeam):
            return self.runner.execute(TEAM, tm.stream_for(command.team_id), command, actor=actor)
        assert team_id is not None
        return self.runner.execute(
            TEAM,
            tm.stream_for(directory_id(team_id, "team_id")),
            command,
            actor=actor,
            not_found=f"team {team_id!r} does not exist",
        )

    def get_team(self, team_id: str, *, as_of: datetime | None = None) -> tm.Team:
        state = self.runner.read(TEAM, tm.stream_for(team_id), until=as_of).state
        if not state.created:
            raise NotFoundError(f"team {team_id!r} does not exist")
        return state

    # ------------------------------------------------------------------ schedules

    def create_schedule(
        self, schedule_id: str, name: str, time_zone: str, *, actor: str = "system"
    ) -> CommandResult[sch.Schedule]:
        command = build(
            sch.CreateSchedule,
            at=self.clock(),
            schedule_id=schedule_id,
            name=name,
            time_zone=time_zone,
        )
        return self._schedule(command.schedule_id, command, actor, create=True)

    def add_layer(
        self,
        schedule_id: str,
        layer_id: str,
        name: str,
        users: Sequence[str],
        *,
        start: datetime,
        turn: Mapping[str, Any] | sch.Turn | None = None,
        time_zone: str | None = None,
        restrictions: Sequence[Mapping[str, Any]] = (),
        actor: str = "system",
    ) -> CommandResult[sch.Schedule]:
        """Add a rotation on top of the schedule's layers. `start` is the first handoff:
        a naive wall-clock time in the layer's zone, or an aware instant."""
        command = build(
            sch.AddLayer,
            at=self.clock(),
            **_layer_fields(layer_id, name, users, start, turn, time_zone, restrictions),
        )
        self._require_users("users", command.users)
        return self._schedule(schedule_id, command, actor)

    def change_layer(
        self,
        schedule_id: str,
        layer_id: str,
        name: str,
        users: Sequence[str],
        *,
        start: datetime,
        turn: Mapping[str, Any] | sch.Turn | None = None,
        time_zone: str | None = None,
        restrictions: Sequence[Mapping[str, Any]] = (),
        actor: str = "system",
    ) -> CommandResult[sch.Schedule]:
        command = build(
            sch.ChangeLayer,
            at=self.clock(),
            **_layer_fields(layer_id, name, users, start, turn, time_zone, restrictions),
        )
        self._require_users("users", command.users)
        return self._schedule(schedule_id, command, actor)

    def remove_layer(
        self, schedule_id: str, layer_id: str, *, actor: str = "system"
    ) -> CommandResult[sch.Schedule]:
        command = build(sch.RemoveLayer, at=self.clock(), layer_id=layer_id)
        return self._schedule(schedule_id, command, actor)

    def add_override(
        self,
        schedule_id: str,
        user_id: str,
        start: datetime,
        end: datetime,
        *,
        override_id: str | None = None,
        actor: str = "system",
    ) -> str:
        """Put `user_id` on call from `start` to `end`; returns the override's id."""
        command = build(
            sch.AddOverride,
            at=self.clock(),
            override_id=override_id or f"o-{uuid.uuid4().hex[:12]}",
            user_id=user_id,
            start=start,
            end=end,
        )
        self._require_users("user_id", [command.user_id], single=True)
        self._schedule(schedule_id, command, actor)
        return command.override_id

    def remove_override(
        self, schedule_id: str, override_id: str, *, actor: str = "system"
    ) -> CommandResult[sch.Schedule]:
        command = build(sch.RemoveOverride, at=self.clock(), override_id=override_id)
        return self._schedule(schedule_id, command, actor)

    def get_schedule(self, schedule_id: str, *, as_of: datetime | None = None) -> sch.Schedule:
        state = self.runner.read(
            SCHEDULE, sch.stream_for(directory_id(schedule_id, "schedule")), until=as_of
        ).state
        if not state.created:
            when = "" if as_of is None else f" at {as_of.isoformat()}"
            raise NotFoundError(f"schedule {schedule_id!r} did not exist{when}")
        return state

    def list_shifts(self, schedule_id: str, start: datetime, end: datetime) -> list[sch.Shift]:
        """The final shifts over [start, end), under today's configuration."""
        _check_range(start, end)
        return sch.shifts(self.get_schedule(schedule_id), start, end)

    def export_ical(self, schedule_id: str, start: datetime, end: datetime) -> bytes:
        """An RFC 5545 feed of the schedule's shifts over [start, end)."""
        _check_range(start, end)
        state = self.get_schedule(schedule_id)
        shifts = sch.shifts(state, start, end)
        names = {}
        for user_id in {s.user_id for s in shifts}:
            found = self.runner.read(USER, usr.stream_for(user_id)).state
            if found.registered:
                names[user_id] = found.name
        return render_ical(state, shifts, generated_at=self.clock(), user_names=names)

    def who_is_on_call(self, target: str | Target, at: datetime | None = None) -> list[str]:
        """Who is on call for a schedule, team or user at instant `at` (now by default).

        A past instant is answered with the configuration as it stood then (every
        stream involved is read as of `at`, so an override deleted later still counts);
        now or a future instant with today's configuration."""
        now = self.clock()
        at = at or now
        if at.tzinfo is None:
            raise InvalidCommandError("at", "must be a timezone-aware timestamp")
        parsed = _target(target)
        return self.resolve(parsed, at, as_of=at if at < now else None)

    def _schedule(
        self, schedule_id: str, command: sch.ScheduleCommand, actor: str, *, create: bool = False
    ) -> CommandResult[sch.Schedule]:
        return self.runner.execute(
            SCHEDULE,
            sch.stream_for(directory_id(schedule_id, "schedule_id")),
            command,
            actor=actor,
            not_found=None if create else f"schedule {schedule_id!r} does not exist",
        )

    # ------------------------------------------------------------------ policies

    def create_policy(
        self,
        policy_id: str,
        name: str,
        levels: Sequence[Mapping[str, Any] | pol.Level],
        *,
        repeat: int = 0,
        un_ack_timeout_minutes: int | None = None,
        actor: str = "system",
    ) -> CommandResult[pol.Policy]:
        """Levels look like ``{"targets": ["user:alice", "schedule:primary"],
        "delay_minutes": 5}`` (targets may also be ``{"kind": ..., "id": ...}``)."""
        command = build(
            pol.CreatePolicy,
            at=self.clock(),
            policy_id=policy_id,
            name=name,
            levels=_levels(levels),
            repeat=repeat,
            un_ack_timeout_minutes=un_ack_timeout_minutes,
        )
        return self._policy(command, actor)

    def revise_policy(
        self,
        policy_id: str,
        name: str,
        levels: Sequence[Mapping[str, Any] | pol.Level],
        *,
        repeat: int = 0,
        un_ack_timeout_minutes: int | None = None,
        actor: str = "system",
    ) -> CommandResult[pol.Policy]:
        """Replace the definition. Running escalations keep the one they started with."""
        command = build(
            pol.RevisePolicy,
            at=self.clock(),
            name=name,
            levels=_levels(levels),
            repeat=repeat,
            un_ack_timeout_minutes=un_ack_timeout_minutes,
        )
        return self._policy(command, actor, policy_id=policy_id)

    def _policy(
        self,
        command: pol.CreatePolicy | pol.RevisePolicy,
        actor: str,
        *,
        policy_id: str | None = None,
    ) -> CommandResult[pol.Policy]:
        """Create (the id is in the command) or revise `policy_id`; every target must
        exist."""
        self._require_targets(command.levels)
        if isinstance(command, pol.CreatePolicy):
            stream = pol.stream_for(command.policy_id)
            return self.runner.execute(POLICY, stream, command, actor=actor)
        assert policy_id is not None
        return self.runner.execute(
            POLICY,
            pol.stream_for(directory_id(policy_id, "policy_id")),
            command,
            actor=actor,
            not_found=f"policy {policy_id!r} does not exist",
        )

    def get_policy(self, policy_id: str, *, as_of: datetime | None = None) -> pol.Policy:
        state = self.runner.read(
            POLICY, pol.stream_for(directory_id(policy_id, "policy")), until=as_of
        ).state
        if not state.created:
            raise NotFoundError(f"policy {policy_id!r} does not exist")
        return state

    # ------------------------------------------------------------------ resolution

    def resolve(self, target: Target, at: datetime, *, as_of: datetime | None) -> list[str]:
        """The users a target means at `at`, with the configuration as of `as_of`
        (None: today's)."""
        match target.kind:
            case TargetKind.USER:
                self.get_user(target.id, as_of=as_of)
                return [target.id]
            case TargetKind.SCHEDULE:
                return sch.who_is_on_call(self.get_schedule(target.id, as_of=as_of), at)
            case TargetKind.TEAM:
                team = self.get_team(target.id, as_of=as_of)
                if team.schedule_id is not None:
                    return sch.who_is_on_call(self.get_schedule(team.schedule_id, as_of=as_of), at)
                return list(team.members)
        raise AssertionError(target)  # pragma: no cover

    def business_open(self, targets: Iterable[Target], at: datetime) -> datetime | None:
        """The first instant >= at when someone a step targets is on call *and* inside
        their business hours (schedule restrictions included), or None if unknown."""
        candidates: list[datetime] = []
        for target in targets:
            if target.kind is TargetKind.USER:
                found = self._user_open(target.id, at, None)
                candidates += [found] if found else []
                continue
            schedule_id: str | None = target.id
            members: tuple[str, ...] = ()
            if target.kind is TargetKind.TEAM:
                team = self.get_team(target.id)
                schedule_id, members = team.schedule_id, team.members
            if schedule_id is None:
                candidates += [t for m in members if (t := self._user_open(m, at, None))]
                continue
            for shift in sch.shifts(self.get_schedule(schedule_id), at, at + SHIFT_HORIZON):
                found = self._user_open(shift.user_id, shift.start, shift.end)
                if found is not None:
                    candidates.append(found)
                    break
        return min(candidates) if candidates else None

    def _user_open(self, user_id: str, start: datetime, end: datetime | None) -> datetime | None:
        user = self.runner.read(USER, usr.stream_for(user_id)).state
        if not user.registered:
            return None
        found = user.next_business_start(start)
        return found if found is not None and (end is None or found < end) else None

    def _require(self, field: str, kind: TargetKind, ident: str) -> None:
        stream = {
            TargetKind.USER: usr.stream_for,
            TargetKind.SCHEDULE: sch.stream_for,
            TargetKind.TEAM: tm.stream_for,
        }[kind](ident)
        if self.store.current_version(stream) is None:
            raise InvalidCommandError(field, f"unknown {kind.value} {ident!r}")

    def _require_users(self, field: str, user_ids: Iterable[str], *, single: bool = False) -> None:
        for index, user_id in enumerate(user_ids):
            self._require(field if single else f"{field}.{index}", TargetKind.USER, user_id)

    def _require_targets(self, levels: Sequence[pol.Level]) -> None:
        for li, level in enumerate(levels):
            for ti, target in enumerate(level.targets):
                self._require(f"levels.{li}.targets.{ti}", target.kind, target.id)


# ---------------------------------------------------------------------- helpers


def directory_id(value: str, field: str) -> str:
    """A user, team, schedule or policy id as a caller gave it, or the field's error."""
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not text or len(text) > 63 or text != text.lower():
        raise InvalidCommandError(field, f"{value!r} is not a valid id")
    if not all(c.isalnum() or c in "._-" for c in text):
        raise InvalidCommandError(field, f"{value!r} is not a valid id")
    return text


def _target(target: str | Target) -> Target:
    if isinstance(target, Target):
        return target
    try:
        return Target.parse(target)
    except ValueError as error:
        raise InvalidCommandError("target", str(error).splitlines()[0]) from None


def _levels(levels: Sequence[Mapping[str, Any] | pol.Level]) -> tuple[Any, ...]:
    # Accept the compact "kind:id" spelling for targets; pydantic validates the rest.
    out: list[Any] = []
    for level in levels:
        if isinstance(level, Mapping) and isinstance(level.get("targets"), list | tuple):
            targets = [_split_target(t) if isinstance(t, str) else t for t in level["targets"]]
            out.append({**level, "targets": targets})
        else:
            out.append(level)
    return tuple(out)


def _split_target(text: str) -> dict[str, str]:
    kind, _, ident = text.partition(":")
    return {"kind": kind.strip(), "id": ident.strip()}


def _layer_fields(
    layer_id: str,
    name: str,
    users: Sequence[str],
    start: datetime,
    turn: Mapping[str, Any] | sch.Turn | None,
    time_zone: str | None,
    restrictions: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "layer_id": layer_id,
        "name": name,
        "users": tuple(users),
        "start": start,
        "time_zone": time_zone,
        "restrictions": tuple(restrictions),
    }
    if turn is not None:
        fields["turn"] = turn
    return fields


def _check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None:
        raise InvalidCommandError("start", "must be a timezone-aware timestamp")
    if end.tzinfo is None:
        raise InvalidCommandError("end", "must be a timezone-aware timestamp")
    if end <= start:
        raise InvalidCommandError("end", "must be after start")
    if end - start > timedelta(days=366):
        raise InvalidCommandError("end", "a range may span at most a year")
