"""Which service may append to which stream categories.

The platform's one logical log is shared by every service; ownership is what keeps a
service from writing another's facts. This module owns that map and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping

from eventlog.errors import InvalidEventError
from eventlog.identity import IDENTITY_CATEGORY
from eventlog.validation import validate_category

PLATFORM_OWNERSHIP: Mapping[str, frozenset[str]] = {
    "detection": frozenset(
        {"rule", "alert", "alertgroup", "silence", "heartbeat", "integration", "samples", "check"}
    ),
    "incident": frozenset({"incident", "incidentnumber"}),
    "paging": frozenset({"schedule", "policy", "page", "user", "team", "escalation", "sender"}),
    "communications": frozenset(
        {"comms", "statuspage", "statusincident", "subscriber", "dispatch", "commssender"}
    ),
    "postmortem": frozenset({"postmortem", "action", "pmhook"}),
    # Runbooks, each incident's runbooks and the action ledgers (docs/adr/0018).
    "runbooks": frozenset({"runbook", "rbincident", "rbaction"}),
    # The audit service records who read what, and its signed seals (docs/adr/0014).
    "audit": frozenset({"auditaccess", "auditseal"}),
    # `firewatch-token` records every issue, revocation and rotation (docs/adr/0017).
    "credentials": frozenset({"credential"}),
}
"""The stream categories each service owns (see ../shared/DESIGN.md)."""


class Ownership:
    """An immutable writer → categories map, validated once."""

    def __init__(self, owners: Mapping[str, frozenset[str] | set[str] | list[str]]) -> None:
        checked: dict[str, frozenset[str]] = {}
        for writer, categories in owners.items():
            checked[writer] = frozenset(
                validate_category(c, f"ownership[{writer!r}]") for c in categories
            )
            if IDENTITY_CATEGORY in checked[writer]:
                # Only EventStore.platform_identity() may write it (eventlog.identity).
                raise InvalidEventError(
                    f"ownership[{writer!r}]",
                    f"the {IDENTITY_CATEGORY!r} category holds the log's identity and "
                    "belongs to no writer",
                )
        self._owners = checked

    def categories_for(self, writer: str | None) -> frozenset[str]:
        if writer is None:
            return frozenset()
        return self._owners.get(writer, frozenset())

    def knows(self, writer: str) -> bool:
        return writer in self._owners

    @classmethod
    def platform(cls) -> Ownership:
        return cls(PLATFORM_OWNERSHIP)
