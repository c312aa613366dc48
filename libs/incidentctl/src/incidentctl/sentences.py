"""One short sentence per event type, for people reading a timeline or a watch.

Owns how every event type that can appear in an incident's timeline (the contracts
the incident, detection, paging, communications, postmortem and audit services
register) reads as a line of English: "paged oncall by email", "escalation on policy
default rev 1 started: P1, high urgency", "next update promised by
2026-11-27T10:30:00Z", "action item reassigned to bob, was alice". A send whose
outcome is unknown says so, and so does a resend that may be a repeat.
tests/unit/incidentctl/test_sentences.py holds this table to every registered
contract, so a new event type without a sentence fails a test.

A sentence never shows a raw dict or list: nested data is named, joined or counted,
and the full data is one flag away (`--json`, `-v`). Payloads are read tolerantly: a
missing or oddly typed field (an older or newer schema version) drops out of the
sentence and never raises. A type this table does not know (a newer service) gets a
generic sentence made of its plain fields.

incidentctl is installed without the services, so it reads event data as JSON: the
field names below are the contracts' field names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from incidentctl.values import format_instant

# ---------------------------------------------------------------------- reading data


def _plain(value: Any) -> str:
    """A scalar as text; "" for anything else (a dict or list never becomes a repr)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str | int | float):
        return " ".join(str(value).split())
    return ""


class Fields:
    """An event's data, read tolerantly: each accessor answers "" (or None, or empty)
    for a field that is missing or has an unexpected type."""

    def __init__(self, data: Mapping[str, Any], version: int = 0) -> None:
        self._data = data
        self.version = version
        """The event's version in its stream (IncidentNumberAllocated's number)."""

    def text(self, key: str) -> str:
        return _plain(self._data.get(key))

    def number(self, key: str) -> int | None:
        value = self._data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value)

    def seconds(self, key: str) -> float | None:
        value = self._data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)

    def flag(self, key: str) -> bool:
        return self._data.get(key) is True

    def texts(self, key: str) -> list[str]:
        """A list of scalars (responders, services, members)."""
        value = self._data.get(key)
        if not isinstance(value, list | tuple):
            return []
        return [text for text in map(_plain, value) if text]

    def fields(self, key: str) -> Fields:
        value = self._data.get(key)
        return Fields(value if isinstance(value, Mapping) else {})

    def each(self, key: str) -> list[Fields]:
        value = self._data.get(key)
        if not isinstance(value, list | tuple):
            return []
        return [Fields(item) for item in value if isinstance(item, Mapping)]

    def size(self, key: str) -> int:
        """How many entries a map or list holds (0 for anything else)."""
        value = self._data.get(key)
        return len(value) if isinstance(value, Mapping | list | tuple) else 0

    def pairs(self, key: str) -> str:
        """A string map as `name=value, name=value` (labels)."""
        value = self._data.get(key)
        if not isinstance(value, Mapping):
            return ""
        return ", ".join(f"{name}={_plain(value[name])}" for name in sorted(map(str, value)))

    def when(self, key: str) -> str:
        """An instant to the second, in the form `--as-of` accepts."""
        raw = self.text(key)
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return raw
        if parsed.tzinfo is None:
            return raw
        return format_instant(parsed.replace(microsecond=0))


# ---------------------------------------------------------------------- phrasing


def _join(*parts: str, sep: str = " ") -> str:
    return sep.join(part for part in parts if part)


def _with(main: str, detail: str, sep: str = ": ") -> str:
    """`main<sep>detail`, or just `main` when there is no detail."""
    return f"{main}{sep}{detail}" if detail else main


def _series(items: Iterable[str]) -> str:
    return ", ".join(item for item in items if item)


def _quoted(text: str) -> str:
    return f'"{text}"' if text else ""


def _count(n: int | None, noun: str) -> str:
    return "" if not n else f"{n} {noun}" + ("" if n == 1 else "s")


def _ordinal(n: int | None) -> str:
    # Levels, steps, passes and rounds are 0-based in the data; people count from 1.
    return "" if n is None else str(n + 1)


def _attempt(d: Fields) -> str:
    attempt = d.number("attempt")
    return f" (attempt {attempt})" if attempt else ""


def _duration(seconds: float | None) -> str:
    """10m, 24h, 90s: the form incidentctl's options accept."""
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _after(minutes: int | None) -> str:
    return "" if minutes is None else ("at once" if minutes == 0 else f"after {minutes} min")


def _change(what: str, old: str, new: str) -> str:
    return f"{what} {old} → {new}" if old else f"{what} {new}"


# ---------------------------------------------------------------------- incident


def _declared(d: Fields) -> str:
    text = _join("declared", d.text("severity"), _quoted(d.text("title")))
    text = _with(text, _series(d.texts("services")), " for ")
    return _with(text, _count(len(d.texts("source_alerts")), "alert"), ", from ")


def _number_allocated(d: Fields) -> str:
    # Recorded in the numbering stream, whose version + 1 is the number.
    return f"number INC-{d.version + 1} allocated"


def _commander(d: Fields) -> str:
    text = _join(d.text("commander"), "is incident commander")
    previous = d.text("previous_commander")
    return f"{text} (was {previous})" if previous else text


def _mitigation(d: Fields) -> str:
    lasting = "temporary" if d.flag("temporary") else "permanent"
    text = _with(_join(lasting, d.text("kind"), "applied"), d.text("description"))
    applied, recorded = d.when("applied_at"), d.when("recorded_at")
    # Recorded after the fact (--applied-at): when it really happened matters.
    return f"{text} (at {applied})" if applied and recorded and applied != recorded else text


