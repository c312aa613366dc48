"""The audit service's published event contracts and its event registry.

Owns the shape of the three facts the audit service appends (ADR 0014):
- `AuditRecordAccessed` (`auditaccess-YYYYMMDD`): who called which audit method on what;
- `SealKeyAdopted` and `LogSealed` (`auditseal-log`): the signed seal records, stored
  as the event's data *verbatim*. Their signatures cover the record dict's canonical
  JSON, so these contracts describe that dict exactly (every field, no defaults, no
  coercion: a validated record dumps back to the same dict) and the seal code keeps
  writing the dict itself (seals.py); a contract change here must never change what is
  signed.

The `firewatch.events` entry point names `EVENTS`. Pure: pydantic models only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt, StrictStr

from contracts.events import DomainEvent, EventRegistry

EVENTS = EventRegistry("audit")
"""Every event the audit service publishes."""


def _timestamp_text(value: str) -> str:
    # Kept as the signed text (format_timestamp's "...Z" form), only checked to parse.
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 UTC timestamp") from None
    return value


Hex64 = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest or a raw Ed25519 public key, lowercase hex."""
Signature = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{128}$")]
"""A raw Ed25519 signature, lowercase hex."""
KeyId = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{16}$")]
"""The first 16 hex digits of the SHA-256 of the public key."""
TimestampText = Annotated[StrictStr, AfterValidator(_timestamp_text)]
Sequence_ = Annotated[StrictInt, Field(ge=0)]


@EVENTS.register
class AuditRecordAccessed(DomainEvent):
    """Someone called an audit method; appended before the answer is given."""

    principal: StrictStr
    method: StrictStr
    target: StrictStr


@EVENTS.register
class SealKeyAdopted(DomainEvent):
    """A sealing key became the active one: the first key, or a rotation endorsed by
    the key before it; self-signed by the new key."""

    kind: Literal["key"]
    sequence: Sequence_
    key_id: KeyId
    public_key: Hex64
    previous_key_id: KeyId | None
    adopted_at: TimestampText
    previous: Hex64
    """Digest of the record before this one (all zeros for the first)."""
    endorsement: Signature | None
    self_signature: Signature


@EVENTS.register
class LogSealed(DomainEvent):
    """The log was sealed at a position: every stream's head then, their Merkle root
    and the previous record's digest, signed by the active key."""

    kind: Literal["seal"]
    sequence: Sequence_
    position: Annotated[StrictInt, Field(ge=0)]
    sealed_at: TimestampText
    key_id: KeyId
    streams: dict[str, tuple[StrictInt, Hex64]]
    """stream -> [version, hash of its last event]."""
    merkle_root: Hex64
    previous: Hex64
    signature: Signature
