"""Communications' renderers (appkit.rendering, entry point `firewatch.renderers`): its
streams as the CommsService answered for them at an instant.

Owns the mapping from comms' stream categories to its live API's messages, built with
the API module's builders over the service's own read model (`model.CommsModel`)
rebuilt as of the instant, because the answers combine streams:
- an incident's room (`comms-*`) as GetIncidentComms' response: the room, how each
  channel's opening message fared and the delivery counts of its dispatches;
- a status-page incident or maintenance (`statusincident-*`) as ListStatusIncidents'
  `StatusIncident`;
- the status page (`statuspage-main`) as ListComponents' response, each component's
  status as the incidents and changes recorded by then set it.
Dispatches, subscribers and sender slots have no API message of their own and are not
rendered here. Dispatches fold with the default retry policy; since ADR 0036 the
decision to give up on an unconfirmed attempt is recorded in the event
(`DeliveriesUnconfirmed.given_up`), so only events written before it can fold
differently in a deployment that changed the policy. Never appends.
"""

from __future__ import annotations

from collections.abc import Sequence

from appkit.rendering import AsOfLog, Renderers
from comms_service import api
from comms_service import dispatch as dsp
from comms_service import room as rm
from comms_service import status_incident as si
from comms_service import statuspage as sp
from comms_service.cadence import CadencePolicy
from comms_service.model import CommsModel, aggregates
from comms_service.scheduler import dispatches_of, open_status_in
from comms_service.views import View
from eventlog import RecordedEvent
from firewatch.comms.v1 import comms_pb2 as pb


def model_as_of(log: AsOfLog) -> CommsModel:
    """The service's read model as it stood at the log's cut."""
    retry = dsp.RetryPolicy()
    deciders = aggregates(
        rm.make_decide(CadencePolicy()), dsp.make_decide(retry), dsp.make_evolve(retry)
    )
    return log.project(lambda: CommsModel(deciders.values()))


def render_room(
    stream: str, events: Sequence[RecordedEvent], log: AsOfLog
) -> pb.GetIncidentCommsResponse | None:
    model = model_as_of(log)
    room: rm.Room = model.state(stream)[0]
    if not room.tracked or room.incident_id is None:
        return None
    incident_id = room.incident_id
    return api.incident_comms_message(
        room,
        dispatches_of(model, incident_id),
        lambda channel: open_status_in(model, incident_id, channel),
    )


def render_status_incident(
    stream: str, events: Sequence[RecordedEvent], log: AsOfLog
) -> pb.StatusIncident | None:
    state: si.StatusIncident = model_as_of(log).state(stream)[0]
    return None if state.drafted is None else api.status_incident_message(state)


def render_status_page(
    stream: str, events: Sequence[RecordedEvent], log: AsOfLog
) -> pb.ListComponentsResponse | None:
    if stream != sp.PAGE_STREAM:
        return None
    return api.components_message(View(model_as_of(log), public=False, now=log.at))


RENDERERS = Renderers(
    "comms",
    {
        rm.STREAM_CATEGORY: render_room,
        si.STREAM_CATEGORY: render_status_incident,
        sp.STREAM_CATEGORY: render_status_page,
    },
)
