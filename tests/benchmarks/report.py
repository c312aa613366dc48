"""Turns benchmark results into the comparison table, the target verdicts and
docs/benchmarks.md. Pure formatting: nothing here measures anything."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks.eventlog_bench import MEASUREMENTS, Cell, Config, Results

NOTES_BEGIN = "<!-- analysis-notes:begin (hand-written; kept when the file is regenerated) -->"
NOTES_END = "<!-- analysis-notes:end -->"
NOTES_PLACEHOLDER = (
    "_Placeholder: explain each MISS here (what the profile shows, what would fix it). "
    "This block is written by hand and kept when `make bench` regenerates the file; "
    "re-check it against the numbers above after every run._"
)


@dataclass(frozen=True)
class Row:
    backend: str
    measurement: str
    label: str
    ours: Cell
    raw: Cell
    eventsourcing: Cell
    eventsourcing_normal: Cell = field(default_factory=Cell)
    """eventsourcing with `PRAGMA synchronous=NORMAL`, our durability (SQLite only)."""

    def ratio(self, other: str) -> float | None:
        mine = self.ours.best
        theirs = getattr(self, other).best
        if mine is None or not theirs:
            return None
        return mine / theirs


@dataclass(frozen=True)
class Target:
    backend: str
    measurement: str
    against: str  # "raw", "eventsourcing" or "eventsourcing_normal"
    minimum: float
    description: str


@dataclass(frozen=True)
class Verdict:
    target: Target
    ratio: float | None
    reason: str | None = None

    @property
    def status(self) -> str:
        if self.ratio is None:
            return "n/a"
        return "PASS" if self.ratio >= self.target.minimum else "MISS"


TARGETS = (
    Target(
        "sqlite", "single", "eventsourcing", 3.0, "SQLite single-event append >= 3x eventsourcing"
    ),
    Target("sqlite", "single", "raw", 0.5, "SQLite single-event append >= 0.5x raw sqlite3"),
    Target(
        "sqlite",
        "single",
        "eventsourcing_normal",
        1.5,
        "SQLite single-event append >= 1.5x eventsourcing at equal durability (synchronous=NORMAL)",
    ),
    Target("sqlite", "rebuild", "eventsourcing", 5.0, "SQLite stream rebuild >= 5x eventsourcing"),
    Target("sqlite", "read_all_bare", "raw", 0.5, "SQLite read_all (data not touched) >= 0.5x raw"),
    Target("sqlite", "read_all_data", "raw", 0.5, "SQLite read_all (.data decoded) >= 0.5x raw"),
    Target(
        "postgres", "rebuild", "eventsourcing", 5.0, "PostgreSQL stream rebuild >= 5x eventsourcing"
    ),
    Target(
        "postgres",
        "read_all_bare",
        "raw",
        0.5,
        "PostgreSQL read_all (data not touched) >= 0.5x raw",
    ),
    Target(
        "postgres", "read_all_data", "raw", 0.5, "PostgreSQL read_all (.data decoded) >= 0.5x raw"
    ),
)


def build_rows(results: Results, config: Config, backends: tuple[str, ...]) -> list[Row]:
    rows = []
    for backend in backends:
        for measurement in MEASUREMENTS:
            cells = [
                results.get((backend, measurement, s), Cell())
                for s in ("ours", "raw", "eventsourcing", "eventsourcing_normal")
            ]
            label = config.label(measurement)
            if measurement.startswith("read_all"):
                counts = sorted({cell.events for cell in cells if cell.rates})
                if len(counts) == 1:
                    label += f" ({counts[0]:,} events)"
                elif counts:
                    label += " (event counts differ: " + ", ".join(f"{c:,}" for c in counts) + ")"
            rows.append(Row(backend, measurement, label, *cells))
    return rows


def verdicts(rows: list[Row]) -> list[Verdict]:
    by_key = {(row.backend, row.measurement): row for row in rows}
    out = []
    for target in TARGETS:
        row = by_key.get((target.backend, target.measurement))
        if row is None:
            continue  # backend not run (--only)
        ratio = row.ratio(target.against)
        reason = None
        if ratio is None:
            reason = (
                describe(row.ours)
                if row.ours.best is None
                else describe(getattr(row, target.against))
            )
        out.append(Verdict(target, ratio, reason))
    return out


def describe(cell: Cell) -> str:
    if cell.unavailable:
        return f"not available ({cell.unavailable})"
    if cell.error:
        return f"failed ({cell.error})"
    if cell.best is None:
        return "not measured"
    return f"{cell.best:,.0f}/s"


def rate(cell: Cell) -> str:
    if cell.best is not None:
        return f"{cell.best:,.0f}"
    if cell.unavailable:
        return "not available"
    return "failed" if cell.error else "-"


def ratio_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


HEADERS = (
    "backend",
    "measurement",
    "ours",
    "raw",
    "eventsourcing",
    "ours/raw",
    "ours/eventsourcing",
)


def table_cells(row: Row) -> tuple[str, ...]:
    return (
        row.backend,
        row.label,
        rate(row.ours),
        rate(row.raw),
        rate(row.eventsourcing),
        ratio_text(row.ratio("raw")),
        ratio_text(row.ratio("eventsourcing")),
    )


def markdown_table(
    headers: tuple[str, ...], body: list[tuple[str, ...]], right_from: int = 2
) -> str:
    align = ["---" if i < right_from else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)


def plain_table(headers: tuple[str, ...], body: list[tuple[str, ...]]) -> str:
    widths = [
        max(len(h), *(len(c[i]) for c in body)) if body else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join(
        [line(headers), line(tuple("-" * w for w in widths)), *(line(c) for c in body)]
    )


def print_console(rows: list[Row], found: list[Verdict]) -> None:
    body = [table_cells(row) for row in rows]
    verdict_body = [(v.status, v.target.description, ratio_text(v.ratio)) for v in found]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(plain_table(HEADERS, body))
        print()
        print(plain_table(("status", "target", "measured"), verdict_body))
        return
    console = Console()
    if not console.is_terminal:  # piped: rich would squeeze the table into 80 columns
        console = Console(width=160)
    table = Table(title="Event-log throughput, events/s (best of repeats)")
    for index, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if index < 2 else "right")
    for cells in body:
        table.add_row(*cells)
    console.print(table)
    targets = Table(title="Targets")
    for header in ("status", "target", "measured"):
        targets.add_column(header)
    for status, description, measured in verdict_body:
        style = {"PASS": "green", "MISS": "red"}.get(status, "yellow")
        targets.add_row(f"[{style}]{status}[/{style}]", description, measured)
    console.print(targets)


def _us(events_per_second: float) -> str:
    return f"{1_000_000 / events_per_second:,.1f} µs"


def miss_numbers(verdict: Verdict, rows: list[Row]) -> str:
    """How far off a MISS is, in ratios and in time per event."""
    target = verdict.target
    row = next(
        r for r in rows if (r.backend, r.measurement) == (target.backend, target.measurement)
    )
    ours = row.ours.best
    other = getattr(row, target.against).best
    assert ours is not None
    assert other is not None
    assert verdict.ratio is not None
    needed = target.minimum * other
    return (
        f"- **{target.description}: MISS.** Measured {verdict.ratio:.2f}x "
        f"({ours:,.0f} vs {other:,.0f} events/s; {_us(ours)} vs {_us(other)} per event). "
        f"Passing needs {needed:,.0f} events/s ({_us(needed)} per event), "
        f"{needed / ours:.2f}x the current rate."
    )


def existing_notes(path: Path) -> str | None:
    if not path.exists():
        return None
    match = re.search(
        re.escape(NOTES_BEGIN) + r"\n(.*?)\n" + re.escape(NOTES_END), path.read_text(), re.S
    )
    return match.group(1) if match else None


def spread(cell: Cell) -> str:
    if not cell.rates:
        return describe(cell)
    return " / ".join(f"{value:,.0f}" for value in cell.rates)


def markdown(
    *,
    rows: list[Row],
    found: list[Verdict],
    results: Results,
    config: Config,
    machine: list[tuple[str, str]],
    command: str,
    date: str,
    elapsed: float,
    notes: str | None,
) -> str:
    backends = sorted({row.backend for row in rows}, key=["sqlite", "postgres"].index)
    out: list[str] = []
    out.append("# Event-log benchmarks\n")
    out.append(
        f"Written by {command} on {date}; the whole run took {elapsed:.0f} s. "
        "Do not edit by hand except inside the analysis-notes block, which is kept on rewrite.\n"
    )
    out.append("## Machine\n")
    out += [f"- {key}: {value}" for key, value in machine]
    out.append("")
    out.append("## Method\n")
    out.append(
        f"Every figure is **events per second, the best (highest) of {config.repeats} run(s)**; "
        "all repeats are listed under *Spread*. Repeats are interleaved across the three "
        "subjects, and each subject has its own SQLite file (WAL) in a temporary directory, or "
        "its own fresh PostgreSQL schema, dropped afterwards.\n"
    )
    out.append(
        "- **ours**: `eventlog.open_store(...)` (`EventStore.append/read_stream/read_all`): "
        "validation, ownership, canonical JSON, SHA-256 hash chain, expected-version check.\n"
        "- **raw**: the plain driver on a comparable table (position, event id, stream, "
        "version, type, data JSON text, metadata text, timestamp; UNIQUE (stream, version)). "
        "sqlite3 uses WAL and `synchronous=NORMAL` like our backend; psycopg inserts single "
        "rows in autocommit (one statement, one transaction) and batches with `executemany` in "
        "one transaction. It encodes data with `json.dumps` but checks nothing.\n"
        "- **eventsourcing** 9.5: an `Application` with one `Aggregate` class: "
        "`aggregate.note(...)` + `app.save(aggregate)` per append, `app.repository.get(id)` "
        "for the rebuild (which also builds domain-event objects and applies them to the "
        "aggregate), `recorder.select_notifications` in pages of 1,000 for read_all, decoding "
        "`state` with the app's transcoder in the data variant. Its SQLite recorder runs with "
        "the library's defaults, which leave `synchronous` at SQLite's default FULL (an fsync "
        "of the WAL per commit); see *Supplementary* for the same run at NORMAL.\n"
    )
    out.append(
        f"Work per measurement: single-event appends: {config.single_appends:,} appends of one "
        f"event, round-robin over {config.streams} existing streams, exact expected version. "
        f"Batched: {config.batches} appends of {config.batch_size} events over 10 streams. "
        f"Rebuild: one {config.rebuild_events:,}-event stream read in full, every event's data "
        "decoded. read_all: the whole log (every event written above) in commit order.\n"
    )
    out.append(
        "**Lazy decoding.** Our `RecordedEvent` keeps the stored JSON text and decodes `.data` "
        "on first access. The *data not touched* read_all row therefore skips all JSON work "
        "for us, for raw (tuples) and for eventsourcing (its `Notification` holds bytes); the "
        "*.data decoded* row is the one to compare with any projection that reads payloads.\n"
    )
    out.append("## Results (events/s, best of repeats)\n")
    out.append(markdown_table(HEADERS, [table_cells(row) for row in rows]))
    out.append("")
    out.append("## Targets\n")
    if found:
        out.append(
            markdown_table(
                ("status", "target", "measured"),
                [
                    (
                        v.status,
                        v.target.description,
                        ratio_text(v.ratio) if v.ratio is not None else v.reason or "n/a",
                    )
                    for v in found
                ],
                right_from=3,
            )
        )
    else:
        out.append("No targets apply to the backends run.")
    out.append("")
    out.append("## Supplementary\n")
    for backend in backends:
        normal = results.get((backend, "single", "eventsourcing_normal"))
        normal_batch = results.get((backend, "batch", "eventsourcing_normal"))
        ours_single = results.get((backend, "single", "ours"), Cell()).best
        if normal is not None and normal.best is not None and ours_single:
            batch_text = (
                f"; batched appends {normal_batch.best:,.0f} events/s"
                if normal_batch is not None and normal_batch.best is not None
                else ""
            )
            out.append(
                f"- {backend}: eventsourcing with `PRAGMA synchronous=NORMAL` (our durability "
                f"setting): single-event appends {normal.best:,.0f}/s, so ours is "
                f"{ours_single / normal.best:.2f}x it at equal durability{batch_text}."
            )
        records = results.get((backend, "rebuild", "eventsourcing_records"))
        ours_rebuild = results.get((backend, "rebuild", "ours"), Cell()).best
        if records is not None and records.best is not None and ours_rebuild:
            out.append(
                f"- {backend}: eventsourcing rebuild at the record level "
                f"(`recorder.select_events` + transcoder decode, no aggregate, i.e. the same work "
                f"as ours): {records.best:,.0f} events/s, so ours is "
                f"{ours_rebuild / records.best:.2f}x it."
            )
    out.append("")
    out.append("### Spread (events/s of every repeat)\n")
    order = ["ours", "raw", "eventsourcing", "eventsourcing_normal", "eventsourcing_records"]
    spread_rows = []
    for backend in backends:
        for measurement in MEASUREMENTS:
            for subject in order:
                cell = results.get((backend, measurement, subject))
                if cell is not None:
                    spread_rows.append((backend, MEASUREMENTS[measurement], subject, spread(cell)))
    out.append(
        markdown_table(("backend", "measurement", "subject", "runs"), spread_rows, right_from=3)
    )
    out.append("")
    out.append("## Analysis\n")
    misses = [v for v in found if v.status == "MISS"]
    unavailable = [v for v in found if v.status == "n/a"]
    if not misses:
        out.append("Every measured target passes.")
    out += [miss_numbers(v, rows) for v in misses]
    out += [f"- {v.target.description}: not measured: {v.reason}" for v in unavailable]
    out.append("")
    out.append(NOTES_BEGIN)
    out.append(notes if notes is not None else NOTES_PLACEHOLDER)
    out.append(NOTES_END)
    out.append("")
    return "\n".join(out)
