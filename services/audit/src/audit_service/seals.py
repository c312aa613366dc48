"""Seals: signed checkpoints of the whole log, chained, kept outside the database too.

Owns the seal record format and the pure checks that compare a seal file with the log.
A seal says "at log position P, every stream's head (version and hash) was this, their
Merkle root is R, and the record before this one had digest D", signed with an
Ed25519 key that never enters the database. A forger who rewrites a stream *and* its
head consistently (which the hash chain alone cannot see, docs/adr/0002) or who cuts
the log's tail changes some head as of a sealed position, and the seal no longer
matches. Key rotation is a record too, endorsed by the previous key, so old seals stay
verifiable with the key that signed them.

Nothing here reads storage or the clock: callers hand in events, keys and times.
The format is specified in docs/audit-bundle.md ("Seal records").
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_service.keys import SigningKey, canonical, digest, key_id_of, verify_signature
from eventlog import RecordedEvent

GENESIS = "0" * 64
SEAL_STREAM = "auditseal-log"
KEY_EVENT = "SealKeyAdopted"
SEAL_EVENT = "LogSealed"

Heads = dict[str, tuple[int, str]]
"""stream -> (version, hash) of its last event at some log position."""


def merkle_root(heads: Mapping[str, Sequence[Any]]) -> str:
    """SHA-256 Merkle root over the heads sorted by stream name.

    leaf = SHA-256(0x00 || canonical([stream, version, hash])); node = SHA-256(0x01 ||
    left || right) over raw digests; an odd node is carried up unchanged; no heads gives
    SHA-256 of the empty string."""
    level = [
        hashlib.sha256(b"\x00" + canonical([name, int(head[0]), str(head[1])])).digest()
        for name, head in sorted(heads.items())
    ]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        paired = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


class HeadTracker:
    """Every stream's head, advanced event by event in position order."""

    def __init__(self) -> None:
        self.heads: Heads = {}
        self.position = 0

    def advance(self, events: Iterable[RecordedEvent]) -> None:
        for event in events:
            self.heads[event.stream] = (event.version, event.hash)
            self.position = max(self.position, event.position)


def _unsigned(record: Mapping[str, Any], *drop: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in drop}


@dataclass
class SealBook:
    """The chain of seal records (keys and seals) as the sealer last wrote it."""

    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def previous(self) -> str:
        return digest(self.records[-1]) if self.records else GENESIS

    @property
    def active_key_id(self) -> str | None:
        keys = [r for r in self.records if r["kind"] == "key"]
        return str(keys[-1]["key_id"]) if keys else None

    def adopt_key(self, new: SigningKey, previous: SigningKey | None, at: str) -> dict[str, Any]:
        """A key record: the first key, or a rotation endorsed by the active key."""
        active = self.active_key_id
        if active is not None and (previous is None or previous.key_id != active):
            raise ValueError(
                f"previous_key: rotating away from key {active} needs that key to endorse "
                "the new one"
            )
        body: dict[str, Any] = {
            "kind": "key",
            "sequence": len(self.records),
            "key_id": new.key_id,
            "public_key": new.public_hex,
            "previous_key_id": active,
            "adopted_at": at,
            "previous": self.previous,
        }
        record = {
            **body,
            "endorsement": previous.sign(body) if previous is not None else None,
            "self_signature": new.sign(body),
        }
        self.records.append(record)
        return record

    def seal(self, key: SigningKey, position: int, heads: Heads, at: str) -> dict[str, Any]:
        if self.active_key_id != key.key_id:
            raise ValueError(f"key: {key.key_id} is not the active sealing key")
        body: dict[str, Any] = {
            "kind": "seal",
            "sequence": len(self.records),
            "position": position,
            "sealed_at": at,
            "key_id": key.key_id,
            "streams": {name: [v, h] for name, (v, h) in sorted(heads.items())},
            "merkle_root": merkle_root(heads),
            "previous": self.previous,
        }
        record = {**body, "signature": key.sign(body)}
        self.records.append(record)
        return record


# ---------------------------------------------------------------------- the seal file


