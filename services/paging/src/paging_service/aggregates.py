"""Paging's aggregates as the kit runs them, and paging's event-id formulas (appkit,
ADR 0013).

Owns that wiring only; the rules stay in the pure domain modules. Directory aggregates
(users, teams, schedules, policies) and sender slots belong to no incident, so their
events carry no correlation id; an escalation is named after its incident, and a page
names its incident in its state.
"""

from __future__ import annotations

from appkit import Aggregate, EventIds, uncorrelated
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service import policy as pol
from paging_service import schedule as sch
from paging_service import sender as snd
from paging_service import team as tm
from paging_service import user as usr
from paging_service.common import ID_NAMESPACE

EVENT_IDS = EventIds(ID_NAMESPACE, "{stream}/{key}/{index}")
"""uuid5 of "<stream>/<key>/<index>": `common.derived_id(stream, key, index)`, fixed
forever (timer firings and follow-ups already stored carry these ids)."""
ATTEMPT_IDS = EventIds(ID_NAMESPACE, "{stream}/{key}")
"""A delivery attempt's id, `derived_id(stream, "attempt", method, n)`, with the key
`attempt/<method>/<n>`: receivers see it as the message's idempotency key."""

USER = Aggregate(usr.STREAM_CATEGORY, usr.INITIAL, usr.decide, usr.evolve, uncorrelated)
TEAM = Aggregate(tm.STREAM_CATEGORY, tm.INITIAL, tm.decide, tm.evolve, uncorrelated)
SCHEDULE = Aggregate(sch.STREAM_CATEGORY, sch.INITIAL, sch.decide, sch.evolve, uncorrelated)
POLICY = Aggregate(pol.STREAM_CATEGORY, pol.INITIAL, pol.decide, pol.evolve, uncorrelated)
SENDER = Aggregate(snd.STREAM_CATEGORY, snd.INITIAL, snd.decide, snd.evolve, uncorrelated)
ESCALATION = Aggregate(esc.STREAM_CATEGORY, esc.INITIAL, esc.decide, esc.evolve)


def page_aggregate(retry: pg.RetryPolicy) -> Aggregate[pg.PageCommand, pg.Page]:
    """Pages decide with the deployment's retry policy; their events name the incident."""
    return Aggregate(
        pg.STREAM_CATEGORY,
        pg.INITIAL,
        lambda command, state: pg.decide(command, state, retry),
        pg.evolve,
        lambda stream, state: str(state.incident_id) if state.incident_id else None,
    )


def attempt_key(method_id: str, attempt: int) -> str:
    return f"attempt/{method_id}/{attempt}"
