"""The status-based uptime bars (a component without a synthetic check) against a
straightforward reference: the per-day rescan of the whole history the page used before
the one-pass sweep (`views.status_bars`). Randomised histories, seeded and so
reproducible: status changes at random instants, on midnights, at `now`, after it, before
the window, out of log order; and, through the real application on a SQLite log with a
fake clock, many components changed directly and by status-page incidents that span days,
some published, some drafts, some internal only, read by the public and the internal page
and again after a replay of the log. Results must be equal exactly (same floats).
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from comms_service import statuspage as sp
from comms_service.app import CommsApplication
from comms_service.views import View, status_bars
from contracts.domain import PreconditionFailedError
from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore

STATUSES = list(sp.ComponentStatus)
DOWN = (sp.ComponentStatus.PARTIAL_OUTAGE, sp.ComponentStatus.MAJOR_OUTAGE)


def reference(
    history: Sequence[tuple[datetime, sp.ComponentStatus]], now: datetime, days: int
) -> list[tuple[str, float, str]]:
    """Each day on its own: the status at its midnight (the last logged change at or
    before it), then its changes in log order up to its end (next midnight, or now)."""
    today = now.astimezone(UTC).date()
    out: list[tuple[str, float, str]] = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = min(start + timedelta(days=1), now)
        if end <= start:
            out.append((day.isoformat(), 1.0, "operational"))
            continue
        status = sp.ComponentStatus.OPERATIONAL
        for at, new in history:
            if at <= start:
                status = new
        down = timedelta(0)
        worst = status
        cursor = start
        for at, new in [*[(a, n) for a, n in history if start < a <= end], (end, status)]:
            if status in DOWN:
                down += at - cursor
            cursor, status = at, new
            if sp.SEVERITY_ORDER[new] > sp.SEVERITY_ORDER[worst]:
                worst = new
        total = (end - start).total_seconds()
        out.append((day.isoformat(), 1 - down.total_seconds() / total, worst.value))
    return out


def _midnight(at: datetime) -> datetime:
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


def _random_now(rng: random.Random) -> datetime:
    base = datetime(2026, 12, 4, tzinfo=UTC) + timedelta(days=rng.randint(-40, 40))
    match rng.randrange(4):
        case 0:
            return base  # exactly midnight: today has no time yet
        case 1:
            return base + timedelta(microseconds=1)
        case _:
            offset = timedelta(seconds=rng.randrange(86_400), microseconds=rng.randrange(10**6))
            return base + offset


def _random_instant(rng: random.Random, now: datetime, days: int) -> datetime:
    window = _midnight(now) - timedelta(days=max(days, 1) - 1)
    match rng.randrange(8):
        case 0:  # a midnight, inside the window or next to it
            return window + timedelta(days=rng.randint(-2, days + 1))
        case 1:
            return now
        case 2:  # after now (a clock ahead): ignored until its time comes
            return now + timedelta(seconds=rng.randint(1, 3 * 86_400))
        case 3:  # long before the window: only the starting status
            return window - timedelta(days=rng.randint(1, 400), seconds=rng.randrange(86_400))
        case 4:  # a microsecond either side of a midnight
            edge = window + timedelta(days=rng.randint(0, days))
            return edge + timedelta(microseconds=rng.choice((-1, 1)))
        case _:
            span = (now - window).total_seconds() + 86_400
            return window - timedelta(days=1) + timedelta(seconds=rng.uniform(0, span))


@pytest.mark.parametrize("seed", range(8))
def test_the_sweep_equals_the_per_day_scan_on_random_histories(seed: int) -> None:
    rng = random.Random(seed)
    compared = 0
    for _ in range(150):
        now = _random_now(rng)
        days = rng.choice((0, 1, 2, 3, 7, 30, 90, 90, 90, 120))
        instants = [_random_instant(rng, now, days) for _ in range(rng.randint(0, 80))]
        if rng.random() < 0.6:
            instants.sort()  # as one stream's clock records them; else out of log order
        if instants and rng.random() < 0.3:  # several changes at one instant
            instants.insert(rng.randrange(len(instants)), rng.choice(instants))
        # Runs of the same status: a flapping component, or long outages across midnights.
        history = [(at, rng.choice(STATUSES if rng.random() < 0.5 else DOWN)) for at in instants]
        expected = reference(history, now, days)
        assert status_bars(history, now, days) == expected, (seed, now, days, history)
        compared += len(expected)
    assert compared > 5_000  # the cases really drew bars


def test_a_change_at_midnight_closes_the_day_before_and_opens_the_next() -> None:
    midnight = datetime(2026, 12, 3, tzinfo=UTC)
    now = midnight + timedelta(hours=12)
    history = [
        (midnight - timedelta(hours=6), sp.ComponentStatus.MAJOR_OUTAGE),
        (midnight, sp.ComponentStatus.OPERATIONAL),
    ]
    assert status_bars(history, now, 2) == [
        ("2026-12-02", 0.75, "major_outage"),
        ("2026-12-03", 1.0, "operational"),
    ]
    assert status_bars(history, midnight + timedelta(days=1), 2) == [
        ("2026-12-03", 1.0, "operational"),
        ("2026-12-04", 1.0, "operational"),  # today at its midnight: no time yet
    ]


def test_out_of_log_order_changes_follow_the_log_as_the_per_day_scan_did() -> None:
    midnight = datetime(2026, 12, 3, tzinfo=UTC)
    # Logged second but stamped earlier: at midnight the later logged change wins.
    history = [
        (midnight - timedelta(hours=1), sp.ComponentStatus.MAJOR_OUTAGE),
        (midnight - timedelta(hours=2), sp.ComponentStatus.OPERATIONAL),
    ]
    now = midnight + timedelta(hours=6)
    bars = status_bars(history, now, 2)
    assert bars == reference(history, now, 2)
    assert bars[1] == ("2026-12-03", 1.0, "operational")


def _bars_by_page(app: CommsApplication, components: list[str], now: datetime) -> dict[str, object]:
    found: dict[str, object] = {}
    for public in (True, False):
        view = View(app.model, public=public, now=now)
        for component in components:
            history = [
                (at, status)
                for at, status, source in app.model.ix.component_history.get(component, [])
                if view.visible(source)
            ]
            bars = view.uptime(component)
            assert bars == reference(history, now, 90), (public, component, now)
            found[f"{public}:{component}"] = bars
    return found


@pytest.mark.parametrize("seed", range(2))
def test_the_page_bars_equal_the_reference_through_the_application(
    seed: int, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    clock = FakeClock(datetime(2026, 9, 1, 7, 30, tzinfo=UTC))
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="communications", ownership=Ownership.platform(), clock=clock
    )
    app = CommsApplication(store, clock)
    components = [f"c{i}" for i in range(12)]
    for component in components:
        app.add_component(component, component.upper(), by="admin")
    incidents: list[uuid.UUID] = []
    direct = by_incident = published = 0
    while clock() < datetime(2026, 12, 4, tzinfo=UTC):
        # Steps from a second to two days; sometimes exactly onto a midnight.
        if rng.random() < 0.15:
            clock.set(_midnight(clock()) + timedelta(days=1))
        else:
            clock.advance(timedelta(seconds=rng.randint(1, rng.choice((600, 21_600, 172_800)))))
        action = rng.random()
        if action < 0.5:
            result = app.set_component_status(
                rng.choice(components), rng.choice(STATUSES).value, by="admin"
            )
            direct += len(result.events)
        elif action < 0.62 or not incidents:
            affected = rng.sample(components, rng.randint(1, 3))
            result = app.draft_status_incident(
                name="Errors",
                body="Looking into it.",
                by="admin",
                component_ids=affected,
                internal_only=rng.random() < 0.25,
            )
            incidents.append(result.state.drafted.status_incident_id)
        elif action < 0.9:
            target = rng.choice(incidents)  # open for days: its changes span midnights
            changes = {c: rng.choice(STATUSES).value for c in rng.sample(components, 2)}
            app.post_status_update(
                target, status="identified", body="Still on it.", by="admin", components=changes
            )
            by_incident += len(changes)
        else:
            with contextlib.suppress(PreconditionFailedError):  # internal only: never public
                published += len(app.publish(rng.choice(incidents), by="admin").events)
    # Every source of a status really ran.
    assert direct > 60
    assert by_incident > 60
    assert published > 3

    seen = [
        _bars_by_page(app, components, now)
        for now in (clock(), _midnight(clock()), clock() + timedelta(days=3, hours=5))
    ]
    # The public page shows less than the internal one (drafts, internal-only incidents).
    assert any(v != seen[0][k.replace("True", "False")] for k, v in seen[0].items())
    # A restart rebuilds the same bars from the log.
    fresh = CommsApplication(store, clock)
    assert _bars_by_page(fresh, components, clock()) == seen[0]
