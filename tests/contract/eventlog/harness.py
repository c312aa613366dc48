"""What the event-log conformance suite needs from a backend under test.

A harness opens store handles on one shared, test-private log and can tamper with the
stored rows directly (as an attacker with database access would) so that the suite can
check `verify`. Each backend contributes one harness class in its own module; the suite
itself (test_conformance.py) is written once.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventlog import Clock, EventStore, Ownership


class BackendHarness(abc.ABC):
    name: str

    @abc.abstractmethod
    def open(self, *, writer: str | None, ownership: Ownership, clock: Clock) -> EventStore:
        """A new handle on this harness's log (several handles share one log)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Drop the log and release everything the harness started."""

    # Tampering, bypassing the store. `version` names the stored event to change.
    @abc.abstractmethod
    def tamper_edit_data(self, stream: str, version: int, data: Mapping[str, Any]) -> None:
        """Overwrite an event's data, leaving its recorded hash as it was."""

    @abc.abstractmethod
    def tamper_add_metadata_field(self, stream: str, version: int, key: str, value: str) -> None:
        """Add a field to an event's stored metadata, leaving everything else as it was."""

    @abc.abstractmethod
    def tamper_delete(self, stream: str, version: int) -> None:
        """Remove one event's row, leaving the others (and their versions) alone."""

    @abc.abstractmethod
    def tamper_swap_versions(self, stream: str, first: int, second: int) -> None:
        """Exchange the stream versions of two events (a reordering)."""

    @abc.abstractmethod
    def tamper_insert(self, stream: str, version: int, forged: ForgedEvent) -> None:
        """Insert a forged event at `version`, first shifting that version and every later
        one up by one (a forger who rewrites history to slip an event in)."""


@dataclass(frozen=True)
class ForgedEvent:
    """A forged row whose own hash is valid and which links to its new predecessor."""

    id: str
    type: str
    schema_version: int
    data_json: str
    metadata_json: str
    recorded_at: datetime
    prev_hash: str
    hash: str
