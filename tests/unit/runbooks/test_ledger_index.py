"""The ledger's indexes (active runs by target, sorted request times) are what a scan
of every run would give, after any sequence of a step's events: the guard rails
consult the indexes instead of scanning a ledger that grows with every run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events import DomainEvent
from runbooks_service import run as rn

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
INCIDENT = uuid.UUID(int=99)
RUNS = [uuid.UUID(int=n) for n in range(1, 7)]
TARGETS = ["checkout", "cart", "search"]


def _event(kind: int, run: int, target: int, minute: int) -> DomainEvent:
    run_id, at = RUNS[run], T0 + timedelta(minutes=minute)
    match kind:
        case 0 | 1:
            return rn.ActionRunRequested(
                run_id=run_id, incident_id=INCIDENT, runbook_id="rb", revision=1,
                step_id="rollback", kind="http", target=TARGETS[target], request={},
                idempotent=True, needs_approval=kind == 1, dry_run=False, automatic=True,
                requested_by="t", requested_at=at,
            )  # fmt: skip
        case 2:
            return rn.ActionRunApproved(
                run_id=run_id, incident_id=INCIDENT, approved_by="ic", approved_at=at
            )
        case 3:
            return rn.ActionAttempted(
                run_id=run_id, incident_id=INCIDENT, attempt=1, idempotency_key="k",
                sender="s", sender_instance="i", deadline=at, attempted_at=at,
            )  # fmt: skip
        case 4 | 5 | 6 | 7:
            outcome = list(rn.Outcome)[kind - 4]
            return rn.ActionResultRecorded(
                run_id=run_id, incident_id=INCIDENT, attempt=1, outcome=outcome,
                duration_ms=5, recorded_at=at,
            )  # fmt: skip
        case 8:
            return rn.ActionOutcomeUnconfirmed(
                run_id=run_id, incident_id=INCIDENT, attempt=1, reason="lost", recorded_at=at
            )
        case _:
            return rn.ActionDryRunRecorded(
                run_id=run_id, incident_id=INCIDENT, request={}, recorded_at=at
            )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 9),
            st.integers(0, len(RUNS) - 1),
            st.integers(0, len(TARGETS) - 1),
            st.integers(0, 120),
        ),
        max_size=40,
    )
)
def test_the_indexes_match_a_scan_of_every_run(steps: list[tuple[int, int, int, int]]) -> None:
    state = rn.INITIAL
    for kind, run, target, minute in steps:
        state = rn.evolve(state, _event(kind, run, target, minute))
        scanned: dict[str, list[uuid.UUID]] = {}
        for found in state.runs.values():
            if found.status in rn.ACTIVE:
                scanned.setdefault(found.target, []).append(found.run_id)
        assert {t: sorted(ids) for t, ids in scanned.items()} == {
            t: sorted(ids) for t, ids in state.active.items()
        }
        assert list(state.requested) == sorted(r.requested_at for r in state.runs.values())