def _resolved(d: Fields) -> str:
    text = _with("resolved", d.text("summary"))
    return f"{text} (root cause pending)" if d.flag("root_cause_pending") else text


INCIDENT: dict[str, Callable[[Fields], str]] = {
    "IncidentNumberAllocated": _number_allocated,
    "IncidentDeclared": _declared,
    "CommanderAssigned": _commander,
    "SeverityChanged": lambda d: _with(
        _change("severity", d.text("from_severity"), d.text("to_severity")), d.text("reason")
    ),
    "StatusChanged": lambda d: _with(
        _change("status", d.text("from_status"), d.text("to_status")), d.text("note")
    ),
    # A note already says what its author wants the timeline to say.
    "TimelineNoteAdded": lambda d: d.text("text") or "note added",
    "MitigationApplied": _mitigation,
    "IncidentResolved": _resolved,
    "RootCauseFollowUpRequired": lambda d: _with("root-cause follow-up owed", d.text("reason")),
    "RootCauseFollowUpClosed": lambda d: _with(
        _with("root-cause follow-up closed", d.text("closed_by"), " by "), d.text("root_cause")
    ),
    "IncidentReopened": lambda d: _with("reopened", d.text("reason")),
    "AlertAttached": lambda d: _with(
        _join(d.text("source_severity"), "alert attached"), d.text("summary")
    ),
    "SourceAlertAcknowledged": lambda d: _with(
        "source alert acknowledged", d.text("acknowledged_by"), " by "
    ),
    "SourceAlertsResolved": lambda _: "every source alert resolved",
}


# ---------------------------------------------------------------------- detection

_RESOLVED_BECAUSE = {
    "source": "resolved by its source",
    "auto_timeout": "auto-resolved: no word from its source in time",
    "heartbeat_returned": "resolved: the heartbeat is back",
    "rule": "resolved: the rule's condition cleared",
}


def _alert(d: Fields, happened: str) -> str:
    occurrence = d.number("occurrence") or 1
    again = f" again (occurrence {occurrence})" if occurrence > 1 else ""
    text = _with(_join(d.text("severity"), "alert", happened) + again, d.text("summary"))
    via = _join(d.text("source"), "integration", d.text("integration"))
    return _with(text, via if d.text("integration") else "", ", via ")


def _alert_resolved(d: Fields) -> str:
    reason = d.text("reason")
    text = "alert " + _RESOLVED_BECAUSE.get(reason, _with("resolved", reason, " "))
    return text if d.flag("was_firing") else f"{text} before it fired"


def _flapping(d: Fields) -> str:
    window = _duration(d.seconds("window_seconds"))
    rate = _join(_count(d.number("changes"), "change"), f"within {window}" if window else "")
    return _with("alert flapping, paging paused", rate)


def _lifted(d: Fields) -> str:
    kind, _, ident = d.text("suppressed_by").partition(":")
    return _with("alert no longer suppressed", _join(kind, ident), " by ")


def _group_firing(d: Fields) -> str:
    text = _with("alert group firing", d.text("title") or d.text("summary"))
    text = _with(text, _join(d.text("incident_severity"), "incident"), ", opens a ")
    return _with(text, _series(d.texts("services")), " for ")


def _heartbeat_created(d: Fields) -> str:
    text = _join("heartbeat", d.text("name"), "created")
    text = _with(text, _duration(d.seconds("interval_seconds")), ": expects a ping every ")
    grace = _duration(d.seconds("grace_seconds"))
    return f"{text} (grace {grace})" if grace else text


def _check_defined(d: Fields) -> str:
    spec = d.fields("spec")
    text = _join("synthetic check", d.text("name"), "defined")
    text = _with(text, d.text("kind"), ": ")
    text = _with(text, _duration(spec.seconds("interval")), ", every ")
    return _with(text, _duration(spec.seconds("for")), ", alerts after failing for ")


def _check_status(d: Fields) -> str:
    words = {"up": "passing", "down": "failing", "checker_error": "not running (checker error)"}
    status = d.text("status")
    text = _join("synthetic check", words.get(status, status) or "changed status")
    text = _with(text, d.text("failing_step"), " at step ")
    return _with(text, d.text("detail"))


def _check_summary(d: Fields) -> str:
    runs, up = d.number("runs"), d.number("up")
    text = _with("synthetic check summary", _count(runs, "run"))
    if runs and up is not None:
        text = _with(text, f"{100 * up / runs:.1f}% passed", ", ")
    return _with(text, d.when("period_end"), " until ")


def _rule_defined(d: Fields) -> str:
    rule = d.fields("rule")
    text = _join(rule.text("severity"), rule.text("kind"), "rule", rule.text("name"), "defined")
    held = _duration(rule.seconds("for_") or rule.seconds("for"))
    condition = _join(
        rule.text("aggregation") if rule.text("kind") == "threshold" else "",
        rule.text("comparison"),
        rule.text("threshold"),
        f"for {held}" if held else "",
    )
    return _with(text, condition if rule.text("comparison") else "", ": fires when ")


def _silence_created(d: Fields) -> str:
    matchers = _series(
        _join(m.text("name"), m.text("op") or "=", _quoted(m.text("value")), sep="")
        for m in d.each("matchers")
    )
    text = _with(_join("silence", d.text("silence_id"), "created"), matchers, " for ")
    text = _with(text, d.when("ends_at"), " until ")
    return _with(text, d.text("comment"))


