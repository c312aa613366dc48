"""API tokens: issued, listed, scoped, expired, revoked and rotated, on the record.

Real SQLite logs in a temporary folder and real token files; the clock is a FakeClock
so expiry is tested without waiting.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apikit import credentials as cr
from apikit.auth import (
    AuthenticationError,
    Rejection,
    Role,
    TokenRegistry,
    fingerprint,
    hash_token,
    issue_token,
)
from apikit.tokens import TokenAdmin, api_names, main, parse_expiry
from appkit import acting_with
from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.fixtures import replay_fixtures
from eventlog import EventFilter, EventStore, FakeClock, open_store
from paging_service.app import PagingApplication

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@dataclass
class Home:
    path: Path
    url: str
    clock: FakeClock
    store: EventStore
    admin: TokenAdmin

    @property
    def tokens_file(self) -> Path:
        return self.path / "tokens.json"

    def registry(self) -> TokenRegistry:
        return TokenRegistry(self.tokens_file, clock=self.clock)

    def credential_events(self) -> list[tuple[str, dict[str, object], str | None]]:
        return [
            (e.type, dict(e.data), e.metadata.actor)
            for e in self.store.read_all(filter=EventFilter.of(categories=["credential"]))
        ]


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    url = f"sqlite:///{tmp_path / 'eventlog.db'}"
    clock = FakeClock(T0)
    paging = open_store(url, writer="paging", clock=clock)
    PagingApplication(paging, clock).register_user("oncall", "On-call engineer", "UTC")
    paging.close()
    store = open_store(url, writer="credentials", clock=clock)
    try:
        yield Home(tmp_path, url, clock, store, TokenAdmin(store, tmp_path / "tokens.json", clock))
    finally:
        store.close()


def test_every_published_credential_event_version_replays() -> None:
    cr.EVENTS.check_complete()
    replayed = replay_fixtures(cr.EVENTS, ROOT / "libs" / "apikit" / "fixtures")
    assert {r.event_type for r in replayed} == set(cr.EVENTS.types)


def test_issuing_records_who_issued_what_but_never_the_token(home: Home) -> None:
    token = home.admin.issue(
        "oncall-laptop",
        Role.RESPONDER,
        by="root",
        user="oncall",
        expires_at=T0 + timedelta(days=30),
        services=["incident", "oncall"],
    )
    [(kind, data, actor)] = home.credential_events()
    assert (kind, actor) == ("TokenIssued", "root")
    assert data["fingerprint"] == fingerprint(token) == hash_token(token)[:12]
    assert data["user"] == "oncall"
    assert data["services"] == ["incident", "oncall"]
    assert data["expires_at"] == "2026-12-27T02:00:00Z"
    log_bytes = (home.path / "eventlog.db").read_bytes()
    assert token.encode() not in log_bytes
    assert hash_token(token).encode() not in log_bytes  # only the short prefix
    assert token not in home.tokens_file.read_text()


def test_a_bound_token_acts_as_its_person_and_names_itself_as_the_credential(
    home: Home,
) -> None:
    token = home.admin.issue("oncall-laptop", Role.RESPONDER, by="root", user="oncall")
    principal = home.registry().authenticate(token)
    assert (principal.name, principal.credential, principal.user) == (
        "oncall",
        "oncall-laptop",
        "oncall",
    )
    unbound = issue_token(home.tokens_file, "ci-bot", Role.ADMIN)
    assert home.registry().authenticate(unbound).name == "ci-bot"


def test_a_token_can_be_bound_only_to_a_registered_paging_user(home: Home) -> None:
    with pytest.raises(InvalidCommandError) as refused:
        home.admin.issue("x", Role.RESPONDER, by="root", user="nobody")
    assert refused.value.field == "user"
    assert home.credential_events() == []
    assert not home.tokens_file.exists()


def test_expired_revoked_and_unknown_tokens_get_distinct_reasons(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    expiring = home.admin.issue(
        "short", Role.RESPONDER, by="root", expires_at=T0 + timedelta(hours=1)
    )
    revoked = home.admin.issue("leaked", Role.ADMIN, by="root")
    home.admin.revoke("leaked", by="root", reason="pasted in a chat")
    registry = home.registry()
    assert registry.authenticate(expiring).credential == "short"
    home.clock.advance(3600)
    caplog.set_level(logging.WARNING, logger="apikit.auth")

    def rejection(token: str | None) -> AuthenticationError:
        with pytest.raises(AuthenticationError) as raised:
            registry.authenticate(token)
        return raised.value

    expired = rejection(expiring)
    assert expired.reason is Rejection.EXPIRED
    assert str(expired) == (
        "token 'short' expired at 2026-11-27T03:00:00Z; ask an admin to rotate it "
        "(`firewatch-token rotate`)"
    )
    gone = rejection(revoked)
    assert gone.reason is Rejection.REVOKED
    assert "token 'leaked' was revoked at 2026-11-27T02:00:00Z (pasted in a chat)" in str(gone)
    stranger = "fwt_" + "x" * 43
    unknown = rejection(stranger)
    assert unknown.reason is Rejection.UNKNOWN
    assert str(unknown).startswith(f"unknown token (fingerprint {fingerprint(stranger)})")
    assert rejection(None).reason is Rejection.MISSING
    logged = caplog.text
    assert fingerprint(stranger) in logged
    assert fingerprint(revoked) in logged
    for secret in (expiring, revoked, stranger):
        assert secret not in logged
        assert hash_token(secret) not in logged


def test_revocation_reaches_a_registry_that_already_loaded_the_file(home: Home) -> None:
    token = home.admin.issue("alice", Role.RESPONDER, by="root")
    registry = home.registry()
    assert registry.authenticate(token).name == "alice"
    home.admin.revoke("alice", by="root")
    with pytest.raises(AuthenticationError, match="was revoked"):
        registry.authenticate(token)
    assert [kind for kind, _, _ in home.credential_events()] == ["TokenIssued", "TokenRevoked"]


def test_revoking_twice_records_one_revocation(home: Home) -> None:
    home.admin.issue("alice", Role.RESPONDER, by="root")
    assert home.admin.revoke("alice", by="root") is True
    assert home.admin.revoke("alice", by="root") is False
    assert [kind for kind, _, _ in home.credential_events()] == ["TokenIssued", "TokenRevoked"]


def test_revoking_an_unknown_name_is_not_found_and_records_nothing(home: Home) -> None:
    with pytest.raises(NotFoundError, match="no token named 'ghost'"):
        home.admin.revoke("ghost", by="root")
    assert home.credential_events() == []


def test_a_token_issued_before_tokens_were_recorded_can_still_be_revoked_on_the_record(
    home: Home,
) -> None:
    old = issue_token(home.tokens_file, "local-admin", Role.ADMIN)
    home.admin.revoke("local-admin", by="root", reason="replaced")
    [(kind, data, _)] = home.credential_events()
    assert kind == "TokenRevoked"
    assert data["fingerprint"] == fingerprint(old)
    with pytest.raises(AuthenticationError, match="revoked"):
        home.registry().authenticate(old)


def test_rotation_keeps_role_user_and_scope_and_stops_the_old_secret_at_once(
    home: Home,
) -> None:
    old = home.admin.issue(
        "oncall-laptop", Role.RESPONDER, by="root", user="oncall", services=["oncall"]
    )
    registry = home.registry()
    registry.authenticate(old)
    new = home.admin.rotate("oncall-laptop", by="root", expires_at=T0 + timedelta(days=7))
    with pytest.raises(AuthenticationError, match=r"'oncall-laptop' was revoked .*rotated"):
        registry.authenticate(old)
    principal = registry.authenticate(new)
    assert (principal.name, principal.role, principal.services) == (
        "oncall",
        Role.RESPONDER,
        frozenset({"oncall"}),
    )
    kinds = home.credential_events()
    assert [k for k, _, _ in kinds] == ["TokenIssued", "TokenRotated"]
    assert kinds[1][1]["previous_fingerprint"] == fingerprint(old)
    assert kinds[1][1]["fingerprint"] == fingerprint(new)


def test_a_revoked_token_cannot_be_rotated_and_a_live_name_cannot_be_reissued(
    home: Home,
) -> None:
    home.admin.issue("alice", Role.RESPONDER, by="root")
    with pytest.raises(InvalidCommandError, match="exists"):
        home.admin.issue("alice", Role.ADMIN, by="root")
    home.admin.revoke("alice", by="root")
    with pytest.raises(PreconditionFailedError, match="was revoked; issue a new one"):
        home.admin.rotate("alice", by="root")
    home.admin.issue("alice", Role.RESPONDER, by="root")  # a new token under the old name


def test_the_log_answers_which_credentials_could_write_at_an_instant(home: Home) -> None:
    home.admin.issue("root-token", Role.ADMIN, by="root")
    home.admin.issue("audrey", Role.AUDITOR, by="root")
    home.admin.issue("night", Role.RESPONDER, by="root", expires_at=T0 + timedelta(minutes=30))
    home.clock.advance(10 * 60)
    home.admin.issue("leaked", Role.RESPONDER, by="root")
    home.clock.advance(10 * 60)  # 02:20
    home.admin.revoke("leaked", by="root")
    home.clock.advance(60 * 60)

    def live_writers(at: datetime) -> list[str]:
        return [
            row.name
            for row in home.admin.listing(as_of=at)
            if row.status == "active" and row.role in ("admin", "responder")
        ]

    at_0217 = datetime(2026, 11, 27, 2, 17, tzinfo=UTC)
    assert live_writers(at_0217) == ["leaked", "night", "root-token"]
    assert live_writers(datetime(2026, 11, 27, 2, 45, tzinfo=UTC)) == ["root-token"]
    statuses = {row.name: row.status for row in home.admin.listing()}
    assert statuses == {
        "audrey": "active",
        "leaked": "revoked",
        "night": "expired",
        "root-token": "active",
    }


def test_the_cli_lists_who_could_write_at_an_instant_by_role_scope_and_status(
    home: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    """`list --as-of T --writers --json`: only credentials active at T whose role and
    service scope can append facts; integration tokens count (through alert), a
    responder scoped to the audit API and an auditor do not."""
    home.admin.issue("root-token", Role.ADMIN, by="root")
    home.admin.issue("audrey", Role.AUDITOR, by="root")
    home.admin.issue("ci", Role.INTEGRATION, by="root", integrations=["ci"])
    home.admin.issue("reader", Role.RESPONDER, by="root", services=["audit"])
    home.admin.issue(
        "night", Role.RESPONDER, by="root", user="oncall", services=["incident", "oncall"],
        expires_at=T0 + timedelta(minutes=30),
    )  # fmt: skip
    home.clock.advance(10 * 60)
    home.admin.issue("leaked", Role.RESPONDER, by="root")
    home.clock.advance(10 * 60)  # 02:20
    home.admin.revoke("leaked", by="root", reason="laptop lost")
    home.admin.issue("later", Role.ADMIN, by="root")
    common = ["--file", str(home.tokens_file), "--store", home.url]

    assert main(["list", *common, "--as-of", "2026-11-27T02:17:00Z", "--writers", "--json"]) == 0
    rows = {r["name"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert sorted(rows) == ["ci", "leaked", "night", "root-token"]
    assert rows["ci"]["writes_through"] == ["alert"]
    assert rows["night"]["writes_through"] == ["incident", "oncall"]
    assert rows["night"]["user"] == "oncall"
    assert "audit" not in rows["root-token"]["writes_through"]
    assert {"alert", "incident", "oncall", "runbooks"} <= set(rows["root-token"]["writes_through"])
    assert all(r["status"] == "active" and r["could_write"] for r in rows.values())

    assert main(["list", *common, "--as-of", "2026-11-27T02:17:00Z", "--json"]) == 0
    every = {r["name"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert sorted(every) == ["audrey", "ci", "leaked", "night", "reader", "root-token"]
    assert (every["audrey"]["could_write"], every["reader"]["could_write"]) == (False, False)

    assert main(["list", *common, "--as-of", "2026-11-27T02:45:00Z", "--writers"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in table] == ["NAME", "ci", "later", "root-token"]

    assert main(["list", *common, "--as-of", "02:17 yesterday", "--writers"]) == 1
    assert "as_of: '02:17 yesterday' is not an ISO-8601 instant" in capsys.readouterr().err


def test_tokens_only_the_file_knows_are_listed_as_unrecorded(home: Home) -> None:
    issue_token(home.tokens_file, "local-admin", Role.ADMIN)
    [row] = home.admin.listing()
    assert (row.name, row.status, row.recorded) == ("local-admin", "active", False)


def test_expiry_takes_durations_and_instants_and_names_the_field() -> None:
    assert parse_expiry("30d", T0) == T0 + timedelta(days=30)
    assert parse_expiry("90m", T0) == T0 + timedelta(minutes=90)
    assert parse_expiry("2027-01-01T00:00:00Z", T0) == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidCommandError) as bad:
        parse_expiry("soon", T0)
    assert bad.value.field == "expires"


def test_an_expiry_in_the_past_is_refused(home: Home) -> None:
    with pytest.raises(InvalidCommandError, match="expires: must be in the future"):
        home.admin.issue("x", Role.ADMIN, by="root", expires_at=T0 - timedelta(seconds=1))


def test_events_appended_on_behalf_of_a_credential_carry_its_name(home: Home) -> None:
    with acting_with("oncall-laptop"):
        home.admin.issue("other", Role.AUDITOR, by="oncall")
    [event] = home.store.read_all(filter=EventFilter.of(categories=["credential"]))
    assert (event.metadata.actor, event.metadata.credential) == ("oncall", "oncall-laptop")
    assert home.store.verify(event.stream).ok


def test_the_cli_issues_lists_rotates_and_revokes(
    home: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--file", str(home.tokens_file), "--store", home.url, "--by", "root"]
    assert main(["issue", *common, "--name", "pager", "--role", "responder", "--user", "oncall",
                 "--expires", "30d", "--services", "oncall,incident"]) == 0  # fmt: skip
    issued = capsys.readouterr()
    token = issued.out.strip()
    assert token.startswith("fwt_")
    assert f"recorded by root in the log at {home.url}" in issued.err
    assert main(["list", *common, "--json"]) == 0
    [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed["user"] == "oncall"
    assert listed["services"] == ["incident", "oncall"]
    assert listed["fingerprint"] == fingerprint(token)
    assert listed["status"] == "active"
    assert main(["rotate", *common, "--name", "pager"]) == 0
    rotated = capsys.readouterr().out.strip()
    assert rotated != token
    assert main(["revoke", *common, "--name", "pager", "--reason", "left the team"]) == 0
    assert capsys.readouterr().out.strip() == "revoked pager"
    assert main(["list", *common]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["revoke", *common, "--name", "ghost"]) == 1
    assert "no token named 'ghost'" in capsys.readouterr().err
    registry = home.registry()
    for secret in (token, rotated):
        with pytest.raises(AuthenticationError, match="revoked"):
            registry.authenticate(secret)


def test_a_scope_names_known_apis_and_a_typo_is_refused(
    home: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    assert {"incident", "alert", "oncall", "comms", "postmortem", "audit"} <= api_names()
    assert "eventlog" not in api_names()  # messages only, no service
    common = ["--file", str(home.tokens_file), "--store", home.url]
    assert main(["issue", *common, "--name", "x", "--role", "admin", "--services", "incdent"]) == 1
    assert "services: 'incdent' is not an API" in capsys.readouterr().err
    assert home.credential_events() == []


def test_an_issue_recorded_but_never_stored_is_not_rotated_but_revoked_and_reissued(
    home: Home,
) -> None:
    home.admin.issue("alice", Role.RESPONDER, by="root")
    home.tokens_file.write_text('{"tokens": []}\n', encoding="utf-8")  # the file write "failed"
    with pytest.raises(InvalidCommandError, match="revoke it and issue a new one"):
        home.admin.rotate("alice", by="root")
    assert [kind for kind, _, _ in home.credential_events()] == ["TokenIssued"]
    home.admin.revoke("alice", by="root")
    token = home.admin.issue("alice", Role.RESPONDER, by="root")
    assert home.registry().authenticate(token).credential == "alice"


def test_messages_never_show_a_store_password() -> None:
    from apikit.tokens import _redacted

    assert _redacted("postgresql://fw:s3cret@db:5432/x") == "postgresql://fw:***@db:5432/x"
    assert _redacted("sqlite:///var/firewatch/eventlog.db") == "sqlite:///var/firewatch/eventlog.db"
