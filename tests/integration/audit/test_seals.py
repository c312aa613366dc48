"""Verification and seals against a real log that is tampered with directly."""

from __future__ import annotations

import json

from audit_service import seals
from audit_service.app import AuditApplication
from audit_service.keys import digest, generate_key
from eventlog import Tampering
from tests.integration.audit.conftest import TamperableLog, fill
from tests.receivers import HttpReceiver


def test_verify_names_an_edited_and_a_deleted_event(
    tampered_log: TamperableLog, audit_app: AuditApplication
) -> None:
    fill(tampered_log)
    tampered_log.execute(
        "UPDATE {events} SET data = ? WHERE stream = ? AND version = ?",
        '{"n":1,"text":"forged","v":1}',
        "incident-1",
        1,
    )
    tampered_log.execute("DELETE FROM {events} WHERE stream = ? AND version = ?", "incident-2", 2)

    report = audit_app.verify()

    named = {(f.kind, f.stream, f.version) for f in report.findings}
    assert (Tampering.EDITED, "incident-1", 1) in named
    assert (Tampering.DELETED, "incident-2", 2) in named
    assert not report.ok


def test_seals_go_to_the_log_and_to_the_outside_file_identically(
    tampered_log: TamperableLog, audit_app: AuditApplication
) -> None:
    fill(tampered_log)
    audit_app.seal()
    tampered_log.clock.advance(5)
    second = audit_app.seal()

    assert audit_app.seal_file is not None
    in_file = seals.read_file(audit_app.seal_file)
    in_log = [dict(e.data) for e in audit_app.store.read_stream(seals.SEAL_STREAM)]
    assert in_file == in_log
    assert [r["kind"] for r in in_file] == ["key", "seal", "seal"]
    assert second["previous"] == digest(in_file[1])
    assert audit_app.check_seals(in_file, []).ok


def test_a_consistent_rewrite_of_a_stream_and_its_head_passes_the_chain_but_not_the_seals(
    tampered_log: TamperableLog, audit_app: AuditApplication
) -> None:
    fill(tampered_log)
    audit_app.seal()

    tampered_log.rewrite_consistently("incident-1", 1, {"n": 1, "v": 1, "text": "nothing"})

    assert audit_app.verify().ok, "the forger recomputed every hash and the head"
    assert audit_app.seal_file is not None
    check = audit_app.check_seals(seals.read_file(audit_app.seal_file), [])
    assert [(f.kind, f.stream) for f in check.findings] == [("rewritten", "incident-1")]


def test_cutting_the_tail_of_the_log_is_detected_by_the_seals(
    tampered_log: TamperableLog, audit_app: AuditApplication
) -> None:
    fill(tampered_log)
    audit_app.seal()
    tampered_log.truncate_tail(3)  # the seal event, the key event before it, a policy

    assert audit_app.verify().ok
    assert audit_app.seal_file is not None
    check = audit_app.check_seals(seals.read_file(audit_app.seal_file), [])
    kinds = {(f.kind, f.stream) for f in check.findings}
    assert ("truncated", None) in kinds
    assert ("deleted", "policy-2") in kinds


def test_old_seals_stay_verifiable_after_a_key_rotation(
    tampered_log: TamperableLog, audit_app: AuditApplication
) -> None:
    fill(tampered_log)
    first = audit_app.seal()
    old_key = audit_app.key
    assert old_key is not None
    new_key = generate_key(tampered_log.tmp / "keys" / "seal-2.pem")
    rotation = audit_app.rotate_key(new_key)
    tampered_log.clock.advance(1)
    last = audit_app.seal()

    assert rotation["previous_key_id"] == old_key.key_id
    assert first["key_id"] == old_key.key_id
    assert last["key_id"] == new_key.key_id
    assert audit_app.seal_file is not None
    records = seals.read_file(audit_app.seal_file)
    check = audit_app.check_seals(records, [old_key.key_id])
    assert check.ok, [str(f) for f in check.findings]
    assert (check.seals_checked, check.keys_checked) == (2, 2)


def test_a_forged_seal_or_an_untrusted_first_key_is_reported(
    tampered_log: TamperableLog, audit_app: AuditApplication
) -> None:
    fill(tampered_log)
    audit_app.seal()
    assert audit_app.seal_file is not None
    records = seals.read_file(audit_app.seal_file)
    forged = json.loads(json.dumps(records))
    forged[1]["position"] = 1

    check = audit_app.check_seals(forged, [])
    assert any(f.kind == "forged-seal" and "signature" in f.detail for f in check.findings)
    untrusted = audit_app.check_seals(records, ["0123456789abcdef"])
    assert [f.kind for f in untrusted.findings] == ["forged-seal"]
    assert "not trusted" in untrusted.findings[0].detail


def test_the_periodic_sealer_seals_at_every_tick_and_survives_a_failing_one(
    tampered_log: TamperableLog, audit_app: AuditApplication
) -> None:
    from audit_service.server import seal_periodically

    fill(tampered_log, streams=1, events=1)
    # What the Event's wait answers at each tick: False = time passed, True = stop.
    ticks = iter([False, False, False, True])
    asked: list[float] = []
    outcomes = iter(["fail", "seal", "seal"])
    real_seal = audit_app.seal

    def wait(interval: float) -> bool:
        asked.append(interval)
        return next(ticks)

    def seal_or_fail() -> dict[str, object]:
        if next(outcomes) == "fail":
            raise OSError("log unavailable")
        return real_seal()

    audit_app.seal = seal_or_fail  # type: ignore[method-assign]
    seal_periodically(audit_app, 300.0, wait)

    assert asked == [300.0] * 4
    assert audit_app.seal_file is not None
    kinds = [r["kind"] for r in seals.read_file(audit_app.seal_file)]
    assert kinds == ["key", "seal", "seal"]


def test_every_seal_record_reaches_the_external_notary_in_order_even_after_it_was_down(
    tampered_log: TamperableLog, audit_app: AuditApplication, http_receiver: HttpReceiver
) -> None:
    audit_app.notary_url = http_receiver.url("/notary")
    fill(tampered_log, streams=1, events=1)
    http_receiver.statuses.extend([503])  # down for the first record (the key)

    audit_app.seal()  # the key record is refused, then resent ahead of the seal record
    tampered_log.clock.advance(1)
    audit_app.seal()

    assert audit_app.seal_file is not None
    in_file = seals.read_file(audit_app.seal_file)
    received = [r.json() for r in http_receiver.wait_for(3)]
    assert received == in_file
    assert [r["kind"] for r in received] == ["key", "seal", "seal"]
    for _ in received:
        http_receiver.claim(lambda r: r.path == "/notary")