_EXPIRED_BECAUSE = {"manual": "ended by hand", "ended": "its end time passed"}


DETECTION: dict[str, Callable[[Fields], str]] = {
    "AlertPending": lambda d: _alert(d, "pending"),
    "AlertTriggered": lambda d: _alert(d, "fired"),
    "AlertAcknowledged": lambda d: _with("alert acknowledged", d.text("acknowledged_by"), " by "),
    "AlertResolved": _alert_resolved,
    "AlertSuppressed": lambda d: _with("alert suppressed", d.text("reason")),
    "AlertSuppressionLifted": _lifted,
    "AlertFlapping": _flapping,
    "AlertFlappingStopped": lambda _: "alert stopped flapping, paging again",
    "AlertAutoResolveScheduled": lambda d: (
        _with("alert auto-resolves", d.when("due_at"), " at ")
        + " unless its source reports it again"
    ),
    "AlertGroupOpened": lambda d: _with("alert group opened", d.pairs("group_labels"), " for "),
    "AlertGroupFiring": _group_firing,
    "AlertGroupAlertAdded": lambda d: _with(
        _join(d.text("severity"), "alert joined the group"), d.text("summary")
    ),
    "AlertGroupAlertResolved": lambda d: _with("alert left the group", d.text("reason")),
    "AlertGroupResolved": lambda _: "every alert in the group resolved",
    "AlertGroupAcknowledged": lambda d: _with(
        "alert acknowledged at its source", d.text("acknowledged_by"), " by "
    ),
    "HeartbeatMonitorCreated": _heartbeat_created,
    "HeartbeatPinged": lambda d: _with("heartbeat pinged", d.when("deadline"), ", next due by "),
    "HeartbeatMissed": lambda d: _with("heartbeat missed", d.when("deadline"), ": no ping by "),
    "CheckDefined": _check_defined,
    "CheckRemoved": lambda d: _with("synthetic check removed", d.text("removed_by"), " by "),
    "CheckStatusChanged": _check_status,
    "CheckSummaryRecorded": _check_summary,
    "IntegrationCreated": lambda d: _with(
        _join(d.text("kind"), "integration", d.text("name") or d.text("integration_id"), "created"),
        d.pairs("default_labels"),
        ", labels ",
    ),
    "IntegrationRevoked": lambda d: _join("integration", d.text("integration_id"), "revoked"),
    "RuleDefined": _rule_defined,
    "RuleRemoved": lambda d: _join("rule", d.text("name"), "removed"),
    "SilenceCreated": _silence_created,
    "SilenceExpired": lambda d: _with(
        _join("silence", d.text("silence_id"), "expired"),
        _EXPIRED_BECAUSE.get(d.text("reason"), d.text("reason")),
    ),
}


# ---------------------------------------------------------------------- paging


def _level(d: Fields) -> str:
    level = d.number("level")
    text = "escalation step" if level is None else f"escalation level {_ordinal(level)}"
    extras = _series(
        [
            f"pass {_ordinal(d.number('repeat'))}" if d.number("repeat") else "",
            f"round {_ordinal(d.number('round'))}" if d.number("round") else "",
        ]
    )
    return f"{text} ({extras})" if extras else text


def _escalation_started(d: Fields) -> str:
    policy = d.fields("policy")
    revision = policy.text("revision")
    name = _join(policy.text("policy_id"), f"rev {revision}" if revision else "")
    text = _with("escalation", name, " on policy ") + " started"
    urgency = d.text("urgency")
    text = _with(text, _series([d.text("severity"), f"{urgency} urgency" if urgency else ""]))
    return _with(text, _count(len(policy.each("levels")), "level"), ", ")


def _escalation_deferred(d: Fields) -> str:
    text = _join("escalation step", _ordinal(d.number("step")), "deferred")
    return _with(text, d.when("until"), " to business hours at ")


def _escalation_severity(d: Fields) -> str:
    text = _change("escalation severity", d.text("from_severity"), d.text("to_severity"))
    return _with(text, d.text("urgency") + " urgency" if d.text("urgency") else "", ", ")


def _escalation_stopped(d: Fields) -> str:
    text = _with("paging stopped", d.text("reason"))
    return _with(_with(text, d.text("by"), " by "), d.text("via"), " via ")


def _responder_paged(d: Fields) -> str:
    text = _join("paged", d.text("user_id"))
    plan = d.each("plan")
    if not plan:
        return text
    first, *later = plan
    text = _with(text, first.text("kind") or first.text("method_id"), " by ")
    then = _series(
        _join(m.text("kind") or m.text("method_id"), _after(m.number("after_minutes")))
        for m in later
    )
    return _with(text, then, ", then ")


def _notification_scheduled(d: Fields) -> str:
    why = {"retry": "retry", "failover": "failover", "repeat": "resend"}.get(d.text("reason"), "")
    text = _join(d.text("method_id"), why or "notification") + _attempt(d)
    return _with(text, d.when("due_at"), " due at ")


def _page_failed(d: Fields) -> str:
    text = _join("delivery by", d.text("method_id"), "failed") + _attempt(d)
    text = _with(text, d.text("reason"))
    return text + ("; not retrying it" if d.flag("permanent") else "; will retry")


