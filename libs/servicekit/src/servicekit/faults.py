"""Fault-injection points: named places where a process can be made to die at once.

Owns the one switch tests use to prove crash safety deterministically. A random kill -9
almost never lands inside the few milliseconds between, say, recording a page attempt
and sending it; a named point does, every time. Production never arms one: the switch
is the environment variable below, unset by default, and an unarmed point costs a
dictionary lookup.

    FIREWATCH_FAULT_POINTS="paging.attempt-recorded"        die the first time
    FIREWATCH_FAULT_POINTS="paging.sent@3,relay.published"  die at the 3rd pass of one

Dying is `os._exit(FAULT_EXIT_CODE)`: no cleanup, no flush of buffers, no graceful
drain, exactly like SIGKILL, so what survives is only what was durable.
"""

from __future__ import annotations

import os
import sys
import threading

ENV_VAR = "FIREWATCH_FAULT_POINTS"
FAULT_EXIT_CODE = 86
"""The exit status of a process that died at a fault point (tests check for it)."""

_lock = threading.Lock()
_passes: dict[str, int] = {}


def armed() -> dict[str, int]:
    """The armed points and the pass at which each one fires (1 = the first)."""
    points: dict[str, int] = {}
    for raw in os.environ.get(ENV_VAR, "").split(","):
        name, _, nth = raw.strip().partition("@")
        if name:
            points[name] = int(nth) if nth.isdigit() and int(nth) > 0 else 1
    return points


_ARMED: dict[str, int] = armed()


def reload() -> None:
    """Re-read the environment (for tests that arm points in-process)."""
    with _lock:
        _ARMED.clear()
        _ARMED.update(armed())
        _passes.clear()


def point(name: str) -> None:
    """Die here if `name` is armed and this is its pass; otherwise do nothing."""
    fire_at = _ARMED.get(name)
    if fire_at is None:
        return
    with _lock:
        _passes[name] = _passes.get(name, 0) + 1
        reached = _passes[name] == fire_at
    if reached:
        sys.stderr.write(f"fault point {name!r} reached: exiting with {FAULT_EXIT_CODE}\n")
        sys.stderr.flush()
        os._exit(FAULT_EXIT_CODE)
