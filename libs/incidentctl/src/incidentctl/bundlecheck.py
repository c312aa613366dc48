#!/usr/bin/env python3
"""Check a Firewatch evidence bundle offline: `python3 bundlecheck.py BUNDLE.json`.

A standalone verifier: it needs only the Python standard library and the
`cryptography` package, so a third party can copy this one file and run it anywhere.
It implements the algorithm in docs/audit-bundle.md step by step and prints one line
per problem, naming the stream, version and event id. Exit code 0: the bundle is
intact; 1: something was changed, removed, reordered or is not signed; 2: the file is
not a bundle at all. `incidentctl audit check` runs the same code.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "firewatch-evidence-bundle/1"
GENESIS = "0" * 64


def canonical(value: Any) -> bytes:
    """Step 1: the bytes every signature and record digest covers."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _text(value: Any) -> str:
    # JSON string with only '"', '\\' and control characters escaped (non-ASCII kept),
    # exactly as Python's json.encoder.encode_basestring does.
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def event_hash(event: Mapping[str, Any]) -> str:
    """Step 3: SHA-256 over the event's canonical encoding (docs/adr/0002)."""
    credential = event.get("credential")
    text = (
        f'{{"actor":{_text(event.get("actor"))},'
        f'"causation_id":{_text(event.get("causation_id"))},'
        f'"correlation_id":{_text(event.get("correlation_id"))},'
        + ("" if credential is None else f'"credential":{_text(credential)},')
        + f'"data":{event["data_json"]},'
        f'"id":{_text(event["id"])},'
        f'"occurred_at":{_text(event.get("occurred_at"))},'
        f'"prev_hash":{_text(event["prev_hash"])},'
        f'"recorded_at":{_text(event["recorded_at"])},'
        f'"schema_version":{int(event["schema_version"])},'
        f'"stream":{_text(event["stream"])},'
        f'"type":{_text(event["type"])}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify(public_hex: str, value: Any, signature_hex: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
        key.verify(bytes.fromhex(signature_hex or ""), canonical(value))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def key_id_of(public_hex: str) -> str:
    try:
        return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]
    except ValueError:
        return ""


@dataclass
class Result:
    problems: list[str] = field(default_factory=list)
    streams: int = 0
    events: int = 0
    seals: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _name(event: Mapping[str, Any]) -> str:
    return f"{event.get('stream')}@{event.get('version')} (event {event.get('id')})"


def check_keys_and_seals(
    records: Sequence[Mapping[str, Any]], trusted: set[str], result: Result
) -> dict[str, str]:
    """Step 4: the seal records' chain, key endorsements and signatures."""
    keys: dict[str, str] = {}
    active: str | None = None
    previous = GENESIS
    for index, record in enumerate(records):
        if record.get("sequence") != index or record.get("previous") != previous:
            result.problems.append(f"seal record {index}: does not chain to the record before it")
        previous = hashlib.sha256(canonical(record)).hexdigest()
        if record.get("kind") == "key":
            body = {k: v for k, v in record.items() if k not in ("endorsement", "self_signature")}
            public = str(record.get("public_key", ""))
            key_id = str(record.get("key_id", ""))
            ok = key_id_of(public) == key_id and verify(
                public, body, str(record.get("self_signature", ""))
            )
            if active is None:
                if trusted and key_id not in trusted:
                    result.problems.append(f"seal record {index}: key {key_id} is not trusted")
                    ok = False
            elif record.get("previous_key_id") != active or not verify(
                keys[active], body, str(record.get("endorsement") or "")
            ):
                ok = False
            if not ok:
                result.problems.append(
                    f"seal record {index}: key {key_id} is not endorsed by the key before it"
                )
                continue
            keys[key_id] = public
            active = key_id
        elif record.get("kind") == "seal":
            result.seals += 1
            body = {k: v for k, v in record.items() if k != "signature"}
            key_id = str(record.get("key_id", ""))
            if key_id not in keys or not verify(
                keys[key_id], body, str(record.get("signature", ""))
            ):
                result.problems.append(
                    f"seal record {index}: its signature does not verify with key {key_id}"
                )
        else:
            result.problems.append(f"seal record {index}: unknown kind {record.get('kind')!r}")
    return keys


