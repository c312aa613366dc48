"""`firewatch-schemas`: export every published event contract as JSON Schema.

Registries are found through the `firewatch.events` entry-point group (each service
declares its own), or named explicitly as `module:ATTRIBUTE`. Owns only discovery and
file writing; the schemas themselves come from `EventRegistry.json_schemas`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path

from contracts.events import EventRegistry

ENTRY_POINT_GROUP = "firewatch.events"


def load_registry(reference: str) -> EventRegistry:
    module_name, _, attribute = reference.partition(":")
    if not attribute:
        raise SystemExit(f"error: {reference!r} must look like 'package.module:REGISTRY'")
    try:
        registry = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise SystemExit(f"error: cannot load {reference!r}: {exc}") from None
    if not isinstance(registry, EventRegistry):
        raise SystemExit(
            f"error: {reference!r} is a {type(registry).__name__}, not an EventRegistry"
        )
    return registry


def discover() -> list[EventRegistry]:
    return [load_registry(ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)]


def export(registries: Sequence[EventRegistry], out: Path) -> list[Path]:
    """Write one `<owner>/<EventType>.v<N>.json` file per contract; returns the paths."""
    written: list[Path] = []
    for registry in registries:
        folder = out / registry.owner
        folder.mkdir(parents=True, exist_ok=True)
        for name, schema in registry.json_schemas().items():
            path = folder / f"{name}.v{schema['x-schema-version']}.json"
            path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="firewatch-schemas", description="Export event contracts as JSON Schema."
    )
    parser.add_argument("--out", type=Path, default=Path("docs/schemas"), help="output folder")
    parser.add_argument(
        "registries",
        nargs="*",
        help="module:ATTRIBUTE of an EventRegistry (default: every installed service)",
    )
    args = parser.parse_args(argv)
    registries = [load_registry(r) for r in args.registries] if args.registries else discover()
    if not registries:
        print("no event registries found (no service installed?)", file=sys.stderr)
        return 1
    for path in export(registries, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
