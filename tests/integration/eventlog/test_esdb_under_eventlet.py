"""Regression test: the EventStoreDB adapter works inside an eventlet-patched process.

Stock grpcio hangs under eventlet (../shared/STACK-NOTES.md, "grpcio and eventlet"), and
nameko workers are eventlet processes. A child process patches itself first, exactly like
`nameko run`, then appends, reads and subscribes through eventlog.esdb against a fake
EventStoreDB server running here (in this non-eventlet process), while a greenthread
ticks with eventlet.sleep(0). It must finish, round-trip every event, and the ticker
must have advanced during every call (so no call froze the other greenthreads).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("esdb_eventlet_client.py")
SERVER = Path(__file__).with_name("fake_esdb_process.py")
EVENTS = 200
HANG_TIMEOUT = 120

pytestmark = pytest.mark.esdb


class FakeServerProcess:
    """fake_esdb_process.py running: `url` while it serves, `calls` once it stopped."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        assert self.url.startswith("esdb://"), f"the fake server did not start: {self.url!r}"
        self.calls: dict[str, int] = {}

    def __enter__(self) -> FakeServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        out, _ = self.process.communicate(input="", timeout=60)
        self.calls = json.loads(out.strip().splitlines()[-1])


def test_esdb_adapter_in_an_eventlet_process_neither_hangs_nor_freezes_greenthreads() -> None:
    pytest.importorskip("eventlet")
    with FakeServerProcess() as server:
        try:
            child = subprocess.run(
                [sys.executable, "-W", "ignore::DeprecationWarning", str(CHILD), server.url],
                capture_output=True,
                text=True,
                timeout=HANG_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"the eventlet process hung: no exit within {HANG_TIMEOUT}s "
                f"(stderr: {exc.stderr!r})"
            )
    appends = server.calls.get("Streams.BatchAppend", 0)

    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout.strip().splitlines()[-1])
    assert seen["read"] == list(range(EVENTS)), "events did not round-trip"
    assert seen["subscribed"] == list(range(EVENTS)), "the subscription missed events"
    assert seen["live"] == EVENTS, "the live event did not arrive"
    assert seen["verified"], "the hash chain did not verify"
    assert appends >= EVENTS + 1, "the appends did not reach the server"
    # Every call that went to the server let the ticker run while it was in flight...
    assert seen["calls_that_saw_ticks"] == seen["calls"], seen
    # ...and during a half-second blocking wait, the hub kept scheduling it many times.
    assert seen["idle_was_none"]
    assert seen["idle_ticks"] > 1000, seen


def test_grpc_imported_before_patching_is_refused_with_a_clear_error_not_a_hang() -> None:
    pytest.importorskip("eventlet")
    with FakeServerProcess() as server:
        child = subprocess.run(
            [sys.executable, "-W", "ignore::DeprecationWarning", str(CHILD), server.url, "late"],
            capture_output=True,
            text=True,
            timeout=HANG_TIMEOUT,
            check=False,
        )
    assert child.returncode == 0, child.stderr
    error = json.loads(child.stdout.strip().splitlines()[-1])["error"]
    assert error is not None
    assert "monkey_patch() first" in error