def _policy(d: Fields, happened: str) -> str:
    text = _join("policy", d.text("name") or d.text("policy_id"), happened)
    levels = "; ".join(
        _join(
            f"level {index + 1}",
            _series(_join(t.text("kind"), t.text("id"), sep=":") for t in level.each("targets")),
            f"for {level.number('delay_minutes')} min" if level.number("delay_minutes") else "",
        )
        for index, level in enumerate(d.each("levels"))
    )
    text = _with(text, levels)
    text = _with(text, _count(d.number("repeat"), "time"), ", repeated ")
    timeout = d.number("un_ack_timeout_minutes")
    return _with(
        text, f"{timeout} min" if timeout else "", ", re-pages an acked open incident after "
    )


def _layer(d: Fields, happened: str) -> str:
    layer = d.fields("layer")
    text = _join("layer", layer.text("name") or layer.text("layer_id"), happened)
    turn = layer.fields("turn")
    length, unit = turn.number("length"), turn.text("unit")
    every = ""
    if turn.text("rrule"):
        every = "on a custom rotation"
    elif length and unit:
        every = f"every {unit.removesuffix('s')}" if length == 1 else f"every {length} {unit}"
    users = _series(layer.texts("users"))
    text = _with(text, _join(f"{users} in turn" if users else "", every))
    return _with(text, layer.text("time_zone"), ", ")


def _override_added(d: Fields) -> str:
    override = d.fields("override")
    text = _join("override", override.text("override_id"), "added")
    text = _with(text, _join(override.text("user_id"), "on call"), ": ")
    start, end = override.when("start"), override.when("end")
    return _with(text, f"{start} to {end}" if start and end else "", " from ")


def _team(d: Fields, happened: str) -> str:
    text = _join("team", d.text("name") or d.text("team_id"), happened)
    text = _with(text, _series(d.texts("members")))
    return _with(text, d.text("schedule_id"), "; schedule ")


def _contact_added(d: Fields) -> str:
    method = d.fields("method")
    text = _join(method.text("kind"), "contact method", method.text("method_id"), "added")
    return _with(text, method.text("address"))


def _notification_rules(d: Fields) -> str:
    rules = _series(
        _join(rule.text("method_id"), _after(rule.number("after_minutes")))
        for rule in d.each("rules")
    )
    return _with("notification rules set", rules)


def _business_hours(d: Fields) -> str:
    windows = "; ".join(
        _join(_series(w.texts("days")), _join(w.text("start"), w.text("end"), sep="–"))
        for w in d.each("windows")
    )
    return _with("business hours set", windows)


PAGING: dict[str, Callable[[Fields], str]] = {
    "EscalationStarted": _escalation_started,
    "EscalationStepScheduled": lambda d: _with(_level(d), d.when("due_at"), " due at "),
    "EscalationStepFired": lambda d: _with(
        _level(d) + " fired", _series(d.texts("responders")), ": paging "
    ),
    "EscalationDeferred": _escalation_deferred,
    "EscalationSeverityChanged": _escalation_severity,
    "EscalationStopped": _escalation_stopped,
    "EscalationCancelled": lambda d: _with("escalation cancelled", d.text("reason")),
    "EscalationAdvanced": lambda d: _with(
        "a page reached nobody: the next level is due now", d.text("reason")
    ),
    "EscalationExhausted": lambda d: _with(
        "every level reached nobody: "
        + (
            "paging the operators' fallback route"
            if d.text("fallback_page_id")
            else "no fallback route is configured"
        ),
        d.text("reason"),
    ),
    "SenderStarted": lambda d: _with(
        _join("paging worker", d.text("sender"), "started"),
        "earlier instance's unanswered pages will be resent" if d.text("previous_instance") else "",
        "; ",
    ),
    "UnacknowledgedTimeoutScheduled": lambda d: (
        _with("pages again", d.when("due_at"), " at ") + " if the incident is still open"
    ),
    "UnacknowledgedTimeoutFired": lambda _: "acknowledged but still open: paging again",
    "ResponderPaged": _responder_paged,
    "PageNotificationScheduled": _notification_scheduled,
    "PageDeliveryAttempted": lambda d: (
        _with(_join("sending", d.text("kind") or d.text("method_id")), d.text("address"), " to ")
        + _attempt(d)
        + (", marked as a possible repeat" if d.number("repeat_of") else "")
    ),
    "PageDeliveryUnconfirmed": lambda d: _with(
        _join("outcome of", d.text("method_id"), "unknown") + _attempt(d), d.text("reason")
    ),
    "PageDelivered": lambda d: _join("page delivered by", d.text("method_id")) + _attempt(d),
    "PageFailed": _page_failed,
    "PageDeliveryExhausted": lambda d: _with("page undeliverable", d.text("reason")),
    "PageAcknowledged": lambda d: _with(
        _with("page acknowledged", d.text("by"), " by "), d.text("via"), " via "
    ),
    "PageCancelled": lambda d: _with("page cancelled", d.text("reason")),
    "PolicyCreated": lambda d: _policy(d, "created"),
    "PolicyRevised": lambda d: _policy(d, "revised"),
    "ScheduleCreated": lambda d: _with(
        _join("schedule", d.text("name") or d.text("schedule_id"), "created"),
        d.text("time_zone"),
        ", ",
    ),
    "LayerAdded": lambda d: _layer(d, "added"),
    "LayerChanged": lambda d: _layer(d, "changed"),
    "LayerRemoved": lambda d: _join("layer", d.text("layer_id"), "removed"),
    "OverrideAdded": _override_added,
    "OverrideRemoved": lambda d: _join("override", d.text("override_id"), "removed"),
    "TeamCreated": lambda d: _team(d, "created"),
    "TeamChanged": lambda d: _team(d, "changed"),
    "UserRegistered": lambda d: _with(
        _join("user", d.text("user_id"), _quoted(d.text("name")), "registered"),
        d.text("time_zone"),
        ", ",
    ),
    "UserTimeZoneChanged": lambda d: _with("time zone now", d.text("time_zone"), " "),
    "ContactMethodAdded": _contact_added,
    "ContactMethodRemoved": lambda d: _join("contact method", d.text("method_id"), "removed"),
    "NotificationRulesSet": _notification_rules,
    "BusinessHoursSet": _business_hours,
}

