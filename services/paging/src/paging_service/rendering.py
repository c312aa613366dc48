"""Paging's renderers (appkit.rendering, entry point `firewatch.renderers`): its
streams as the OnCallService answered for them at an instant.

Owns the mapping from paging's stream categories to its live API's messages: a
schedule as GetSchedule's `Schedule`, a policy as GetPolicy's `Policy`, an escalation
as ListPages' `Escalation`, a page as one of ListPages' `Page`s, a user as
RegisterUser's `User`. Each folds the stream with the aggregate's own pure `fold` and
builds the message with the API module's builder, so the two cannot drift. Teams and
sender slots have no API message; they are not rendered here. Never appends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from appkit.rendering import AsOfLog, Renderers
from eventlog import RecordedEvent
from firewatch.oncall.v1 import oncall_pb2 as pb
from paging_service import api_messages
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service import policy as pol
from paging_service import schedule as sch
from paging_service import user as usr
from paging_service.registry import EVENTS


def _folded(fold: Callable[..., Any], events: Sequence[RecordedEvent]) -> Any:
    return fold(EVENTS.from_recorded(e) for e in events)


def render_schedule(
    stream: str, events: Sequence[RecordedEvent], log: AsOfLog
) -> pb.Schedule | None:
    state: sch.Schedule = _folded(sch.fold, events)
    return api_messages.schedule_message(state) if state.created else None


def render_policy(stream: str, events: Sequence[RecordedEvent], log: AsOfLog) -> pb.Policy | None:
    state: pol.Policy = _folded(pol.fold, events)
    return api_messages.policy_message(state) if state.created else None


def render_escalation(
    stream: str, events: Sequence[RecordedEvent], log: AsOfLog
) -> pb.Escalation | None:
    state: esc.Escalation = _folded(esc.fold, events)
    if state.status is esc.Status.NOT_STARTED:
        return None
    return api_messages.escalation_message(state)


def render_page(stream: str, events: Sequence[RecordedEvent], log: AsOfLog) -> pb.Page | None:
    state: pg.Page = _folded(pg.fold, events)
    return None if state.status is pg.Status.NONE else api_messages.page_message(state)


def render_user(stream: str, events: Sequence[RecordedEvent], log: AsOfLog) -> pb.User | None:
    state: usr.User = _folded(usr.fold, events)
    return api_messages.user_message(state) if state.registered else None


RENDERERS = Renderers(
    "paging",
    {
        sch.STREAM_CATEGORY: render_schedule,
        pol.STREAM_CATEGORY: render_policy,
        esc.STREAM_CATEGORY: render_escalation,
        pg.STREAM_CATEGORY: render_page,
        usr.STREAM_CATEGORY: render_user,
    },
)
