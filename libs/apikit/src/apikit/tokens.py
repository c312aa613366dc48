"""`firewatch-token list | issue | revoke | rotate`: managing API tokens, on the record.

Owns the one use case layer over credentials: each change is first appended to the
log as a fact (apikit.credentials: who did what, when; never the token), then applied
to the token file every API process reads. That order means a failure between the two
leaves a recorded change that is not yet effective, never an effective one that is
unrecorded; every command is safe to run again, and running it again completes it
(docs/adr/0017).

`list` answers from the log, so `--as-of` shows which tokens were live at any instant
("which credentials could write at 02:17": `list --as-of 02:17 --writers`). The same
fold answers the auditor through the audit service (`credentials_at`, AuditService
ListCredentials, `incidentctl audit credentials`).

"Could write" (`writes_through`): a credential active at the instant (issued, not
revoked, not expired) whose role lets it append facts through at least one API, within
its service scope: admin and responder through every API but audit, integration
through `alert` only (SendAlert, PingHeartbeat, PushSamples: alerts that open
incidents), auditor through none. The audit API is never counted: what it appends (who
read what, seals) records reads, it changes no fact.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apikit import credentials as cr
from apikit.auth import (
    Role,
    TokenEntry,
    fingerprint,
    issue_token,
    load_entries,
    new_token,
    revoke_in_file,
    rotate_in_file,
)
from appkit import Aggregate, CommandRunner, EventIds, uncorrelated
from contracts.domain import DomainError, InvalidCommandError
from eventlog import EventFilter, EventLogError, EventStore, open_store
from eventlog.clock import Clock, system_clock

ID_NAMESPACE = uuid.UUID("5b0d4c8e-7f57-4c1e-9a44-1f3d0d6b2a17")
"""Fixed forever: event ids of credential commands derive from it."""

CREDENTIAL = Aggregate(cr.STREAM_CATEGORY, cr.INITIAL, cr.decide, cr.evolve, uncorrelated)
USER_CATEGORY = "user"
"""The paging service's users (paging_service.user): the people a token can act as."""

_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str | None, now: datetime) -> datetime | None:
    """`30d`, `12h`, `90m`, `2w`, or an ISO-8601 instant (UTC when no offset)."""
    if not text:
        return None
    match = _DURATION.match(text.strip())
    if match:
        return now + timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        return parse_instant(text, "expires")
    except InvalidCommandError:
        raise InvalidCommandError(
            "expires", f"{text!r} is neither a duration (30d, 12h, 90m, 2w) nor an ISO instant"
        ) from None


def parse_instant(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidCommandError(field, f"{text!r} is not an ISO-8601 instant") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def api_names() -> frozenset[str]:
    """The APIs a token can be scoped to: every `firewatch.<name>.v1` package with a
    gRPC service in the generated stubs, so a new service is scopable at once."""
    import firewatch

    return frozenset(
        path.relative_to(root).parts[0]
        for root in map(Path, firewatch.__path__)
        for path in root.glob("*/v*/*_pb2_grpc.py")
        if "Servicer" in path.read_text(encoding="utf-8")
    )


def _services(text: str | None) -> tuple[str, ...]:
    names = _names(text, "services")
    known = api_names()
    for name in names:
        if name not in known:
            raise InvalidCommandError(
                "services", f"{name!r} is not an API; choose from {', '.join(sorted(known))}"
            )
    return names


WRITE_APIS_BY_ROLE: dict[Role, frozenset[str] | None] = {
    Role.ADMIN: None,  # every API but audit
    Role.RESPONDER: None,
    Role.INTEGRATION: frozenset({"alert"}),
    Role.AUDITOR: frozenset(),
}
READ_ONLY_APIS = frozenset({"audit"})
"""APIs whose appends only record reads (access records, seals): never "writing"."""


def writes_through(
    role: str, services: Sequence[str], apis: frozenset[str] | None = None
) -> tuple[str, ...]:
    """The APIs through which a live credential of `role`, scoped to `services` (empty:
    all), could append facts to the log; empty for a credential that cannot write."""
    known = api_names() if apis is None else apis
    try:
        allowed = WRITE_APIS_BY_ROLE[Role(role)]
    except ValueError:
        return ()  # a role this version does not know grants nothing
    reachable = (known - READ_ONLY_APIS) if allowed is None else (allowed & known)
    if services:
        reachable = reachable & frozenset(services)
    return tuple(sorted(reachable))


def _names(text: str | None, field: str) -> tuple[str, ...]:
    if not text:
        return ()
    names = tuple(sorted({part.strip() for part in text.split(",") if part.strip()}))
    for name in names:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,63}$", name):
            raise InvalidCommandError(field, f"{name[:80]!r} is not a valid name")
    return names


