"""Signed evidence bundles: one file an outside party can check offline.

Owns the bundle's content (docs/audit-bundle.md): the incident's stream and every
stream correlated with it or named by its events (policies, schedules, pages,
escalations, alert groups: the configuration in force and the delivery receipts), each
whole from its first event so every hash chain can be rebuilt, the log's head of each
stream, every seal record, the signer's public key and an Ed25519 signature over the
rest. It only builds the document; it never reads the clock or writes files itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from audit_service.keys import SigningKey
from contracts.domain import PreconditionFailedError
from eventlog import EventStore, RecordedEvent
from eventlog.chain import format_timestamp
from eventlog.validation import encode_json

FORMAT = "firewatch-evidence-bundle/1"

# Keys in event data whose values name another stream (category-<value>).
_REFERENCE_KEYS = {
    "policy_id": "policy",
    "schedule_id": "schedule",
    "page_id": "page",
    "group_id": "alertgroup",
    "alert_group_id": "alertgroup",
    "rule_id": "rule",
    "user_id": "user",
    "team_id": "team",
}


def event_record(event: RecordedEvent) -> dict[str, Any]:
    """An event exactly as it was hashed (data as its canonical JSON text)."""
    metadata = event.metadata
    record: dict[str, Any] = {
        "id": str(event.id),
        "stream": event.stream,
        "version": event.version,
        "position": event.position,
        "type": event.type,
        "schema_version": event.schema_version,
        "data_json": encode_json(event.data, "data"),
        "actor": metadata.actor,
        "causation_id": metadata.causation_id,
        "correlation_id": metadata.correlation_id,
        "occurred_at": format_timestamp(metadata.occurred_at) if metadata.occurred_at else None,
        "recorded_at": format_timestamp(event.recorded_at),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
    if metadata.credential is not None:
        # Present only when set, as in the hash itself (docs/adr/0017).
        record["credential"] = metadata.credential
    return record


def referenced_streams(events: Iterable[RecordedEvent]) -> dict[str, str]:
    """Streams named anywhere in the events' data (nested too, e.g. the policy snapshot
    of an escalation and its levels' schedule and user targets): stream -> why."""
    found: dict[str, str] = {}

    def visit(value: Any, event_type: str) -> None:
        if isinstance(value, Mapping):
            kind, ident = value.get("kind"), value.get("id")
            if kind in ("schedule", "user", "team") and isinstance(ident, str) and ident:
                found.setdefault(f"{kind}-{ident}", f"a {kind} target in {event_type}")
            for key, item in value.items():
                category = _REFERENCE_KEYS.get(key)
                if category and isinstance(item, str) and item:
                    found.setdefault(f"{category}-{item}", f"{key} in {event_type}")
                else:
                    visit(item, event_type)
        elif isinstance(value, list | tuple):
            for item in value:
                visit(item, event_type)

    for event in events:
        visit(event.data, event.type)
    return found


def build_bundle(
    store: EventStore,
    *,
    incident_id: uuid.UUID,
    reference: str,
    incident_stream: str,
    correlated: Sequence[RecordedEvent],
    seal_records: Sequence[Mapping[str, Any]],
    key: SigningKey,
    exported_at: str,
    configuration: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    reasons: dict[str, str] = {incident_stream: "the incident"}
    for event in correlated:
        reasons.setdefault(event.stream, "correlated with the incident")
    for name, why in referenced_streams(correlated).items():
        reasons.setdefault(name, why)
    # One read per stream serves both the check and the bundle, so the bundle holds
    # exactly the events that were verified.
    verified = {name: store.read_verified(name) for name in sorted(reasons)}
    findings = [finding for _, report in verified.values() for finding in report.findings]
    if findings:
        # A bundle carries each event's decoded content with its recorded hash, and
        # would check out offline even for an event edited where the hash does not
        # look (an added metadata field): sign nothing the log itself disowns.
        shown = "; ".join(str(finding) for finding in findings[:3])
        more = f" (and {len(findings) - 3} more)" if len(findings) > 3 else ""
        raise PreconditionFailedError(
            f"the log fails verification in the streams this bundle would hold: {shown}"
            f"{more}; run `incidentctl audit verify` and investigate before exporting"
        )
    streams = []
    for name, (events, _) in verified.items():
        if not events:
            continue
        streams.append(
            {
                "stream": name,
                "included_because": reasons[name],
                "head": {"version": events[-1].version, "hash": events[-1].hash},
                "events": [event_record(e) for e in events],
            }
        )
    body: dict[str, Any] = {
        "format": FORMAT,
        "incident": {"id": str(incident_id), "reference": reference},
        "exported_at": exported_at,
        "log_position": store.head_position(),
        "streams": streams,
        "configuration": [dict(c) for c in configuration],
        "seal_records": [dict(r) for r in seal_records],
        "signer": {"key_id": key.key_id, "public_key": key.public_hex},
    }
    return {**body, "signature": key.sign(body)}