# ---------------------------------------------------------------------- communications


def _words(value: str) -> str:
    """An enum value as words: `degraded_performance` reads `degraded performance`."""
    return value.replace("_", " ")


def _tries(d: Fields) -> str:
    """`(attempt 2, possible repeat)` for one send."""
    extras = _series(
        [
            f"attempt {d.number('attempt')}" if d.number("attempt") else "",
            "possible repeat" if d.number("repeat_of") else "",
        ]
    )
    return f" ({extras})" if extras else ""


def _sends(attempts: list[Fields]) -> str:
    """`war_room.war (attempt 2, possible repeat), stakeholder.execs (attempt 1)`."""
    return _series(a.text("target_id") + _tries(a) for a in attempts if a.text("target_id"))


_PURPOSES = {
    "channel_opened": "channel-opened notice",
    "war_room": "war-room message",
    "stakeholder_update": "stakeholder update",
    "reminder": "update reminder",
    "overdue": "overdue-update notice",
    "subscriber_notice": "subscriber notice",
    "component_update": "component update",
    "confirm_subscription": "subscription confirmation",
}


def _dispatch_queued(d: Fields) -> str:
    purpose = d.text("purpose")
    text = _join(_PURPOSES.get(purpose, _words(purpose)) or "message", "queued")
    text = _with(text, _count(len(d.each("targets")), "recipient"), " for ")
    return _with(text, _quoted(d.text("subject")))


def _outcome(o: Fields) -> str:
    target = o.text("target_id") + _tries(o)
    if o.flag("delivered"):
        return _join("delivered to", target)
    text = _with(_join("failed for", target), o.text("reason"))
    return text + (", not retrying it" if o.flag("permanent") else ", will retry")


def _outcomes(d: Fields) -> str:
    return "; ".join(_outcome(o) for o in d.each("outcomes")) or "delivery outcomes recorded"


def _unconfirmed(d: Fields) -> str:
    text = _with("outcome unknown", _sends(d.each("attempts")), " for ")
    text = _with(text, d.text("reason"))
    return text + "; sending again, marked as possible repeats"


def _tracked(d: Fields) -> str:
    text = _join("tracking", d.text("reference"), d.text("severity"), _quoted(d.text("title")))
    text = _with(text, d.text("service"), " for ")
    return _with(text, d.text("commander"), ", commander ")


_ROLES = {"war_room": "war room", "stakeholder": "stakeholder channel"}


def _channel_opened(d: Fields) -> str:
    # The address is a webhook URL, often with its secret in it: the link is for people.
    role = d.text("role")
    text = _join(_ROLES.get(role, _words(role)) or "channel", d.text("channel_id"), "opened")
    return _with(_with(text, d.text("kind"), " on "), d.text("link"))


def _comms_lead(d: Fields) -> str:
    return _join(d.text("comms_lead"), "is communications lead")


def _stakeholder_update(d: Fields) -> str:
    text = _join(d.text("audience"), "stakeholder update posted")
    text = _with(text, _words(d.text("status")))
    kept = d.text("promise_kept")
    promise = {"yes": "on time", "no": "later than promised"}.get(kept, "")
    return _with(text, promise, ", ")


_PROMISED_BECAUSE = {
    "declared": "",
    "update": "",
    "severity": "sooner: the severity went up",
}


def _promised(d: Fields) -> str:
    text = _with("next update promised", d.when("due_by"), " by ")
    reason = d.text("reason")
    return _with(text, _PROMISED_BECAUSE.get(reason, reason), ", ")


def _overdue(d: Fields) -> str:
    text = _with("promised update missed", d.when("due_by"), ": was due by ")
    return _with(text, d.text("escalated_to"), "; escalated to ")


def _component_added(d: Fields) -> str:
    text = _join("status page component", _quoted(d.text("name")) or d.text("component_id"))
    text = _with(text + " added", d.text("group_id"), " in group ")
    return text + (", shown only when degraded" if d.flag("only_show_if_degraded") else "")


def _component_change(what: str, d: Fields) -> str:
    old, new = _words(d.text("old_status")), _words(d.text("new_status"))
    return _change(_join("component", what), old, new) if new else ""


def _status_incident_drafted(d: Fields) -> str:
    kind = d.text("kind")
    what = "maintenance" if kind == "maintenance" else "incident"
    text = _join("status page", what, _quoted(d.text("name")), "drafted")
    impact = d.text("impact")
    text = _with(text, f"{impact} impact" if impact else "")
    text = _with(text, _series(d.texts("component_ids")), " on ")
    start, end = d.when("scheduled_for"), d.when("scheduled_until")
    text = _with(text, _join(start, f"to {end}" if end else "") if start else "", ", scheduled ")
    return text + (" (internal only)" if d.flag("internal_only") else "")


