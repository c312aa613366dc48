"""Stored examples of every published event version, and the check that they still load.

A service keeps `<folder>/<EventType>/v<N>.json` for each version it ever published
(`{"data": {...}}`). `replay_fixtures` loads them all through the registry's upcasters,
so an old event that no longer loads fails a test before it fails in production.
`write_current_fixture` records a new version's example when a contract changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.events import DomainEvent, EventRegistry


@dataclass(frozen=True)
class ReplayedFixture:
    path: Path
    event_type: str
    schema_version: int
    event: DomainEvent


def replay_fixtures(registry: EventRegistry, folder: Path) -> list[ReplayedFixture]:
    """Load every fixture; raise AssertionError listing every fixture that fails or is
    missing (each registered type needs a fixture for each version 1..current)."""
    problems: list[str] = []
    replayed: list[ReplayedFixture] = []
    for name, cls in sorted(registry.types.items()):
        for version in range(1, cls.schema_version + 1):
            path = folder / name / f"v{version}.json"
            if not path.exists():
                problems.append(f"missing fixture {path} for {name} v{version}")
                continue
            try:
                raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
                event = registry.load(name, version, raw["data"])
            except Exception as exc:  # noqa: BLE001 - collect every failure for one report
                problems.append(f"{path}: {type(exc).__name__}: {exc}")
                continue
            replayed.append(ReplayedFixture(path, name, version, event))
    for stray in sorted(folder.glob("*/v*.json")) if folder.exists() else []:
        if stray.parent.name not in registry:
            problems.append(f"{stray}: no contract named {stray.parent.name!r} is registered")
    if problems:
        raise AssertionError("event fixtures do not replay:\n  " + "\n  ".join(problems))
    return replayed


def write_current_fixture(registry: EventRegistry, event: DomainEvent, folder: Path) -> Path:
    """Record `event` as the example of its type's current version (never overwrites)."""
    name = event.event_type()
    if registry.types.get(name) is not type(event):
        raise LookupError(f"{name} is not registered in {registry.owner!r}")
    path = folder / name / f"v{type(event).schema_version}.json"
    if path.exists():
        raise FileExistsError(f"{path} exists; published fixtures are never rewritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"data": event.model_dump(mode="json")}
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