@dataclass(frozen=True, slots=True)
class Listed:
    """One row of `list`: a credential as the log knows it (or, for a token issued
    before tokens were recorded, as only the file knows it)."""

    name: str
    role: str
    status: str
    fingerprint: str
    user: str | None
    services: tuple[str, ...]
    integrations: tuple[str, ...]
    expires_at: datetime | None
    issued_at: datetime | None
    recorded: bool
    revoked_at: datetime | None = None
    writes_through: tuple[str, ...] = ()
    """Where it could append facts now (or at the listing's instant): empty unless it
    is active and its role and scope allow a write (see the module docstring)."""

    @property
    def could_write(self) -> bool:
        return bool(self.writes_through)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "status": self.status,
            "fingerprint": self.fingerprint,
            "user": self.user,
            "services": list(self.services),
            "integrations": list(self.integrations),
            "expires_at": _iso(self.expires_at),
            "issued_at": _iso(self.issued_at),
            "recorded": self.recorded,
            "revoked_at": _iso(self.revoked_at),
            "writes_through": list(self.writes_through),
            "could_write": self.could_write,
        }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


class TokenAdmin:
    """Issue, revoke, rotate and list tokens: the log first, then the file."""

    def __init__(self, store: EventStore, path: Path, clock: Clock = system_clock) -> None:
        self.store = store
        self.path = path
        self.clock = clock
        self.runner = CommandRunner(store, cr.EVENTS, EventIds(ID_NAMESPACE))

    def issue(
        self,
        name: str,
        role: Role,
        *,
        by: str,
        user: str | None = None,
        expires_at: datetime | None = None,
        services: Sequence[str] = (),
        integrations: Sequence[str] = (),
    ) -> str:
        """Record and store a new token; returns it (the only time it is shown)."""
        cr.check_name(name)
        if user is not None:
            self._check_user(user)
        live = [e for e in self._file_entries() if e.name == name and not e.revoked]
        if live:
            raise InvalidCommandError(
                "name", f"token {name!r} exists in {self.path}; rotate or revoke it first"
            )
        token = new_token()
        now = self.clock()
        command = cr.Issue(
            name=name,
            role=role.value,
            fingerprint=fingerprint(token),
            at=now,
            user=user,
            services=tuple(services),
            integrations=tuple(integrations),
            expires_at=expires_at,
        )
        self.runner.execute(
            CREDENTIAL, cr.stream_for(name), command, actor=by, key=f"issued/{command.fingerprint}"
        )
        issue_token(
            self.path,
            name,
            role,
            user=user,
            expires_at=expires_at,
            services=services,
            integrations=integrations,
            token=token,
            issued_at=now,
        )
        return token

    def revoke(self, name: str, *, by: str, reason: str = "") -> bool:
        """Record the revocation and apply it; False when it was already revoked."""
        cr.check_name(name)
        now = self.clock()
        live = [e for e in self._file_entries() if e.name == name and not e.revoked]
        result = self.runner.execute(
            CREDENTIAL,
            cr.stream_for(name),
            cr.Revoke(
                name=name,
                at=now,
                reason=reason,
                # A token issued before tokens were recorded is revoked on the record too.
                unrecorded_fingerprint=live[-1].fingerprint if live else "",
            ),
            actor=by,
        )
        changed = revoke_in_file(self.path, name, now, reason)
        return result.appended or changed > 0

    def rotate(self, name: str, *, by: str, expires_at: datetime | None = None) -> str:
        """Replace the token's secret (same role, user and scope); the old one stops
        working at once. Returns the new token."""
        cr.check_name(name)
        recorded = self.runner.read(CREDENTIAL, cr.stream_for(name)).state
        live = any(e.name == name and not e.revoked for e in self._file_entries())
        if recorded.status is cr.Status.ACTIVE and not live:
            # Checked before recording, so a rotation is never recorded but not applied;
            # an issue that was recorded but never reached the file lands here too.
            raise InvalidCommandError(
                "name",
                f"no live token named {name!r} in {self.path}; revoke it and issue a new one",
            )
        token = new_token()
        now = self.clock()
        command = cr.Rotate(
            name=name, fingerprint=fingerprint(token), at=now, expires_at=expires_at
        )
        self.runner.execute(
            CREDENTIAL, cr.stream_for(name), command, actor=by, key=f"rotated/{command.fingerprint}"
        )
        try:
            rotate_in_file(self.path, name, now, expires_at=expires_at, token=token)
        except LookupError as error:
            raise InvalidCommandError("name", str(error)) from None
        return token

    def listing(self, *, as_of: datetime | None = None) -> list[Listed]:
        """Every credential the log records (as of `as_of`), then tokens only the file
        knows (issued before tokens were recorded), marked unrecorded."""
        now = as_of or self.clock()
        rows = credentials_at(self.store, now if as_of is not None else None, now)
        if as_of is None:
            known = {row.name for row in rows}
            apis = api_names()
            for entry in self._file_entries():
                if entry.name in known or entry.revoked:
                    continue
                expired = entry.expires_at is not None and now >= entry.expires_at
                rows.append(
                    Listed(
                        entry.name,
                        entry.role.value,
                        "expired" if expired else "active",
                        entry.fingerprint,
                        entry.user,
                        entry.services,
                        entry.integrations,
                        entry.expires_at,
                        entry.issued_at,
                        recorded=False,
                        writes_through=()
                        if expired
                        else writes_through(entry.role.value, entry.services, apis),
                    )
                )
        return sorted(rows, key=lambda row: row.name)

    def _file_entries(self) -> list[TokenEntry]:
        return load_entries(self.path) if self.path.exists() else []

    def _check_user(self, user: str) -> None:
        # The paging service owns users; any writer may read them (one logical log).
        if not self.store.read_stream(f"{USER_CATEGORY}-{user}", limit=1):
            raise InvalidCommandError(
                "user",
                f"no paging user {user!r} is registered; a token can only be bound to a "
                "person the paging service knows (so acknowledgements can be checked "
                "against who was paged)",
            )