def _status_incident_updated(d: Fields) -> str:
    text = _with("status page update posted", _words(d.text("status")))
    impact = d.text("impact")
    text = _with(text, f"{impact} impact" if impact else "", ", ")
    changes = _series(
        _component_change(c.text("component_id"), c) for c in d.each("affected_components")
    )
    text = _with(text, changes, "; ")
    silent = d.text("deliver_notifications") == "no"
    return text + ("; subscribers not notified" if silent else "")


def _subscription_requested(d: Fields) -> str:
    # The address stays out: a webhook subscriber's URL can carry its secret (see -v).
    text = _join(d.text("kind"), "subscription requested")
    components = _series(d.texts("component_ids"))
    text = _with(text, components or "every component", " for ")
    return text + (", awaiting confirmation" if d.text("confirm_token_sha256") else "")


COMMS: dict[str, Callable[[Fields], str]] = {
    "DispatchQueued": _dispatch_queued,
    "DeliveriesAttempted": lambda d: _with("sending", _sends(d.each("attempts")), " to "),
    "DeliveryOutcomesRecorded": _outcomes,
    "DeliveriesUnconfirmed": _unconfirmed,
    "IncidentTracked": _tracked,
    "ChannelOpened": _channel_opened,
    "WarRoomPosted": lambda d: _with(
        "posted in the war room", d.text("text") or _words(d.text("change"))
    ),
    "CommsLeadAssigned": _comms_lead,
    "StakeholderUpdatePosted": _stakeholder_update,
    "UpdatePromised": _promised,
    "UpdateDue": lambda d: _with(
        _with("update due soon", d.when("due_by"), ": promised by "),
        d.text("reminded"),
        "; reminded ",
    ),
    "UpdateOverdue": _overdue,
    "CommsSenderStarted": lambda d: _with(
        _join("comms worker", d.text("sender"), "started"),
        "earlier instance's unconfirmed messages will be resent"
        if d.text("previous_instance")
        else "",
        "; ",
    ),
    "StatusPageConfigured": lambda d: _with(
        _with(_join("status page", _quoted(d.text("name")), "configured"), d.text("url")),
        d.text("time_zone"),
        ", ",
    ),
    "ComponentGroupAdded": lambda d: _join(
        "status page group", _quoted(d.text("name")) or d.text("group_id"), "added"
    ),
    "ComponentAdded": _component_added,
    "ComponentStatusChanged": lambda d: (
        _component_change(d.text("component_id"), d) or "component status changed"
    ),
    "StatusIncidentDrafted": _status_incident_drafted,
    "StatusIncidentUpdated": _status_incident_updated,
    "InternalNoteAdded": lambda d: _with("internal note", d.text("body")),
    "StatusIncidentPublished": lambda _: "status page incident published",
    "SubscriptionRequested": _subscription_requested,
    "SubscriptionConfirmed": lambda _: "subscription confirmed",
    "SubscriptionChangeRequested": lambda d: _with(
        "subscription change requested", _series(d.texts("component_ids")) or "all", ": "
    ),
    "SubscriptionChanged": lambda d: _with(
        "subscription changed", _series(d.texts("component_ids")) or "all", ": now follows "
    ),
    "Unsubscribed": lambda d: _with("unsubscribed", d.text("via"), " via "),
    "SubscriberRemoved": lambda d: _with(
        _with("subscriber removed", d.text("removed_by"), " by "), d.text("reason")
    ),
}


# ---------------------------------------------------------------------- postmortem


def _due(d: Fields) -> str:
    """The due date as people set it (a day), else the instant."""
    return d.text("due_on") or d.when("due_at")


def _postmortem_started(d: Fields) -> str:
    text = _join("postmortem", d.text("number"), "started")
    text = _with(text, _join(d.text("severity"), _quoted(d.text("title"))), " for ")
    text = _with(text, _series(d.texts("services")), " on ")
    text = _with(text, d.text("owner"), ": owner ")
    text = _with(text, _due(d), ", due ")
    return text if d.flag("required") or not d.text("required") else f"{text} (optional)"


def _owner_assigned(d: Fields) -> str:
    text = _join(d.text("owner"), "owns the postmortem")
    previous = d.text("previous_owner")
    text = f"{text} (was {previous})" if previous else text
    return _with(text, _due(d), ", due ")


def _published(d: Fields) -> str:
    if d.flag("reconfirms"):
        # Not a second publication: the root cause amended after the incident came back.
        text = _with("root cause re-confirmed", d.text("root_cause").rstrip("."), ": ")
        return text + (
            "; closes the root-cause follow-up" if d.flag("closes_root_cause_follow_up") else ""
        )
    text = _with("postmortem published", d.text("root_cause").rstrip("."), ", root cause: ")
    if d.flag("closes_root_cause_follow_up"):
        text += "; closes the root-cause follow-up"
    overridden = _count(len(d.each("overridden_warnings")), "wording warning")
    text = _with(text, _join(overridden, "overridden") if overridden else "", "; ")
    return _with(text, d.text("override_reason") if overridden else "")


def _amended(d: Fields) -> str:
    section = _words(d.text("section"))
    text = _join("published postmortem amended", f"in the {section} section" if section else "")
    return _with(text, d.text("reason"))


