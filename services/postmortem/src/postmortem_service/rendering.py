"""Postmortem's renderers (appkit.rendering, entry point `firewatch.renderers`): its
streams as the PostmortemService answered for them at an instant.

Owns the mapping from postmortem's stream categories to its live API's messages:
- a postmortem (`postmortem-*`) as GetPostmortem's `Postmortem`: the service's read
  models (postmortems and action items, the user directory, the timeline index) are
  rebuilt as of the instant and the view is assembled and built into the message with
  the same functions GetPostmortem uses (`views.assemble_view`,
  `api.postmortem_message`), "now" being the instant;
- an action item (`action-*`) as one of ListActionItems' `ActionItem`s, `overdue`
  judged at the instant.
Reminder, webhook and sender streams have no API message and are not rendered here.
Never appends.
"""

from __future__ import annotations

from collections.abc import Sequence

from appkit.rendering import AsOfLog, Renderers
from eventlog import RecordedEvent
from firewatch.postmortem.v1 import postmortem_pb2 as pb
from postmortem_service import action as ac
from postmortem_service import postmortem as pm
from postmortem_service import views
from postmortem_service.api import item_message, postmortem_message
from postmortem_service.app import aggregates, in_list_order, prefill_from
from postmortem_service.common import EVENTS
from postmortem_service.model import Directory, PostmortemModel
from postmortem_service.prefill import TimelineIndex


def render_postmortem(
    stream: str, events: Sequence[RecordedEvent], log: AsOfLog
) -> pb.Postmortem | None:
    policy = ac.ReminderPolicy()
    model = log.project(lambda: PostmortemModel(aggregates(policy), policy))
    state, version = model.state(stream)
    if version is None or state.incident_id is None:
        return None
    incident_id = state.incident_id
    filled = prefill_from(log.project(TimelineIndex), state, incident_id, log.stream)
    warnings = () if state.published else pm.open_warnings(state, log.project(Directory).people())
    items = in_list_order(model.items_of(incident_id), log.at)
    return postmortem_message(views.assemble_view(state, filled, warnings, items, log.at))


def render_action_item(
    stream: str, events: Sequence[RecordedEvent], log: AsOfLog
) -> pb.ActionItem | None:
    state = ac.fold(EVENTS.from_recorded(e) for e in events)
    return item_message(state, log.at) if state.exists else None


RENDERERS = Renderers(
    "postmortem",
    {pm.STREAM_CATEGORY: render_postmortem, ac.STREAM_CATEGORY: render_action_item},
)
