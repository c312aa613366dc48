"""Smoke test for the audit benchmarks: a quick run yields every row with its ratio
computed from the numbers shown. Checks structure and arithmetic, never timings."""

from __future__ import annotations

import pytest

from tests.benchmarks import audit_bench


def test_a_quick_audit_benchmark_reports_every_measurement_with_its_ratio() -> None:
    results = audit_bench.run(quick=True, progress=lambda _: None)
    # SQLite verify, PostgreSQL verify (the server is up wherever the suite runs), replays.
    assert [r.unit for r in results] == ["events/s", "events/s", "ms", "ms"]
    verify, verify_pg, cold, warm = results
    assert "PostgreSQL" in verify_pg.name
    for throughput in (verify, verify_pg):
        assert throughput.ratio == pytest.approx(throughput.ours / throughput.floor)
    assert cold.ratio == pytest.approx(cold.floor / cold.ours)
    assert warm.floor == cold.floor, "both replays are compared with the same rebuild"
    table = audit_bench.markdown(results)
    assert table.count("\n| ") == 1 + len(results)  # header + one row each
    assert "as-of replay of a 1,000-event incident, cold" in table