def credentials_at(store: EventStore, until: datetime | None, now: datetime) -> list[Listed]:
    """Every credential the log records, folded from the `credential-*` streams up to
    `until` (None: the whole log) and judged at `now` (active, expired or revoked;
    `writes_through`), sorted by name. Reads the log only: the auditor's answer to
    "which credentials could write at 02:17" (`credentials_at(store, t, t)`)."""
    states: dict[str, cr.Credential] = {}
    for recorded in store.read_all(
        filter=EventFilter.of(categories=[cr.STREAM_CATEGORY]), until=until
    ):
        event = cr.EVENTS.from_recorded(recorded)
        states[recorded.stream] = cr.evolve(states.get(recorded.stream, cr.INITIAL), event)
    apis = api_names()
    rows = []
    for state in states.values():
        status = state.state_at(now)
        rows.append(
            Listed(
                state.name,
                state.role,
                status,
                state.fingerprint,
                state.user,
                state.services,
                state.integrations,
                state.expires_at,
                state.issued_at,
                recorded=True,
                revoked_at=state.revoked_at,
                writes_through=writes_through(state.role, state.services, apis)
                if status == "active"
                else (),
            )
        )
    return sorted(rows, key=lambda row: row.name)


# ---------------------------------------------------------------------- CLI


def _default_file() -> Path:
    return Path(os.environ.get("FIREWATCH_TOKENS_FILE") or "var/firewatch/tokens.json")


def _default_store(path: Path) -> str:
    # `make run` keeps the log next to the token file (var/firewatch/eventlog.db).
    return os.environ.get("FIREWATCH_STORE_URL") or f"sqlite:///{path.parent / 'eventlog.db'}"


