"""Entry point: `python -m tests.benchmarks.run [--quick] [--only sqlite|postgres] [--write PATH]`.

Runs the event-log benchmark (tests/benchmarks/eventlog_bench.py), prints the comparison
table and the target verdicts, and with --write renders docs/benchmarks.md. Progress goes
to stderr, one line per step.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from tests.benchmarks import eventlog_bench as bench
from tests.benchmarks import report

REPO = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.run", description=__doc__)
    parser.add_argument("--write", metavar="PATH", help="write the markdown report to PATH")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny counts and one repeat: a smoke run, not a measurement",
    )
    parser.add_argument("--only", choices=bench.BACKENDS, help="run one backend only")
    parser.add_argument(
        "--skip-incident",
        action="store_true",
        help="skip the incident-service benchmarks (gRPC latency, relay throughput)",
    )
    parser.add_argument(
        "--skip-paging-path",
        action="store_true",
        help="skip the alert-to-page latency benchmark (detection, incident, paging, SMTP)",
    )
    parser.add_argument(
        "--skip-audit",
        action="store_true",
        help="skip the audit benchmarks (verify throughput, as-of replay)",
    )
    parser.add_argument(
        "--skip-postmortem",
        action="store_true",
        help="skip the postmortem benchmarks (metrics over 10,000 incidents, prefill p50)",
    )
    parser.add_argument(
        "--skip-comms",
        action="store_true",
        help="skip the communications benchmarks (status page load, subscriber fan-out)",
    )
    parser.add_argument(
        "--skip-runbooks",
        action="store_true",
        help="skip the runbooks benchmark (declaration to automated action at 20/s)",
    )
    parser.add_argument(
        "--skip-synthetics",
        action="store_true",
        help="skip the synthetic-checks benchmark (200 checks at 10 s: lateness, CPU)",
    )
    return parser.parse_args(argv)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_state() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "libs/eventlog"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    if dirty:
        return f"{head} with uncommitted changes in libs/eventlog (measured as found on disk)"
    return f"{head}, libs/eventlog clean"


def machine_info(info: dict[str, dict[str, str]], load: str) -> list[tuple[str, str]]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows = [
        ("nproc", str(affinity)),
        ("CPU", _cpu_model()),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("OS", platform.platform()),
        ("SQLite library", bench.sqlite3.sqlite_version),
        ("eventsourcing", _version("eventsourcing")),
        ("psycopg", _version("psycopg")),
        ("code", _git_state()),
        ("load average", load),
    ]
    if "postgres" in info:
        server = info["postgres"].get("postgresql")
        rows.append(
            (
                "PostgreSQL server",
                f"{server} at {_redacted(bench.pg_url())}" if server else "not reachable",
            )
        )
    return rows


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{credentials}{at}{host}"


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def run_incident_benchmarks(*, quick: bool) -> str:
    """gRPC DeclareIncident vs echo, and relay vs a naive publisher (markdown)."""
    from tests.benchmarks import incident_bench
    from tests.conftest import BROKER_URL

    calls, events = (50, 300) if quick else (2000, 20000)
    declare, echo = incident_bench.grpc_declare_vs_echo(calls)
    try:
        relay, naive = incident_bench.relay_vs_naive(BROKER_URL, events)
    except OSError as error:  # no broker: report it rather than fail the whole run
        progress(f"relay benchmark skipped: RabbitMQ unreachable ({error})")
        relay = naive = None
    return incident_bench.markdown(declare, echo, relay, naive)


def run_detection_benchmarks(*, quick: bool) -> str:
    """Detection ingest (webhook, /v2/enqueue) vs a real Alertmanager (markdown)."""
    from tests.benchmarks import detection_bench

    return detection_bench.compare(200 if quick else 5000)


def run_paging_path_benchmark(*, quick: bool) -> str:
    """Alert-to-page latency at a fixed alert rate vs its same-run floor (markdown)."""
    from tests.benchmarks import paging_path_bench
    from tests.conftest import BROKER_URL

    return paging_path_bench.run(BROKER_URL, quick=quick)


def run_audit_benchmarks(*, quick: bool) -> str:
    """Verify throughput vs raw read + SHA-256; as-of replay vs eventsourcing (markdown)."""
    from tests.benchmarks import audit_bench

    return audit_bench.markdown(audit_bench.run(quick=quick, progress=progress))


def run_postmortem_benchmarks(*, quick: bool) -> str:
    """Metrics over 10,000 incidents vs a raw read; prefill p50 (markdown)."""
    from tests.benchmarks import postmortem_bench

    return postmortem_bench.run(quick=quick)


def run_comms_benchmarks(*, quick: bool) -> str:
    """Status page req/s vs a static file; 10,000-subscriber fan-out vs raw SMTP (markdown)."""
    from tests.benchmarks import comms_bench

    return comms_bench.run(quick=quick)


def run_runbooks_benchmark(*, quick: bool) -> str:
    """Declaration to automated action at 20 incidents/s vs its same-run floor (markdown)."""
    from tests.benchmarks import runbooks_bench
    from tests.conftest import BROKER_URL

    return runbooks_bench.run(BROKER_URL, quick=quick)


def run_synthetics_benchmark(*, quick: bool) -> str:
    """Check scheduling lateness p99 and CPU per check vs bare requests (markdown)."""
    from tests.benchmarks import synthetics_bench

    return synthetics_bench.run(quick=quick)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = bench.QUICK if args.quick else bench.FULL
    backends = (args.only,) if args.only else bench.BACKENDS
    invocation = " ".join(
        ["python -m tests.benchmarks.run", *(sys.argv[1:] if argv is None else argv)]
    )
    full_run = args.write and not args.quick and not args.only
    if full_run and os.environ.get("MAKELEVEL"):  # GNU make exports it to its recipes
        command = f"`make bench` (which runs `{invocation}`)"
    elif full_run:
        command = f"`{invocation}` (the command `make bench` runs)"
    else:
        command = f"`{invocation}`"
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = _load()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="firewatch-bench-") as workdir:
        results, info = bench.run(config, backends, progress, Path(workdir))
    elapsed = time.perf_counter() - started
    load = (
        f"{load_before} before the run, {_load()} after (1/5/15 min; other work on the "
        "machine shows up as noise)"
    )
    rows = report.build_rows(results, config, backends)
    found = report.verdicts(rows)
    report.print_console(rows, found)
    incident_section = "" if args.skip_incident else run_incident_benchmarks(quick=args.quick)
    if not args.skip_incident:
        incident_section += "\n" + run_detection_benchmarks(quick=args.quick)
    if not args.skip_paging_path:
        incident_section += "\n" + run_paging_path_benchmark(quick=args.quick)
    if not args.skip_audit:
        incident_section += "\n" + run_audit_benchmarks(quick=args.quick)
    if not args.skip_postmortem:
        incident_section += "\n" + run_postmortem_benchmarks(quick=args.quick)
    if not args.skip_comms:
        incident_section += "\n" + run_comms_benchmarks(quick=args.quick)
    if not args.skip_runbooks:
        incident_section += "\n" + run_runbooks_benchmark(quick=args.quick)
    if not args.skip_synthetics:
        incident_section += "\n" + run_synthetics_benchmark(quick=args.quick)
    if incident_section:
        print(incident_section)
    if args.write:
        path = Path(args.write)
        text = report.markdown(
            rows=rows,
            found=found,
            results=results,
            config=config,
            machine=machine_info(info, load),
            command=command,
            date=date,
            elapsed=elapsed,
            notes=report.existing_notes(path),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + ("\n" + incident_section if incident_section else ""))
        progress(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