def _action_added(d: Fields) -> str:
    priority = d.text("priority")
    text = _join(f"{priority}-priority" if priority else "", d.text("kind"), "action item added")
    text = _with(text, _quoted(d.text("title")))
    text = _with(text, d.text("owner"), ", owner ")
    text = _with(text, _due(d), ", due ")
    return _with(text, d.text("tracker_url"), ", tracked at ")


def _slot(d: Fields) -> str:
    slot = d.text("slot")
    if slot.startswith("overdue-"):
        return _join("overdue reminder", slot.removeprefix("overdue-"))
    return {
        "before": "due-soon reminder",
        "due": "due-today reminder",
        "escalation": "overdue escalation",
    }.get(slot, _join(slot, "reminder"))


def _reminder_attempted(d: Fields) -> str:
    target = d.fields("target")
    text = _with(_join("sending", _slot(d)), target.text("user_id"), " to ")
    text = _with(text, target.text("kind") or target.text("method_id"), " by ")
    return text + _attempt(d) + (", marked as a possible repeat" if d.number("repeat_of") else "")


def _reminder_failed(d: Fields) -> str:
    text = _with(_join(_slot(d), "failed"), d.text("target_key"), " for ") + _attempt(d)
    text = _with(text, d.text("reason"))
    return text + ("; not retrying it" if d.flag("permanent") else "; will retry")


def _webhook_attempted(d: Fields) -> str:
    text = _with("sending", _count(d.number("events"), "change"), " ")
    text = _with(text, d.text("url"), " to change webhook ")
    start, end = d.number("from_position"), d.number("to_position")
    span = f"{start}–{end}" if start is not None and end is not None else ""
    return _with(text, span, ", log positions ")


POSTMORTEM: dict[str, Callable[[Fields], str]] = {
    "PostmortemStarted": _postmortem_started,
    "IncidentResolutionRecorded": lambda d: _with(
        _with(_join(d.text("severity"), "incident resolved again"), d.when("resolved_at"), " at "),
        "the same postmortem covers it",
        "; ",
    ),
    "RootCauseFollowUpNoted": lambda d: _with(
        _with("root-cause follow-up owed", d.text("reason")),
        "publishing the postmortem closes it",
        "; ",
    ),
    "PostmortemOwnerAssigned": _owner_assigned,
    "SectionEdited": lambda d: _join(_words(d.text("section")), "section edited"),
    "RootCauseRecorded": lambda d: _with("root cause recorded", d.text("text")),
    "ImpactStartSet": lambda d: _with("impact start set", d.when("impact_started_at"), " to "),
    "TimelineEntryAdded": lambda d: _with(
        _with("timeline entry added", d.when("occurred_at"), " at "), d.text("text")
    ),
    "TimelineEntryAnnotated": lambda d: _with("timeline entry annotated", d.text("text")),
    "ReviewersRequested": lambda d: _with(
        "review requested", _series(d.texts("reviewers")), " from "
    ),
    "PostmortemReviewApproved": lambda d: (
        _join(d.text("reviewer"), "approved the postmortem")
        if d.text("reviewer")
        else "postmortem review approved"
    ),
    "PostmortemPublished": _published,
    "PostmortemAmended": _amended,
    "ActionItemAdded": _action_added,
    "ActionItemStarted": lambda _: "action item started",
    "ActionItemCompleted": lambda _: "action item done",
    "ActionItemDeclined": lambda d: _with("action item declined", d.text("reason")),
    "ActionItemReopened": lambda d: _with("action item reopened", d.text("reason")),
    "ActionItemReassigned": lambda d: _with(
        _with("action item reassigned", d.text("owner"), " to "),
        d.text("previous_owner"),
        ", was ",
    ),
    "ActionItemRescheduled": lambda d: _with(
        _with("action item rescheduled", _due(d), ": now due "), d.text("reason"), ", "
    ),
    "ActionItemRetitled": lambda d: _with("action item renamed", _quoted(d.text("title")), " "),
    "ActionItemPriorityChanged": lambda d: _with(
        "action item priority now", d.text("priority"), " "
    ),
    "ActionItemTrackerLinked": lambda d: _with(
        "action item linked to its tracker", d.text("tracker_url"), ": "
    ),
    "ActionItemOverdue": lambda d: _with("action item overdue", d.when("due_at"), ": was due "),
    "ReminderAttempted": _reminder_attempted,
    "ReminderDelivered": lambda d: (
        _with(_join(_slot(d), "delivered"), d.text("target_key"), " to ") + _attempt(d)
    ),
    "ReminderFailed": _reminder_failed,
    "ReminderUnconfirmed": lambda d: (
        _with(_join("outcome of", _slot(d)), d.text("target_key"), " to ")
        + " unknown"
        + _attempt(d)
        + "; sending again, marked as a possible repeat"
    ),
    "ChangeWebhookAttempted": _webhook_attempted,
    "ChangeWebhookDelivered": lambda d: _with(
        "change webhook delivered", d.text("to_position"), " up to log position "
    ),
}


# ---------------------------------------------------------------------- audit


def _log_sealed(d: Fields) -> str:
    return _with(
        _with("log sealed", d.text("position"), " at position "),
        _join(_count(d.size("streams"), "stream"), "by key", d.text("key_id")),
        ": ",
    )


