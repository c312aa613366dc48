"""The public status page: its configuration, components and status-page incidents.

Owns configuring the page, its component groups and components and their statuses,
and the status-page incidents and scheduled maintenances: drafting one (optionally
linked to a tracked incident), posting its updates (whose component statuses apply to
the page), internal notes and publishing. What subscribers are then told is queued by
the outbox (`outbox.py`); a maintenance's automatic steps are the scheduler's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from appkit import CommandResult
from comms_service import status_incident as si
from comms_service import statuspage as sp
from comms_service.common import build, derived_id
from comms_service.outbox import Outbox
from comms_service.rooms import Rooms
from comms_service.runtime import Runtime
from comms_service.views import View
from contracts.domain import InvalidCommandError, NotFoundError


class Publishing:
    def __init__(self, runtime: Runtime, rooms: Rooms, outbox: Outbox) -> None:
        self.runtime = runtime
        self.rooms = rooms
        self.outbox = outbox

    def configure_page(
        self, *, name: str, url: str, time_zone: str = "UTC", by: str
    ) -> CommandResult[Any]:
        command = build(
            sp.ConfigurePage, at=self.runtime.clock(), name=name, url=url, time_zone=time_zone
        )
        return self.runtime.run(sp.STREAM_CATEGORY, sp.PAGE_STREAM, command, actor=by)

    def add_group(
        self, group_id: str, name: str, *, description: str = "", by: str
    ) -> CommandResult[Any]:
        command = build(
            sp.AddGroup,
            at=self.runtime.clock(),
            group_id=group_id,
            name=name,
            description=description,
        )
        return self.runtime.run(sp.STREAM_CATEGORY, sp.PAGE_STREAM, command, actor=by)

    def add_component(
        self,
        component_id: str,
        name: str,
        *,
        description: str = "",
        group_id: str | None = None,
        only_show_if_degraded: bool = False,
        by: str,
    ) -> CommandResult[Any]:
        command = build(
            sp.AddComponent,
            at=self.runtime.clock(),
            component_id=component_id,
            name=name,
            description=description,
            group_id=group_id or None,
            only_show_if_degraded=only_show_if_degraded,
        )
        return self.runtime.run(sp.STREAM_CATEGORY, sp.PAGE_STREAM, command, actor=by)

    def effective_status(self, component_id: str) -> sp.ComponentStatus:
        """What the component's status is now: the last set directly or by any
        status-page incident's update (drafts included: the internal page's view)."""
        return View(self.runtime.model, public=False, now=self.runtime.clock()).component_status(
            component_id
        )

    def set_component_status(
        self, component_id: str, status: str, *, by: str
    ) -> CommandResult[Any]:
        command = build(
            sp.SetComponentStatus,
            at=self.runtime.clock(),
            component_id=component_id,
            status=status,
            changed_by=by,
            current=self.effective_status(component_id),
        )
        return self.runtime.run(sp.STREAM_CATEGORY, sp.PAGE_STREAM, command, actor=by)

    def check_components(self, ids: Sequence[str], field_name: str = "component_ids") -> None:
        known = self.runtime.page().components
        for index, component_id in enumerate(ids):
            if component_id not in known:
                raise InvalidCommandError(
                    f"{field_name}[{index}]", f"no component {component_id!r}"
                )

    def draft_status_incident(
        self,
        *,
        name: str,
        body: str,
        by: str,
        impact: str = "minor",
        component_ids: Sequence[str] = (),
        internal_only: bool = False,
        incident: str | None = None,
        kind: str = "incident",
        scheduled_for: datetime | None = None,
        scheduled_until: datetime | None = None,
        key: str | None = None,
    ) -> CommandResult[Any]:
        self.check_components(component_ids)
        incident_id = self.rooms.find_incident(incident) if incident else None
        status_id = derived_id("status-incident", key) if key else uuid.uuid4()
        command = build(
            si.DraftIncident,
            at=self.runtime.clock(),
            status_incident_id=status_id,
            kind=kind,
            name=name,
            impact=impact,
            component_ids=tuple(component_ids),
            internal_only=internal_only,
            incident_id=incident_id,
            scheduled_for=scheduled_for,
            scheduled_until=scheduled_until,
            drafted_by=by,
            body=body,
        )
        return self.runtime.run(
            si.STREAM_CATEGORY, si.stream_for(status_id), command, actor=by, key=key
        )

    def status_incident(self, status_id: uuid.UUID) -> si.StatusIncident:
        state, _ = self.runtime.model.state(si.stream_for(status_id))
        if state.drafted is None:
            raise NotFoundError(f"no status-page incident {status_id}")
        return state  # type: ignore[no-any-return]

    def post_status_update(
        self,
        status_id: uuid.UUID,
        *,
        status: str,
        body: str,
        by: str,
        impact: str | None = None,
        components: Mapping[str, str] | None = None,
        deliver_notifications: bool = True,
        key: str | None = None,
    ) -> CommandResult[Any]:
        """An update; its component statuses apply to the page (public once published)."""
        self.status_incident(status_id)
        changes = []
        page = self.runtime.page()
        for index, (component_id, new_status) in enumerate((components or {}).items()):
            component = page.components.get(component_id)
            if component is None:
                raise InvalidCommandError(f"components[{index}]", f"no component {component_id!r}")
            changes.append(
                {
                    "component_id": component_id,
                    "old_status": self.effective_status(component_id),
                    "new_status": new_status,
                }
            )
        command = build(
            si.PostStatusUpdate,
            at=self.runtime.clock(),
            update_id=derived_id("status-update", status_id, key) if key else uuid.uuid4(),
            status=status,
            body=body,
            impact=impact,
            affected_components=tuple(changes),
            deliver_notifications=deliver_notifications,
            posted_by=by,
        )
        result = self.runtime.run(
            si.STREAM_CATEGORY, si.stream_for(status_id), command, actor=by, key=key
        )
        self.outbox.queue_requested()
        return result

    def add_internal_note(self, status_id: uuid.UUID, body: str, *, by: str) -> CommandResult[Any]:
        self.status_incident(status_id)
        command = build(
            si.AddInternalNote, at=self.runtime.clock(), note_id=uuid.uuid4(), body=body, author=by
        )
        return self.runtime.run(si.STREAM_CATEGORY, si.stream_for(status_id), command, actor=by)

    def publish(self, status_id: uuid.UUID, *, by: str) -> CommandResult[Any]:
        self.status_incident(status_id)
        command = build(si.Publish, at=self.runtime.clock(), published_by=by)
        result = self.runtime.run(si.STREAM_CATEGORY, si.stream_for(status_id), command, actor=by)
        self.outbox.queue_requested()
        return result