def check_stream(entry: Mapping[str, Any], result: Result) -> list[Mapping[str, Any]]:
    """Step 5: one stream's events; returns them in chain order."""
    name = str(entry.get("stream"))
    events: list[Mapping[str, Any]] = list(entry.get("events", []))
    result.streams += 1
    result.events += len(events)
    index_of = {id(e): i for i, e in enumerate(events)}
    for event in events:
        if event.get("stream") != name:
            result.problems.append(f"{_name(event)}: listed under stream {name}")
        if event_hash(event) != event.get("hash"):
            result.problems.append(f"{_name(event)}: edited: its content does not match its hash")
    successors: dict[str, list[Mapping[str, Any]]] = {}
    for event in events:
        successors.setdefault(str(event.get("prev_hash")), []).append(event)
    hashes = {str(e.get("hash")) for e in events}
    chain: list[Mapping[str, Any]] = []
    seen: set[int] = set()

    def follow(start: Mapping[str, Any]) -> None:
        current: Mapping[str, Any] | None = start
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            chain.append(current)
            nexts = [e for e in successors.get(str(current.get("hash")), []) if id(e) not in seen]
            for extra in nexts[1:]:
                seen.add(id(extra))
                result.problems.append(
                    f"{_name(extra)}: inserted: a second event chained after version "
                    f"{current.get('version')}"
                )
            current = nexts[0] if nexts else None

    for start in successors.get(GENESIS, [])[:1]:
        follow(start)
    if events and not successors.get(GENESIS):
        result.problems.append(f"{name}@0: missing: the stream's first event is not in the bundle")
    for event in sorted(events, key=lambda e: int(e.get("version", 0))):
        if id(event) in seen:
            continue
        if str(event.get("prev_hash")) in hashes:
            result.problems.append(f"{_name(event)}: inserted: it forks the chain")
            seen.add(id(event))
            continue
        last = int(chain[-1].get("version", -1)) if chain else -1
        first_missing, last_missing = last + 1, int(event.get("version", 0)) - 1
        which = (
            f"version {first_missing}"
            if first_missing >= last_missing
            else f"versions {first_missing}..{last_missing}"
        )
        result.problems.append(
            f"{name}@{first_missing}: missing: {which} not in the bundle; {_name(event)} "
            f"is chained to hash {str(event.get('prev_hash'))[:16]}…, which no event here has"
        )
        follow(event)
    for before, after in itertools.pairwise(chain):
        if (
            index_of[id(after)] < index_of[id(before)]
            or int(after.get("version", 0)) <= int(before.get("version", 0))
            or int(after.get("position", 0)) <= int(before.get("position", 0))
        ):
            result.problems.append(
                f"{_name(after)}: reordered: it is chained after {_name(before)} but is "
                "listed, numbered or positioned before it"
            )
    head = entry.get("head") or {}
    if chain and head.get("hash") != chain[-1].get("hash"):
        if int(head.get("version", -1)) > int(chain[-1].get("version", 0)):
            result.problems.append(
                f"{name}@{int(chain[-1].get('version', 0)) + 1}: missing: the stream's head is "
                f"version {head.get('version')}, the bundle ends at "
                f"version {chain[-1].get('version')}"
            )
        else:
            result.problems.append(f"{name}: its last event is not the recorded head")
    return chain


def check_bundle(bundle: Mapping[str, Any], trusted: Sequence[str] = ()) -> Result:
    result = Result()
    if bundle.get("format") != FORMAT:
        result.problems.append(f"format: expected {FORMAT!r}, got {bundle.get('format')!r}")
        return result
    keys = check_keys_and_seals(list(bundle.get("seal_records", [])), set(trusted), result)
    signer = bundle.get("signer") or {}
    body = {k: v for k, v in bundle.items() if k != "signature"}
    public = str(signer.get("public_key", ""))
    if key_id_of(public) != signer.get("key_id") or not verify(
        public, body, str(bundle.get("signature", ""))
    ):
        result.problems.append("signature: the bundle's signature does not verify: it was changed")
    if signer.get("key_id") not in keys:
        result.problems.append(
            f"signer: key {signer.get('key_id')} is not a sealing key of the seal records"
        )
    chains = {
        str(entry.get("stream")): check_stream(entry, result) for entry in bundle.get("streams", [])
    }
    for index, record in enumerate(bundle.get("seal_records", [])):
        if record.get("kind") != "seal":
            continue
        for name, chain in chains.items():
            sealed = (record.get("streams") or {}).get(name)
            if not sealed:
                continue
            version, sealed_hash = int(sealed[0]), str(sealed[1])
            at = [e for e in chain if int(e.get("version", -1)) == version]
            if at and at[0].get("hash") != sealed_hash:
                result.problems.append(
                    f"{_name(at[0])}: rewritten: seal record {index} recorded another hash "
                    "for this version"
                )
            elif not at and (not chain or int(chain[-1].get("version", -1)) < version):
                result.problems.append(
                    f"{name}@{version}: missing: seal record {index} covers it, the bundle "
                    "does not have it"
                )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a Firewatch evidence bundle offline.")
    parser.add_argument("bundle", help="the bundle file (JSON)")
    parser.add_argument(
        "--trusted-key", action="append", default=[], help="key id the first sealing key must be"
    )
    args = parser.parse_args(argv)
    try:
        with open(args.bundle, encoding="utf-8") as handle:
            bundle = json.load(handle)
    except (OSError, ValueError) as error:
        print(f"error: cannot read bundle {args.bundle}: {error}", file=sys.stderr)
        return 2
    if not isinstance(bundle, dict):
        print(f"error: {args.bundle} is not a bundle (not a JSON object)", file=sys.stderr)
        return 2
    result = check_bundle(bundle, args.trusted_key)
    for problem in result.problems:
        print(problem)
    verdict = "INTACT" if result.ok else f"NOT INTACT ({len(result.problems)} problems)"
    print(
        f"{verdict}: {result.streams} streams, {result.events} events, {result.seals} seals checked"
    )
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
