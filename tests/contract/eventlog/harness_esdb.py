"""EventStoreDB harnesses: the labelled protocol-level fake, and a real server via ESDB_URI.

- `esdb-fake`: a fresh FakeEventStoreDBServer (eventlog.testing.fake_esdb; FAKE, not
  EventStoreDB) per test, spoken to over real gRPC by esdbclient. Tampering edits the
  fake's stored records directly, as an attacker with access to the data files would.
- `esdb-real`: only when ESDB_URI is set (e.g. `esdb://localhost:2113?Tls=false`). Tests
  share that server's log, which the suite allows (private categories per test). A real
  server's storage cannot be reached around its API, so the tampering tests skip there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from eventlog import Clock, EventStore, Ownership
from eventlog.esdb import EventStoreDBEventStore, esdb_metadata
from eventlog.testing.fake_esdb import FakeEventStoreDBServer
from tests.contract.eventlog.harness import BackendHarness, ForgedEvent

_REAL_SKIP = (
    "tampering needs direct access to the store's records; a real EventStoreDB server's "
    "storage is only reachable through its API (the esdb-fake harness covers this test)"
)


class _ESDBHarness(BackendHarness):
    def __init__(self, url: str) -> None:
        self.url = url
        self._stores: list[EventStore] = []

    def open(self, *, writer: str | None, ownership: Ownership, clock: Clock) -> EventStore:
        store = EventStoreDBEventStore(self.url, writer=writer, ownership=ownership, clock=clock)
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()


class FakeESDBHarness(_ESDBHarness):
    name = "esdb-fake"

    def __init__(self, directory: Path) -> None:
        self.server = FakeEventStoreDBServer().start()
        super().__init__(self.server.url)

    def close(self) -> None:
        super().close()
        self.server.stop()

    def tamper_edit_data(self, stream: str, version: int, data: Mapping[str, Any]) -> None:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        self.server.edit_record(stream, version, data=text.encode())

    def tamper_add_metadata_field(self, stream: str, version: int, key: str, value: str) -> None:
        stored = json.loads(self.server._record(stream, version).custom_metadata)
        stored[key] = value
        self.server.edit_record(stream, version, custom_metadata=json.dumps(stored).encode())

    def tamper_delete(self, stream: str, version: int) -> None:
        self.server.delete_record(stream, version)

    def tamper_swap_versions(self, stream: str, first: int, second: int) -> None:
        self.server.swap_revisions(stream, first, second)

    def tamper_insert(self, stream: str, version: int, forged: ForgedEvent) -> None:
        self.server.insert_record(
            stream,
            version,
            event_id=forged.id,
            event_type=forged.type,
            data=forged.data_json.encode(),
            custom_metadata=esdb_metadata(
                schema_version=forged.schema_version,
                metadata_json=forged.metadata_json,
                recorded_at=forged.recorded_at,
                prev_hash=forged.prev_hash,
                hash=forged.hash,
            ),
        )


class RealESDBHarness(_ESDBHarness):
    name = "esdb-real"

    def __init__(self, directory: Path) -> None:
        super().__init__(os.environ["ESDB_URI"])

    def tamper_edit_data(self, stream: str, version: int, data: Mapping[str, Any]) -> None:
        pytest.skip(_REAL_SKIP)

    def tamper_add_metadata_field(self, stream: str, version: int, key: str, value: str) -> None:
        pytest.skip(_REAL_SKIP)

    def tamper_delete(self, stream: str, version: int) -> None:
        pytest.skip(_REAL_SKIP)

    def tamper_swap_versions(self, stream: str, first: int, second: int) -> None:
        pytest.skip(_REAL_SKIP)

    def tamper_insert(self, stream: str, version: int, forged: ForgedEvent) -> None:
        pytest.skip(_REAL_SKIP)


HARNESSES = [pytest.param(FakeESDBHarness, id="esdb-fake", marks=pytest.mark.esdb)]
if os.environ.get("ESDB_URI"):
    HARNESSES.append(pytest.param(RealESDBHarness, id="esdb-real", marks=pytest.mark.esdb))
