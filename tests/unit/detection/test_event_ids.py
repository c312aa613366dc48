"""Detection event ids stay what they were before the kit (ADR 0013): uuid5 of the
stream, the version decided at, the index and the input-derived cause, so a delivery
retried across an upgrade derives the same ids."""

from __future__ import annotations

import uuid
from datetime import timedelta

from detection_service.app import DetectionApplication
from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore

NAMESPACE = uuid.UUID("2b7e54f0-7c1d-5a43-9e6b-d1f0a4c3b8e2")


def test_ids_are_uuid5_of_stream_version_index_and_cause(
    app: DetectionApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    app.create_integration("prometheus", "alertmanager", created_by="admin")
    created = store.read_stream("integration-prometheus")[0]
    assert created.id == uuid.uuid5(NAMESPACE, "integration-prometheus@-1/0/create/prometheus")
    assert created.metadata.causation_id == "create/prometheus"
    assert created.metadata.correlation_id == "prometheus"

    silence = app.create_silence(
        ['alertname="Disk"'], ends_at=clock() + timedelta(hours=1), created_by="a", comment="c"
    )
    app.expire_silence(silence.silence_id, expired_by="a")
    stream = f"silence-{silence.silence_id}"
    expired = store.read_stream(stream)[1]
    assert expired.id == uuid.uuid5(NAMESPACE, f"{stream}@0/0/expire")
