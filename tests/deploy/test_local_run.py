"""`make run`'s bootstrap (deploy/local/run.py), on a real SQLite log."""

from __future__ import annotations

from pathlib import Path

from eventlog import open_store
from tests.deploy.catalogue import load


def test_the_platform_identity_is_the_first_event_of_a_fresh_log(tmp_path: Path) -> None:
    # ADR 0012: the identity is position 1 on a fresh log, before the bootstrap's own
    # events (the admin token's TokenIssued).
    run = load("deploy/local/run.py", "firewatch_deploy_run")
    url = f"sqlite:///{tmp_path / 'home' / 'eventlog.db'}"
    run.prepare_home(tmp_path / "home", url)
    with open_store(url) as store:
        first, *rest = store.read_all()
        assert store.platform_identity().position == 1
    assert (first.stream, first.type, first.position) == (
        "platform-identity",
        "PlatformInitialized",
        1,
    )
    assert [event.type for event in rest] == ["TokenIssued"]
