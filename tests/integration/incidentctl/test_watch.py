"""`incidentctl watch` against a real server: live events, every incident, reconnection.

The watch runs in a thread (CliRunner, `--max-events` makes it return). The test knows
the server is following the log when the store's `subscribe` is called with the
position the watch asked for, so it never sleeps to wait for the watch to start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from typer.testing import Result

from firewatch.incident.v1 import incident_pb2 as pb
from firewatch.incident.v1 import incident_pb2_grpc
from tests.integration.incident.conftest import Api
from tests.integration.incidentctl.conftest import Cli, ServerFactory

WAIT = 30.0


class Subscriptions:
    """Counts the server's subscriptions that start at one log position."""

    def __init__(self, api: Api, monkeypatch: pytest.MonkeyPatch, from_position: int) -> None:
        self._condition = threading.Condition()
        self._count = 0
        original = api.store.subscribe

        def subscribe(*args: Any, **kwargs: Any) -> Any:
            subscription = original(*args, **kwargs)
            if kwargs.get("from_position") == from_position:
                with self._condition:
                    self._count += 1
                    self._condition.notify_all()
            return subscription

        monkeypatch.setattr(api.store, "subscribe", subscribe)

    def wait_for(self, count: int) -> None:
        with self._condition:
            assert self._condition.wait_for(lambda: self._count >= count, timeout=WAIT)


class Background:
    """One CLI run in a thread."""

    def __init__(self, run: Callable[[], Result]) -> None:
        self._results: list[Result] = []
        self._thread = threading.Thread(target=lambda: self._results.append(run()), daemon=True)
        self._thread.start()

    def result(self) -> Result:
        self._thread.join(timeout=WAIT)
        assert not self._thread.is_alive(), "watch did not return"
        [result] = self._results
        return result


def declare(cli: Cli, title: str = "checkout down") -> str:
    result = cli("declare", title, "--severity", "P1", "--service", "checkout", "-q")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def note(api: Api, ref: str, text: str, stub: Any = None) -> None:
    (stub or api.stub).AddNote(pb.AddNoteRequest(incident=ref, text=text), metadata=api.auth())


def test_watch_prints_an_event_appended_while_it_runs(
    cli: Cli, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = declare(cli)
    start = api.store.head_position() + 1
    subscriptions = Subscriptions(api, monkeypatch, start)

    watch = Background(
        lambda: cli("watch", ref, "--from-position", str(start), "--max-events", "1")
    )
    subscriptions.wait_for(1)
    note(api, ref, "live from the test")
    result = watch.result()

    assert result.exit_code == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert f"#{start}  INC-1  TimelineNoteAdded  alice  live from the test" in line
    assert result.stderr == f"watching INC-1 from position {start} (Ctrl-C stops)\n"


def test_watch_shows_history_first_then_live_events(
    cli: Cli, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = declare(cli)
    note(api, ref, "before")
    subscriptions = Subscriptions(api, monkeypatch, 0)

    watch = Background(lambda: cli("watch", ref, "--max-events", "3", "--json"))
    subscriptions.wait_for(1)
    note(api, ref, "after")
    result = watch.result()

    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["type"], e["data"].get("text")) for e in events] == [
        ("IncidentDeclared", None),
        ("TimelineNoteAdded", "before"),
        ("TimelineNoteAdded", "after"),
    ]
    assert {e["reference"] for e in events} == {"INC-1"}


def test_watch_without_an_incident_follows_every_incident_and_labels_them(
    cli: Cli, api: Api
) -> None:
    declare(cli, "first")
    declare(cli, "second")
    note(api, "INC-1", "on the first")
    noted_at = api.store.head_position()

    everything = cli("watch", "--max-events", "3")
    # From a position after the declarations the labels come from a lookup instead.
    later = cli("watch", "--from-position", str(noted_at), "--max-events", "1", who="audrey")

    assert everything.exit_code == later.exit_code == 0
    labels = [line.split("  ")[2] for line in everything.stdout.splitlines()]
    assert labels == ["INC-1", "INC-2", "INC-1"]
    assert 'IncidentDeclared  alice  declared P1 "second" for checkout' in everything.stdout
    assert f"#{noted_at}  INC-1  TimelineNoteAdded  alice  on the first" in later.stdout


def test_watch_of_an_unknown_incident_fails_at_once(cli: Cli) -> None:
    result = cli("watch", "INC-404")
    assert (result.exit_code, result.stderr) == (1, "error: incident INC-404 does not exist\n")


def test_watch_resumes_after_the_server_restarts(
    cli: Cli,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    extra_servers: ServerFactory,
) -> None:
    ref = declare(cli)
    start = api.store.head_position() + 1
    subscriptions = Subscriptions(api, monkeypatch, start)

    watch = Background(
        lambda: cli("watch", ref, "--from-position", str(start), "--max-events", "1")
    )
    subscriptions.wait_for(1)
    api.server.stop(grace=0)
    restarted = extra_servers(port=api.server.port)
    channel = grpc.insecure_channel(f"127.0.0.1:{restarted.port}")
    stub = incident_pb2_grpc.IncidentServiceStub(channel)  # type: ignore[no-untyped-call]
    # The watch saw nothing before the restart, so it resumes where it started.
    subscriptions.wait_for(2)
    note(api, ref, "after the restart", stub)
    result = watch.result()
    channel.close()

    assert result.exit_code == 0, result.stderr
    assert "TimelineNoteAdded  alice  after the restart" in result.stdout
    assert f"resuming from position {start}" in result.stderr


# Runs the child with SIGINT at its default disposition, then execs the real command.
# A suite started from a background job (`make test &`, CI runners) inherits SIGINT
# *ignored*, Python keeps an ignored SIGINT ignored, and the Ctrl-C below would never
# arrive. A shim rather than `preexec_fn`, which is unsafe in a process running gRPC
# threads (the API server here). incidentctl itself keeps an inherited "ignored": that
# is how a shell script asks its background jobs to survive Ctrl-C.
SIGINT_DEFAULT_SHIM = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def spawn_watch(api: Api, *args: str) -> subprocess.Popen[str]:
    """The real console entry point in its own process, so signals and pipes are real."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIREWATCH_")}
    return subprocess.Popen(
        [sys.executable, "-c", SIGINT_DEFAULT_SHIM, "-m", "incidentctl",
         "--server", f"127.0.0.1:{api.server.port}", "--token", api.tokens["alice"],
         "watch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip


@pytest.fixture(params=["inherited-default", "inherited-ignored"])
def parent_sigint(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run the test as launched normally, and as from a background job: with SIGINT
    ignored in this process, which every child inherits."""
    if request.param == "inherited-default":
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("parent_sigint")
def test_ctrl_c_ends_a_watch_quietly(cli: Cli, api: Api) -> None:
    ref = declare(cli)
    process = spawn_watch(api, ref)
    try:
        assert process.stdout is not None
        # Blocks until the watch has printed its first event: it is streaming now.
        assert "IncidentDeclared" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=WAIT)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert stderr.endswith("stopped\n")
    assert "Traceback" not in stderr


def test_a_watch_whose_reader_goes_away_exits_quietly(cli: Cli, api: Api) -> None:
    ref = declare(cli)
    process = spawn_watch(api, ref)
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        assert "IncidentDeclared" in process.stdout.readline()
        process.stdout.close()  # like `| head -1` exiting
        note(api, ref, "nobody reads this")
        process.wait(timeout=WAIT)
        stderr = process.stderr.read()
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
