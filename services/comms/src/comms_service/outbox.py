"""The communications outbox: turning requested messages into queued dispatches.

Owns `queue_requested`: every message an aggregate asked for (a channel opening, a war
room change, a stakeholder update, a reminder, an overdue warning, a subscription
confirmation, a status-page notice or component update) becomes one dispatch with its
subject, body and targets (destinations, the people in `contacts`, the confirmed
subscribers with their unsubscribe links); a notice to many subscribers is split into
buckets by subscriber id. Each is created once (keyed), so a retried queueing creates
nothing more. Nothing is sent here: the scheduler (`scheduler.py`) attempts them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from comms_service import dispatch as dsp
from comms_service import room as rm
from comms_service import status_incident as si
from comms_service import statuspage as sp
from comms_service import subscriber as sub
from comms_service import templates as tpl
from comms_service.common import derived_id
from comms_service.model import Request, notice_id
from comms_service.runtime import Runtime
from comms_service.subscriptions import SubscriberLinks

NOTICE_BUCKETS = 64
"""A subscriber notice is split into this many dispatches at most (by subscriber id):
about 4,500 subscribers fit one bucket's event, so up to ~280,000 subscribers."""


class Outbox:
    def __init__(
        self, runtime: Runtime, links: SubscriberLinks, contacts: Mapping[str, str] | None = None
    ) -> None:
        self.runtime = runtime
        self.links = links
        self.contacts = dict(contacts or {})

    def queue_requested(self) -> bool:
        """Create the dispatch of every requested message not queued yet."""
        queued = False
        for request in self.runtime.model.pending_requests():
            command = self._dispatch_for(request)
            if request.purpose in (dsp.Purpose.SUBSCRIBER_NOTICE, dsp.Purpose.COMPONENT_UPDATE):
                # One event may hold at most 1 MiB, so a notice to many subscribers is
                # split into buckets by subscriber id (a subscriber's bucket never
                # changes: a retry after a crash recreates only the missing buckets and
                # nobody lands in two). The request's own dispatch, with no targets, is
                # queued last and marks the request done.
                commands = [
                    *self._buckets(command, request.stream),
                    command.model_copy(update={"targets": (), "source": request.stream}),
                ]
            else:
                commands = [command.model_copy(update={"source": request.stream})]
            for each in commands:
                result = self.runtime.run(
                    dsp.STREAM_CATEGORY,
                    dsp.stream_for(each.dispatch_id),
                    each,
                    actor=self.runtime.actor,
                    key="queued",
                )
                queued = queued or result.appended
        return queued

    @staticmethod
    def _buckets(command: dsp.QueueDispatch, source: str) -> list[dsp.QueueDispatch]:
        buckets: dict[int, list[dsp.Target]] = {}
        for target in command.targets:
            bucket = uuid.UUID(target.target_id).int % NOTICE_BUCKETS
            buckets.setdefault(bucket, []).append(target)
        return [
            command.model_copy(
                update={
                    "dispatch_id": derived_id(command.dispatch_id, "bucket", bucket),
                    "targets": tuple(targets),
                    "source": source,
                }
            )
            for bucket, targets in sorted(buckets.items())
        ]

    def _dispatch_for(self, request: Request) -> dsp.QueueDispatch:
        at = self.runtime.clock()
        if request.purpose in (
            dsp.Purpose.SUBSCRIBER_NOTICE,
            dsp.Purpose.CONFIRM_SUBSCRIPTION,
            dsp.Purpose.COMPONENT_UPDATE,
        ):
            return self._status_message(request, at)
        state: rm.Room = self.runtime.model.state(request.stream)[0]
        data = request.data
        war = [self._target(d) for d in state.destinations(rm.Role.WAR_ROOM)]
        stake = [self._target(d) for d in state.destinations(rm.Role.STAKEHOLDER)]
        head = f"{state.reference} {state.severity or ''}".strip()
        match request.purpose:
            case dsp.Purpose.CHANNEL_OPENED:
                role = (
                    rm.Role.WAR_ROOM
                    if request.dispatch_id == derived_id(request.stream, "opened", "war_room")
                    else rm.Role.STAKEHOLDER
                )
                targets = war if role is rm.Role.WAR_ROOM else stake
                what = "War room" if role is rm.Role.WAR_ROOM else "Stakeholder channel"
                subject = f"{what} opened: {head}: {state.title}"
                body = (
                    f"{what} for {state.reference} ({state.title}), severity {state.severity}. "
                    + (
                        "Incident changes are posted here as they happen."
                        if role is rm.Role.WAR_ROOM
                        else "Stakeholder updates are posted here."
                    )
                )
            case dsp.Purpose.WAR_ROOM:
                targets = war
                subject = f"{head} {data['change']}: {state.title}"
                body = data["text"]
            case dsp.Purpose.STAKEHOLDER_UPDATE:
                targets = stake
                subject = f"Update on {head}: {state.title} ({data['status']})"
                body = data["body"]
            case dsp.Purpose.REMINDER:
                targets = war + self._person(state.commander)
                due = tpl.due_text(datetime.fromisoformat(data["due_by"]), request.at)
                subject = f"Stakeholder update due by {due}: {head}"
                body = (
                    f"{state.commander or 'Commander'}: the next stakeholder update for "
                    f"{state.reference} is due by {data['due_by']}. Post it with "
                    f"`incidentctl comms update {state.reference} ...`."
                )
            case _:
                who = data.get("escalated_to")
                targets = war + self._person(who)
                subject = f"OVERDUE stakeholder update: {head}"
                body = (
                    f"{who or 'Communications lead'}: the stakeholder update promised for "
                    f"{state.reference} by {data['due_by']} was not posted. Stakeholders are "
                    'waiting; post an update now ("still investigating" counts).'
                )
        return dsp.QueueDispatch(
            at=at,
            dispatch_id=request.dispatch_id,
            purpose=request.purpose.value,
            incident_id=state.incident_id,
            reference=state.reference,
            subject=subject[:500],
            body=body,
            severity=state.severity.value if state.severity else "",
            targets=tuple(_dedupe(targets)),
        )

    def _person(self, user: str | None) -> list[dsp.Target]:
        address = self.contacts.get(user or "")
        if not address:
            return []
        return [dsp.Target(target_id=f"person.{user}", kind=dsp.TargetKind.EMAIL, address=address)]

    @staticmethod
    def _target(destination: rm.Destination) -> dsp.Target:
        return dsp.Target(
            target_id=f"{destination.role.value}.{destination.channel_id}",
            kind=dsp.TargetKind(destination.kind.value),
            address=destination.address,
        )

    def _status_message(self, request: Request, at: datetime) -> dsp.QueueDispatch:
        page = self.runtime.page()
        if request.purpose is dsp.Purpose.CONFIRM_SUBSCRIPTION:
            state: sub.Subscriber = self.runtime.model.state(request.stream)[0]
            assert state.subscriber_id is not None
            change = request.event_type == "SubscriptionChangeRequested"
            token = self.links.confirm_token(
                request.stream, datetime.fromisoformat(request.data["requested_at"]), change=change
            )
            link = (
                f"{self.links.page_url}/subscriptions/{state.subscriber_id}/confirm?token={token}"
            )
            wanted = list(request.data.get("component_ids") or [])
            return dsp.QueueDispatch(
                at=at,
                dispatch_id=request.dispatch_id,
                purpose=request.purpose.value,
                reference=page.name,
                subject=(
                    f"Confirm the change to your subscription to {page.name}"
                    if change
                    else f"Confirm your subscription to {page.name}"
                ),
                body=(
                    (
                        f"Someone (we hope you) asked to change which {page.name} components "
                        f"{state.address} follows, to: {', '.join(wanted) or 'all'}. "
                        f"Confirm with this link: {link}\n\n"
                        "If it was not you, ignore this message: your subscription stays "
                        "as it is."
                    )
                    if change
                    else (
                        f"Someone (we hope you) asked to receive {page.name} notifications at "
                        f"{state.address}. Confirm with this link: {link}\n\n"
                        "If it was not you, ignore this message: nothing will be sent."
                    )
                ),
                targets=(
                    dsp.Target(
                        target_id=str(state.subscriber_id),
                        kind=dsp.TargetKind.EMAIL,
                        address=state.address,
                    ),
                ),
            )
        if request.purpose is dsp.Purpose.COMPONENT_UPDATE:
            return self._component_update(request, page, at)
        incident: si.StatusIncident = self.runtime.model.state(request.stream)[0]
        assert incident.drafted is not None
        drafted = incident.drafted
        update = incident.updates[-1]
        for candidate in incident.updates:
            if notice_id(candidate.update_id) == request.dispatch_id:
                update = candidate
        components = drafted.component_ids
        # Maintenance reaches every subscriber of the page, per-component ones too.
        targets = self._subscriber_targets(components, everyone=drafted.kind is si.Kind.MAINTENANCE)
        label = "Maintenance" if drafted.kind is si.Kind.MAINTENANCE else "Incident"
        status_words = update.status.value.replace("_", " ")
        return dsp.QueueDispatch(
            at=at,
            dispatch_id=request.dispatch_id,
            purpose=request.purpose.value,
            incident_id=drafted.incident_id,
            reference=page.name,
            subject=f"[{page.name}] {label} {status_words}: {drafted.name}",
            body=update.body,
            severity=incident.impact.value,
            targets=tuple(targets),
        )

    def _component_update(self, request: Request, page: sp.Page, at: datetime) -> dsp.QueueDispatch:
        data = request.data
        component = page.components.get(data["component_id"])
        name = component.name if component else data["component_id"]
        old, new = data["old_status"], data["new_status"]
        return dsp.QueueDispatch(
            at=at,
            dispatch_id=request.dispatch_id,
            purpose=request.purpose.value,
            reference=page.name,
            subject=f"[{page.name}] {name} is now {new.replace('_', ' ')}",
            body=f"{name} changed from {old.replace('_', ' ')} to {new.replace('_', ' ')}.",
            severity=new,
            targets=tuple(self._subscriber_targets([data["component_id"]], everyone=False)),
            data={
                "component_id": data["component_id"],
                "old_status": old,
                "new_status": new,
                "created_at": data["changed_at"],
            },
        )

    def _subscriber_targets(self, components: Sequence[str], *, everyone: bool) -> list[dsp.Target]:
        return [
            dsp.Target(
                target_id=str(s.subscriber_id),
                kind=dsp.TargetKind(s.kind.value if s.kind else "email"),
                address=s.address,
                unsubscribe_url=self.links.unsubscribe_url(s.subscriber_id),
            )
            for s in self.runtime.subscribers()
            if s.status is sub.Status.CONFIRMED
            and s.subscriber_id is not None
            and (everyone or s.follows(components))
        ]


def _dedupe(targets: Sequence[dsp.Target]) -> list[dsp.Target]:
    seen: set[str] = set()
    out = []
    for target in targets:
        if target.target_id not in seen:
            seen.add(target.target_id)
            out.append(target)
    return out
