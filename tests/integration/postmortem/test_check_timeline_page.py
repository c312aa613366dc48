"""The postmortem page in headless Chromium (JavaScript off) shows when the synthetic
check behind the incident first failed and recovered, relative to detection, and the
Markdown export carries the same rows (ADR 0026)."""

from __future__ import annotations

import urllib.request
from typing import Any

from tests.integration.postmortem.conftest import World
from tests.unit.postmortem.test_prefill_checks import Detection, _incident_from_a_failing_check


def test_the_postmortem_page_shows_the_checks_first_failure_and_recovery(
    world: World, pages: str, chromium: Any
) -> None:
    story = _incident_from_a_failing_check(world, Detection(world))
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{pages}/postmortems/{story.incident_id}")
        rows = page.locator("#timeline tbody tr").all_inner_texts()
        when = f"{story.failed_at:%Y-%m-%d %H:%M:%S}"
        failed = f"{when}\tcheck\tSynthetic check checkout first failed"
        assert rows[0].startswith(failed)
        assert rows[0].endswith("6 min before detection")
        recovered = [r for r in rows if "Synthetic check checkout recovered" in r]
        assert recovered == [
            f"{story.recovered_at:%Y-%m-%d %H:%M:%S}\tcheck\t"
            "Synthetic check checkout recovered, 3 min after detection"
        ]
    finally:
        context.close()
    with urllib.request.urlopen(f"{pages}/postmortems/{story.incident_id}.md", timeout=10) as r:
        markdown = r.read().decode()
    assert "Synthetic check checkout first failed at step pay" in markdown
