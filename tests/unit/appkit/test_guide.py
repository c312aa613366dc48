"""docs/adding-a-service.md's runnable example runs exactly as written (executable docs).

Only the block that starts with imports is a whole program; the others are excerpts of
the incident service and are checked to match it."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "adding-a-service.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def test_the_whole_service_example_runs() -> None:
    programs = [block for block in python_blocks() if block.startswith("import ")]
    assert len(programs) == 1, "the guide lost its runnable example"
    # A real module, so dataclasses and pydantic can resolve the example's annotations.
    module = types.ModuleType("adding_a_service_example")
    sys.modules[module.__name__] = module
    try:
        exec(compile(programs[0], "adding-a-service.md", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]


def test_the_excerpts_still_match_the_incident_service() -> None:
    app = (ROOT / "services/incident/src/incident_service/app.py").read_text(encoding="utf-8")
    projections = (ROOT / "services/incident/src/incident_service/projections.py").read_text(
        encoding="utf-8"
    )
    assert 'EventIds(ID_NAMESPACE, "{id}/{key}/{index}")' in app
    assert "occurred_at=_occurred_at" in app
    assert 'not_found=f"incident {reference} does not exist"' in app
    assert 'name = "incident.read-model"' in projections
    assert "def apply(self, event: RecordedEvent) -> None:" in projections