def append_to_file(path: Path, record: Mapping[str, Any]) -> None:
    """One JSON line per record, flushed to disk before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        handle.write(canonical(record) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def post_to_notary(url: str, record: Mapping[str, Any], timeout: float = 5.0) -> None:
    """POST one record (canonical JSON) to an external notary; raises OSError unless it
    answers 2xx. The notary keeps records by `sequence`, so a resend is harmless."""
    request = urllib.request.Request(  # noqa: S310 - the operator's configured URL
        url,
        data=canonical(record),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        if not 200 <= answer.status < 300:
            raise OSError(f"notary {url} answered {answer.status}")


def read_file(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ValueError(f"seals: cannot read {path}: {error.strerror or error}") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise ValueError(f"seals: line {number} of {path} is not JSON: {error}") from None
        if not isinstance(record, dict) or record.get("kind") not in ("key", "seal"):
            raise ValueError(f"seals: line {number} of {path} is not a seal or key record")
        records.append(record)
    return records


# ---------------------------------------------------------------------- checking


@dataclass(frozen=True)
class SealFinding:
    kind: str
    """'forged-seal', 'rewritten', 'truncated', 'deleted', 'inserted', 'unsealed'."""
    stream: str | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.stream}: " if self.stream else ""
        return f"{where}{self.kind}: {self.detail}"


@dataclass
class SealCheck:
    seals_checked: int = 0
    keys_checked: int = 0
    findings: list[SealFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def check_records(
    records: Sequence[Mapping[str, Any]], trusted_key_ids: Iterable[str] = ()
) -> tuple[SealCheck, dict[str, str]]:
    """The records' own integrity: chain, sequence, endorsements, signatures.

    Returns the check so far and the verified keys (key id -> public key hex)."""
    result = SealCheck()
    found = result.findings
    trusted = set(trusted_key_ids)
    keys: dict[str, str] = {}
    active: str | None = None
    previous = GENESIS
    for index, record in enumerate(records):
        label = f"record {index}"
        if record.get("sequence") != index:
            found.append(
                SealFinding("forged-seal", None, f"{label} has sequence {record.get('sequence')}")
            )
        if record.get("previous") != previous:
            found.append(
                SealFinding("forged-seal", None, f"{label} does not chain to the record before it")
            )
        previous = digest(record)
        if record.get("kind") == "key":
            result.keys_checked += 1
            public = str(record.get("public_key", ""))
            key_id = str(record.get("key_id", ""))
            body = _unsigned(record, "endorsement", "self_signature")
            ok = (
                key_id_of(public) == key_id
                if all(c in "0123456789abcdef" for c in public) and len(public) == 64
                else False
            )
            ok = ok and verify_signature(public, body, str(record.get("self_signature", "")))
            if active is None:
                if trusted and key_id not in trusted:
                    found.append(
                        SealFinding(
                            "forged-seal", None, f"{label}: first key {key_id} is not trusted"
                        )
                    )
            elif record.get("previous_key_id") != active or not verify_signature(
                keys.get(active, ""), body, str(record.get("endorsement") or "")
            ):
                ok = False
            if not ok:
                found.append(
                    SealFinding(
                        "forged-seal",
                        None,
                        f"{label}: key {key_id} is not endorsed by the key before it "
                        "or not signed by itself",
                    )
                )
                continue
            keys[key_id] = public
            active = key_id
        else:
            result.seals_checked += 1
            key_id = str(record.get("key_id", ""))
            body = _unsigned(record, "signature")
            if key_id not in keys or not verify_signature(
                keys[key_id], body, str(record.get("signature", ""))
            ):
                found.append(
                    SealFinding(
                        "forged-seal",
                        None,
                        f"seal {index} (position {record.get('position')}): its signature "
                        f"does not verify with key {key_id}",
                    )
                )
            elif merkle_root(record.get("streams", {})) != record.get("merkle_root"):
                found.append(
                    SealFinding(
                        "forged-seal",
                        None,
                        f"seal {index}: its Merkle root does not match its stream heads",
                    )
                )
    return result, keys


def check_log(
    records: Sequence[Mapping[str, Any]],
    events: Iterable[RecordedEvent],
    head_position: int,
    trusted_key_ids: Iterable[str] = (),
) -> SealCheck:
    """Compare the seal records with the log's events (in position order)."""
    result, _ = check_records(records, trusted_key_ids)
    found = result.findings
    seals = sorted(
        (r for r in records if r.get("kind") == "seal"), key=lambda r: int(r["position"])
    )
    if seals and head_position < int(seals[-1]["position"]):
        found.append(
            SealFinding(
                "truncated",
                None,
                f"the log ends at position {head_position}, but seal {seals[-1]['sequence']} "
                f"covers up to position {seals[-1]['position']}: its tail was cut",
            )
        )
    tracker = HeadTracker()
    pending = list(seals)
    reported: set[tuple[str, str]] = set()

    def compare(seal: Mapping[str, Any]) -> None:
        sealed: dict[str, list[Any]] = dict(seal.get("streams", {}))
        where = f"seal {seal['sequence']} (position {seal['position']})"
        for name, (version, hash_) in sorted(sealed.items()):
            now = tracker.heads.get(name)
            if now is None:
                kind = "deleted"
                detail = f"{where} recorded it at version {version}; the log has no such stream"
            elif now[1] != hash_:
                if now[0] < version:
                    kind = "truncated"
                    detail = (
                        f"{where} recorded its head at version {version}; the log has it "
                        f"only up to version {now[0]}"
                    )
                else:
                    kind = "rewritten"
                    detail = (
                        f"{where} recorded version {version} with hash {hash_[:16]}…; the "
                        f"log now has version {now[0]} with hash {now[1][:16]}… there"
                    )
            else:
                continue
            if (name, kind) not in reported:
                reported.add((name, kind))
                found.append(SealFinding(kind, name, detail))
        for name in sorted(set(tracker.heads) - set(sealed)):
            if (name, "inserted") not in reported:
                reported.add((name, "inserted"))
                found.append(
                    SealFinding(
                        "inserted",
                        name,
                        f"it has events at or before position {seal['position']}, which "
                        f"{where} does not cover",
                    )
                )

    for event in events:
        while pending and event.position > int(pending[0]["position"]):
            compare(pending.pop(0))
        tracker.advance((event,))
    for seal in pending:
        compare(seal)
    return result
