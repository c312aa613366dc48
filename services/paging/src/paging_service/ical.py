"""iCalendar (RFC 5545) export of a schedule's shifts, built with `icalendar`.

Owns the feed format only: one VEVENT per final shift (overrides and layers already
resolved by schedule.shifts), times in UTC, and UIDs derived from the schedule, the
person and the shift's start so that re-exporting the same range updates the events a
calendar already has instead of duplicating them. Pure: the caller passes the
generation time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from icalendar import Calendar, Event

from paging_service.common import derived_id
from paging_service.schedule import Schedule, Shift

PRODID = "-//Firewatch//Paging on-call schedule//EN"


def export_ical(
    schedule: Schedule,
    shifts: Sequence[Shift],
    *,
    generated_at: datetime,
    user_names: Mapping[str, str] | None = None,
) -> bytes:
    names = user_names or {}
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"On call: {schedule.name}")
    calendar.add("x-wr-timezone", schedule.time_zone)
    for shift in shifts:
        who = names.get(shift.user_id, shift.user_id)
        event = Event()
        uid = derived_id("ical", schedule.schedule_id, shift.user_id, shift.start.isoformat())
        event.add("uid", f"{uid}@firewatch")
        event.add("dtstamp", generated_at.astimezone(UTC))
        event.add("dtstart", shift.start.astimezone(UTC))
        event.add("dtend", shift.end.astimezone(UTC))
        event.add("summary", f"On call: {who} ({schedule.name})")
        event.add("description", f"{who} is on call for {schedule.name} ({shift.source}).")
        event.add("categories", ["on-call"])
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    feed: bytes = calendar.to_ical()
    return feed
