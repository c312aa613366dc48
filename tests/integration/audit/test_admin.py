"""`firewatch-audit`: the operator's key commands against a real log."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_service import admin, seals
from audit_service.app import AuditApplication
from audit_service.keys import load_key
from eventlog.clock import system_clock
from tests.integration.audit.conftest import TamperableLog, fill


def test_keygen_seal_and_rotate_leave_a_seal_file_that_verifies(
    tampered_log: TamperableLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tampered_log, streams=1, events=2)
    old, new, file = tmp_path / "old.pem", tmp_path / "new.pem", tmp_path / "seals.jsonl"
    common = ["--store", tampered_log.url, "--seal-file", str(file)]

    assert admin.main(["keygen", "--key", str(old)]) == 0
    assert admin.main(["keygen", "--key", str(old)]) == 1, "never overwrites a key"
    assert admin.main(["keygen", "--key", str(new)]) == 0
    assert admin.main([*common, "seal", "--key", str(old)]) == 0
    assert admin.main([*common, "rotate", "--key", str(old), "--new", str(new)]) == 0
    assert admin.main([*common, "seal", "--key", str(old)]) == 1, "the old key is retired"
    assert admin.main([*common, "seal", "--key", str(new)]) == 0

    out = capsys.readouterr()
    assert "refusing to overwrite" in out.err
    assert f"sealing key is now {load_key(new).key_id}" in out.out
    records = seals.read_file(file)
    assert [r["kind"] for r in records] == ["key", "seal", "key", "seal"]
    check = AuditApplication(tampered_log.open(None), system_clock).check_seals(
        records, [load_key(old).key_id]
    )
    assert check.ok, [str(f) for f in check.findings]
