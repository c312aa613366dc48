"""What a reader sees of a postmortem: one view model for the gRPC API, the HTML pages
and the Markdown export, and the renderers (jinja2, autoescaped HTML; Markdown with
user text escaped so it cannot inject links or HTML).

It reads through the application only; it never decides or appends.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from postmortem_service import action as ac
from postmortem_service import postmortem as pm
from postmortem_service.app import PostmortemApplication
from postmortem_service.blameless import Warning as BlamelessWarning
from postmortem_service.prefill import Durations, Prefill

_TEMPLATES = Environment(
    loader=PackageLoader("postmortem_service", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Line:
    entry_id: str
    at: datetime
    source: str
    text: str
    generated: bool
    added_by: str
    notes: tuple[pm.Note, ...]


@dataclass(frozen=True, slots=True)
class View:
    state: pm.Postmortem
    reference: str
    timeline: tuple[Line, ...]
    responders: tuple[str, ...]
    components: tuple[str, ...]
    durations: Durations
    warnings: tuple[BlamelessWarning, ...]
    items: tuple[ac.ActionItem, ...]
    now: datetime

    @property
    def sections(self) -> list[tuple[str, str, str]]:
        """(key, title, text) in document order, amendments shown separately."""
        rows = [("root_cause", "Root cause", self.state.root_cause or "")]
        rows += [
            (s.value, pm.SECTION_TITLES[s.value], self.state.sections.get(s.value, ""))
            for s in pm.Section
        ]
        order = [
            "summary",
            "impact",
            "root_cause",
            "contributing_factors",
            "went_well",
            "went_wrong",
            "got_lucky",
            "lessons",
        ]
        return sorted(rows, key=lambda r: order.index(r[0]))


def reference(state: pm.Postmortem) -> str:
    return f"INC-{state.number}" if state.number else f"incident {str(state.incident_id)[:8]}"


def build_view(app: PostmortemApplication, incident_id: uuid.UUID) -> View:
    state = app.get_postmortem(incident_id)
    filled = app.prefill(incident_id)
    warnings = () if state.published else tuple(app.warnings(incident_id))
    items = app.list_action_items(incident_id=incident_id)
    return assemble_view(state, filled, warnings, items, app.clock())


def assemble_view(
    state: pm.Postmortem,
    filled: Prefill,
    warnings: Sequence[BlamelessWarning],
    items: Sequence[ac.ActionItem],
    now: datetime,
) -> View:
    """The view from its parts, read as of now (build_view) or as of an instant (the
    replay renderer, postmortem_service.rendering)."""
    notes: dict[str, list[pm.Note]] = {}
    for note in state.notes:
        notes.setdefault(note.entry_id, []).append(note)
    lines = [
        Line(
            e.entry_id,
            e.at,
            e.source,
            e.text,
            True,
            e.actor or "",
            tuple(notes.get(e.entry_id, ())),
        )
        for e in filled.entries
    ] + [
        Line(
            e.entry_id,
            e.occurred_at,
            "manual",
            e.text,
            False,
            e.added_by,
            tuple(notes.get(e.entry_id, ())),
        )
        for e in state.entries
    ]
    lines.sort(key=lambda line: line.at)
    return View(
        state,
        reference(state),
        tuple(lines),
        filled.responders,
        filled.components,
        filled.durations,
        tuple(warnings),
        tuple(items),
        now,
    )


def minutes(value: Any) -> str:
    if value is None:
        return "—"
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else float(value)
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>])")


def md(text: object) -> str:
    """User text for Markdown: special characters escaped, so no link, image or HTML."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


_TEMPLATES.filters["minutes"] = minutes
_TEMPLATES.filters["md"] = md


def markdown(view: View) -> str:
    return _TEMPLATES.get_template("postmortem.md").render(v=view)


def html(view: View, *, base: str = "") -> str:
    return _TEMPLATES.get_template("postmortem.html").render(v=view, base=base)


def html_list(
    postmortems: list[pm.Postmortem],
    items: list[ac.ActionItem],
    filters: dict[str, str],
    now: datetime,
    *,
    base: str = "",
) -> str:
    return _TEMPLATES.get_template("list.html").render(
        postmortems=postmortems, items=items, filters=filters, now=now, base=base,
        reference=reference,
    )  # fmt: skip


ITEM_FIELDS = (
    "action_id", "incident_id", "kind", "title", "owner", "due_on", "priority", "status",
    "tracker_url", "declined_reason", "overdue",
)  # fmt: skip


def item_row(item: ac.ActionItem, now: datetime) -> dict[str, Any]:
    return {
        "action_id": str(item.action_id),
        "incident_id": str(item.incident_id),
        "kind": item.kind.value,
        "title": item.title,
        "owner": item.owner,
        "due_on": item.due_on.isoformat() if item.due_on else "",
        "priority": item.priority.value,
        "status": item.status.value,
        "tracker_url": item.tracker_url or "",
        "declined_reason": item.declined_reason or "",
        "overdue": item.overdue(now),
    }


def _csv_safe(value: Any) -> Any:
    # Spreadsheet formula injection: a cell starting with = + - @ is data, not a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def export_items(items: list[ac.ActionItem], now: datetime, fmt: str) -> str:
    rows = [item_row(i, now) for i in items]
    if fmt == "json":
        return json.dumps(rows, indent=2)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ITEM_FIELDS))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_safe(v) for k, v in row.items()})
    return out.getvalue()


def postmortem_row(state: pm.Postmortem) -> dict[str, Any]:
    return {
        "incident_id": str(state.incident_id),
        "reference": reference(state),
        "title": state.title,
        "severity": state.severity.value,
        "status": state.status.value,
        "owner": state.owner,
        "due_on": state.due_on.isoformat() if state.due_on else "",
        "published_at": state.published_at.isoformat() if state.published_at else "",
    }


def export_postmortems(states: list[pm.Postmortem], fmt: str) -> str:
    rows = [postmortem_row(s) for s in states]
    if fmt == "json":
        return json.dumps(rows, indent=2)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["incident_id"])
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_safe(v) for k, v in row.items()})
    return out.getvalue()


def durations_dict(d: Durations) -> dict[str, Any]:
    return {
        k: (v.total_seconds() if hasattr(v, "total_seconds") else v) for k, v in asdict(d).items()
    }