AUDIT: Mapping[str, Callable[[Fields], str]] = {
    "AuditRecordAccessed": lambda d: _with(
        _join(d.text("principal") or "someone", "called", d.text("method") or "an audit method"),
        d.text("target"),
        " on ",
    ),
    "SealKeyAdopted": lambda d: _with(
        _join("sealing key", d.text("key_id"), "adopted"),
        d.text("previous_key_id"),
        ", replacing ",
    ),
    "LogSealed": _log_sealed,
}


# ---------------------------------------------------------------------- runbooks


def _runbooks_attached(d: Fields) -> str:
    names = _series(
        _join(r.text("runbook_id"), f"rev {r.text('revision')}" if r.text("revision") else "")
        for r in d.each("runbooks")
    )
    text = _with("runbook attached", names) if names else ""
    links = _series(d.texts("external_links"))
    if links:
        text = _join(text + ("," if text else ""), _with("external runbook", links, " "))
    return text or "runbooks attached"


def _step_marked(d: Fields) -> str:
    step = f"{d.text('runbook_id')}/{d.text('step_id')}" if d.text("step_id") else ""
    text = _with(_join("runbook step", step, d.text("status")), d.text("note"))
    mitigation = d.fields("mitigation")
    if mitigation.text("description"):
        lasting = "temporary" if mitigation.flag("temporary") else "permanent"
        text += f"; {lasting} mitigation: {mitigation.text('description')}"
    return text


def _action(d: Fields) -> str:
    step = d.text("step_id")
    return _join("action", step and f"{d.text('runbook_id')}/{step}".lstrip("/"))


def _run_requested(d: Fields) -> str:
    request = d.fields("request")
    how = "started automatically" if d.flag("automatic") else "requested"
    text = _with(_join(_action(d), how), _join(request.text("method"), request.text("url")))
    if d.flag("dry_run"):
        text += " (dry run)"
    if d.flag("needs_approval"):
        text += ", awaiting the incident commander's approval"
    return text


def _run_attempted(d: Fields) -> str:
    # Recorded just before the call: the intent, not the delivery.
    text = f"calling the automation{_attempt(d)}"
    repeat = d.number("repeat_of")
    return f"{text}, repeating attempt {repeat} whose result was lost" if repeat else text


def _run_result(d: Fields) -> str:
    code = d.number("status_code")
    took = d.number("duration_ms")
    detail = _series(
        [f"HTTP {code}" if code else "", f"{took} ms" if took is not None else "", d.text("error")]
    )
    outcome = d.text("outcome")
    words = {
        "succeeded": "action succeeded",
        "failed": "action failed",
        "retrying": "action failed, will retry",
        "unknown": "action outcome unknown, check by hand",
    }.get(outcome, _join("action result", outcome))
    if d.flag("timed_out"):
        words += " (timed out)"
    return _with(words, detail)


RUNBOOKS: dict[str, Callable[[Fields], str]] = {
    "RunbookPublished": lambda d: _join(
        "runbook",
        d.text("runbook_id"),
        "published",
        (f"as rev {d.text('revision')}" if d.text("revision") else ""),
    ),
    "RunbookRetired": lambda d: _with(
        _join("runbook", d.text("runbook_id"), "retired"), d.text("reason")
    ),
    "RunbooksAttached": _runbooks_attached,
    "StepMarked": _step_marked,
    "ActionRunRequested": _run_requested,
    "ActionRunRefused": lambda d: _with(
        _join(_action(d), "refused by a guard rail"), d.text("reason")
    ),
    "ActionRunApproved": lambda d: _with("action approved", d.text("approved_by"), " by "),
    "ActionAttempted": _run_attempted,
    "ActionResultRecorded": _run_result,
    "ActionOutcomeUnconfirmed": lambda d: _with(
        f"action outcome unknown, check by hand{_attempt(d)}", d.text("reason")
    ),
    "ActionDryRunRecorded": lambda d: _with(
        "dry run: action not sent",
        _join(d.fields("request").text("method"), d.fields("request").text("url")),
    ),
}


SENTENCES: Mapping[str, Callable[[Fields], str]] = {
    **INCIDENT,
    **DETECTION,
    **PAGING,
    **COMMS,
    **POSTMORTEM,
    **AUDIT,
    **RUNBOOKS,
}
"""Every event type that has its own sentence."""

# Who/when fields repeat the actor and time columns; ids mean little to a reader.
_NOISE_SUFFIXES = ("_at", "_by", "_id")


def generic(event_type: str, data: Mapping[str, Any]) -> str:
    """For a type this table does not know: its plain fields, nested ones left to -v."""
    d = Fields(data)
    parts = [
        f"{key.replace('_', ' ')} {value}"
        for key in map(str, data)
        if not key.endswith(_NOISE_SUFFIXES) and (value := d.text(key) or _series(d.texts(key)))
    ]
    return "; ".join(parts) or event_type


def sentence(event_type: str, data: Any, version: int = 0) -> str:
    """What an event says, in one line of plain words (never a dict or list repr)."""
    if not isinstance(data, Mapping):
        # Unparseable JSON arrives as its raw text, and no contract's payload is a list
        # or a number: -v and --json show it as it is.
        return "unreadable data (see -v)" if data else event_type
    say = SENTENCES.get(event_type)
    if say is None:
        return generic(event_type, data)
    try:
        text = say(Fields(data, version))
    except (ArithmeticError, AttributeError, KeyError, TypeError, ValueError):
        # A payload no contract version has: say what can be said, never fail a listing.
        text = generic(event_type, data)
    return " ".join(text.split())
