"""Message checks: what a careful communications lead would flag in an update before it
goes out (../shared/PRACTICE.md). Warnings, never refusals: the author decides.

- a time estimate for the fix ("fixed by 15:00", "ETA", "in 20 minutes"): never promise a
  resolution time, promise the next update instead;
- "outage" while no component is in major_outage (overstating partial degradation);
- internal host names (db-7.prod.internal, *.local, *.corp) in a public or executive update;
- a resolution update that says nothing about data loss.

Pure: text and facts in, warnings out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ESTIMATE = re.compile(
    r"\b(eta|estimated time|expect(?:ed)? (?:a )?(?:fix|resolution)|(?:fixed|resolved|back)"
    r" (?:by|within|in) |within \d+ (?:minutes|hours)|in \d+ (?:minutes|hours))",
    re.IGNORECASE,
)
_OUTAGE = re.compile(r"\boutage\b", re.IGNORECASE)
_HOST = re.compile(
    r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:internal|local|corp|lan|intra)\b|\b[a-z]+-\d+\.[a-z0-9.-]+\b",
    re.IGNORECASE,
)
_DATA_LOSS = re.compile(r"\bdata\b", re.IGNORECASE)


def check_update(
    body: str, *, audience: str, status: str, component_statuses: Iterable[str] = ()
) -> list[str]:
    warnings: list[str] = []
    if _ESTIMATE.search(body):
        warnings.append(
            "time estimate: avoid promising when it will be fixed; promise the next update"
        )
    if _OUTAGE.search(body) and "major_outage" not in set(component_statuses):
        warnings.append('"outage" while no component is in major outage: say "degraded" instead?')
    if audience in ("public", "executive") and (host := _HOST.search(body)):
        warnings.append(f"internal host name {host.group(0)!r} in a {audience} update")
    if status == "resolved" and not _DATA_LOSS.search(body):
        warnings.append("a resolution update should say whether any data was lost")
    return warnings
