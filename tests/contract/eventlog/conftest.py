"""Runs the one conformance suite against every backend harness in this folder.

Each `harness_*.py` module exposes `HARNESSES`: a list of `pytest.param(factory, id=...,
marks=...)` where `factory(tmp_path)` returns a BackendHarness. Adding a backend means
adding a module, never new tests.
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from eventlog import EventStore, FakeClock, Ownership
from tests.contract.eventlog import __path__ as _package_path
from tests.contract.eventlog.harness import BackendHarness


def _discover() -> list[Any]:
    params: list[Any] = []
    for module_info in sorted(pkgutil.iter_modules(_package_path), key=lambda m: m.name):
        if module_info.name.startswith("harness_"):
            module = importlib.import_module(f"tests.contract.eventlog.{module_info.name}")
            params.extend(module.HARNESSES)
    return params


@pytest.fixture(params=_discover())
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendHarness]:
    factory: Callable[[Path], BackendHarness] = request.param
    instance = factory(tmp_path)
    try:
        yield instance
    finally:
        instance.close()


@dataclass
class LogUnderTest:
    """One test's view of a backend: private categories, so the suite also runs on a
    shared real server whose log already holds other events."""

    harness: BackendHarness
    clock: FakeClock
    category: str
    other_category: str
    ownership: Ownership
    start_position: int = 0
    _store: EventStore | None = field(default=None, repr=False)

    @property
    def store(self) -> EventStore:
        if self._store is None:
            self._store = self.open("writer")
        return self._store

    def open(self, writer: str | None = "writer") -> EventStore:
        return self.harness.open(writer=writer, ownership=self.ownership, clock=self.clock)

    def stream(self, name: str = "1") -> str:
        return f"{self.category}-{name}"


@pytest.fixture
def log(harness: BackendHarness) -> LogUnderTest:
    suffix = uuid.uuid4().hex[:10]
    category, other = f"acct_{suffix}", f"other_{suffix}"
    ownership = Ownership({"writer": {category}, "someone_else": {other}})
    under_test = LogUnderTest(harness, FakeClock(), category, other, ownership)
    under_test.start_position = under_test.store.head_position()
    return under_test