def _redacted(url: str) -> str:
    """The store URL without a password, for messages."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--file",
        type=Path,
        help="token file (default $FIREWATCH_TOKENS_FILE, else var/firewatch/tokens.json)",
    )
    common.add_argument(
        "--store",
        help="event log URL (default $FIREWATCH_STORE_URL, else eventlog.db beside the file)",
    )
    common.add_argument("--by", help="who is making the change (default: your login name)")
    parser = argparse.ArgumentParser(
        prog="firewatch-token",
        description="Manage API tokens. Every change is recorded in the event log.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    issue = commands.add_parser("issue", parents=[common], help="create a token, print it once")
    issue.add_argument("--name", required=True, help="the token's name (who or what it is for)")
    issue.add_argument("--role", required=True, choices=[r.value for r in Role])
    issue.add_argument("--user", help="bind it to this paging user: calls act as that person")
    issue.add_argument("--expires", help="30d, 12h, 90m, 2w or an ISO-8601 instant")
    issue.add_argument(
        "--services", help="comma-separated services it may call (incident,oncall,...)"
    )
    issue.add_argument("--integrations", help="comma-separated integrations it may send as")
    revoke = commands.add_parser("revoke", parents=[common], help="stop a token working now")
    revoke.add_argument("--name", required=True)
    revoke.add_argument("--reason", default="", help="why (recorded)")
    rotate = commands.add_parser(
        "rotate", parents=[common], help="replace a token's secret; the old one stops now"
    )
    rotate.add_argument("--name", required=True)
    rotate.add_argument("--expires", help="expiry of the new secret (default: none)")
    listing = commands.add_parser("list", parents=[common], help="tokens, as the log knows them")
    listing.add_argument("--as-of", help="ISO-8601 instant: the tokens as they stood then")
    listing.add_argument(
        "--writers",
        action="store_true",
        help="only tokens that could write then: active, and a role and scope that can "
        "append facts (admin, responder; integration through alert)",
    )
    listing.add_argument("--json", action="store_true", help="JSON lines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    path: Path = args.file or _default_file()
    by = args.by or os.environ.get("FIREWATCH_ACTOR") or getpass.getuser()
    url = args.store or _default_store(path)
    try:
        store = open_store(url, writer=cr.WRITER)
    except (EventLogError, OSError) as error:
        print(f"firewatch-token: cannot open the event log: {error}", file=sys.stderr)
        return 2
    try:
        status = _run(TokenAdmin(store, path), args, by)
    except DomainError as error:
        print(f"firewatch-token: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.command != "list":
        # Say where the record went: a wrong --store would otherwise go unnoticed.
        print(f"recorded by {by} in the log at {_redacted(url)}", file=sys.stderr)
    return status


def _run(admin: TokenAdmin, args: argparse.Namespace, by: str) -> int:
    now = admin.clock()
    if args.command == "issue":
        token = admin.issue(
            args.name,
            Role(args.role),
            by=by,
            user=args.user or None,
            expires_at=parse_expiry(args.expires, now),
            services=_services(args.services),
            integrations=_names(args.integrations, "integrations"),
        )
        print(token)
        bound = f", acting as {args.user}" if args.user else ""
        print(
            f"issued {args.name}'s {args.role} token{bound} (fingerprint {fingerprint(token)}); "
            f"stored its hash in {admin.path}",
            file=sys.stderr,
        )
    elif args.command == "revoke":
        changed = admin.revoke(args.name, by=by, reason=args.reason)
        print(f"revoked {args.name}" if changed else f"{args.name} was already revoked")
    elif args.command == "rotate":
        token = admin.rotate(args.name, by=by, expires_at=parse_expiry(args.expires, now))
        print(token)
        print(
            f"rotated {args.name} (new fingerprint {fingerprint(token)}); the old token no "
            "longer works",
            file=sys.stderr,
        )
    else:
        as_of = parse_instant(args.as_of, "as_of") if args.as_of else None
        rows = admin.listing(as_of=as_of)
        if args.writers:
            rows = [r for r in rows if r.could_write]
        _print_rows(rows, as_json=args.json)
    return 0


def _print_rows(rows: Sequence[Listed], *, as_json: bool) -> None:
    if as_json:
        for row in rows:
            print(json.dumps(row.as_json(), sort_keys=True))
        return
    header = ("NAME", "ROLE", "USER", "STATUS", "EXPIRES", "SCOPE", "WRITES", "FINGERPRINT")
    table = [header]
    for row in rows:
        scope = ",".join(row.services) or "all services"
        if row.integrations:
            scope += "; integrations " + ",".join(row.integrations)
        status = row.status if row.recorded else f"{row.status} (unrecorded)"
        table.append(
            (
                row.name,
                row.role,
                row.user or "-",
                status,
                _iso(row.expires_at) or "never",
                scope,
                ",".join(row.writes_through) or "-",
                row.fingerprint,
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip())
