"""Smoke test for the event-log benchmark: the --quick SQLite run produces a complete
report. It checks structure and arithmetic only, never timings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.benchmarks import report, run
from tests.benchmarks.eventlog_bench import MEASUREMENTS, QUICK


def _number(cell: str) -> float:
    return float(cell.replace(",", "").rstrip("x"))


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("bench") / "benchmarks.md"
    assert run.main(["--quick", "--only", "sqlite", "--skip-incident", "--write", str(path)]) == 0
    return path.read_text()


def test_every_measurement_has_a_row_with_computed_ratios(quick_report: str) -> None:
    rows = [line for line in quick_report.splitlines() if line.startswith("| sqlite | ")]
    for measurement in MEASUREMENTS:
        label = QUICK.label(measurement)
        matching = [row for row in rows if f"| {label}" in row]
        assert matching, f"no row for {label!r}"
        cells = [cell.strip() for cell in matching[0].strip("|").split("|")]
        backend, _, ours, raw, eventsourcing, vs_raw, vs_es = cells
        assert backend == "sqlite"
        assert re.fullmatch(r"\d+\.\d\dx", vs_raw), vs_raw
        assert re.fullmatch(r"\d+\.\d\dx", vs_es), vs_es
        # Ratios are computed from the unrounded rates, so allow for the rounding.
        assert _number(vs_raw) == pytest.approx(_number(ours) / _number(raw), rel=0.02, abs=0.01)
        assert _number(vs_es) == pytest.approx(
            _number(ours) / _number(eventsourcing), rel=0.02, abs=0.01
        )
    assert not any(line.startswith("| postgres |") for line in quick_report.splitlines())


def test_report_has_context_targets_and_analysis(quick_report: str) -> None:
    assert "## Machine" in quick_report
    assert "- nproc: " in quick_report
    assert "- Python: 3." in quick_report
    assert "--quick --only sqlite" in quick_report
    for target in report.TARGETS:
        if target.backend == "sqlite":
            assert re.search(rf"\| (PASS|MISS) \| {re.escape(target.description)} \|", quick_report)
    assert "## Analysis" in quick_report
    assert report.NOTES_BEGIN in quick_report
    assert report.NOTES_END in quick_report
    # Both read_all rows read the same log in every subject.
    assert "event counts differ" not in quick_report


def test_hand_written_analysis_notes_survive_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text(f"old\n{report.NOTES_BEGIN}\nWhy we miss: fsync.\n{report.NOTES_END}\n")
    assert report.existing_notes(path) == "Why we miss: fsync."
    assert report.existing_notes(tmp_path / "missing.md") is None


@pytest.mark.rabbitmq
def test_the_incident_benchmarks_run_in_quick_mode_and_report_both_ratios() -> None:
    section = run.run_incident_benchmarks(quick=True)
    assert "DeclareIncident" in section
    assert "bare grpcio echo" in section
    assert "ratio relay / naive" in section
    assert section.count("PASS") + section.count("MISS") == 2


def test_the_equal_durability_target_compares_with_eventsourcing_at_normal() -> None:
    from tests.benchmarks.eventlog_bench import Cell

    results = {
        ("sqlite", "single", "ours"): Cell(rates=[15_000.0]),
        ("sqlite", "single", "raw"): Cell(rates=[40_000.0]),
        ("sqlite", "single", "eventsourcing"): Cell(rates=[1_000.0]),
        ("sqlite", "single", "eventsourcing_normal"): Cell(rates=[10_000.0]),
    }
    rows = report.build_rows(results, QUICK, ("sqlite",))
    found = {v.target.description: v for v in report.verdicts(rows)}
    equal = found[
        "SQLite single-event append >= 1.5x eventsourcing at equal durability (synchronous=NORMAL)"
    ]
    assert equal.ratio == pytest.approx(1.5)
    assert equal.status == "PASS"
    assert found["SQLite single-event append >= 3x eventsourcing"].ratio == pytest.approx(15.0)
