"""API tokens and roles: who is calling, on whose behalf, and may they do this?

Owns the token file format, hashing, the role model and authentication. Tokens are
random strings shown once when issued; only their SHA-256 is stored, so a leaked token
file does not leak credentials. Roles (see ../shared/DESIGN.md, Security):

    admin        everything
    responder    work incidents: declare, update, resolve; read everything
    integration  send alerts only
    auditor      read-only access to history

The token file is the fast-path cache every API process reads (reloaded whenever the
file is replaced, so a revocation or an expiry takes effect on the next call of every
process without a restart); the log's `credential-*` streams are the authoritative
record of who issued, revoked and rotated what (apikit.credentials, apikit.tokens,
docs/adr/0017). One entry:

    {"name": "alice-laptop", "role": "responder", "sha256": "<hex>", "revoked": false,
     "user": "alice", "expires_at": "2026-12-31T00:00:00Z", "services": ["incident"],
     "integrations": [], "revoked_at": null, "revoked_reason": ""}

Only `name`, `role` and `sha256` are required (older files have only those).

A token may be bound to a paging user: calls made with it act as that user (the
Principal's `name`, which every service records as the events' actor) and the token's
own name is kept as the `credential` for audit.

It must never log or print a token: failures name at most its short fingerprint.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventlog.clock import Clock, system_clock

log = logging.getLogger(__name__)

TOKEN_PREFIX = "fwt_"  # noqa: S105 - a public prefix that makes tokens greppable
FINGERPRINT_LENGTH = 12


class Role(enum.StrEnum):
    ADMIN = "admin"
    RESPONDER = "responder"
    INTEGRATION = "integration"
    AUDITOR = "auditor"


READERS = frozenset({Role.ADMIN, Role.RESPONDER, Role.AUDITOR})
WRITERS = frozenset({Role.ADMIN, Role.RESPONDER})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling.

    `name` is who acts, as every service records it: the paging user the token is bound
    to, else the token's own name. `credential` is the token's name (audit)."""

    name: str
    role: Role
    credential: str = ""
    user: str | None = None
    services: frozenset[str] = frozenset()
    """The services (proto package names: incident, alert, oncall, comms, postmortem,
    audit, runbooks) this token may call; empty means all its role allows."""
    integrations: frozenset[str] = frozenset()
    """The integrations this token may send alerts as; empty means no restriction."""

    def __post_init__(self) -> None:
        if not self.credential:
            object.__setattr__(self, "credential", self.name)

    def may_call(self, service: str) -> bool:
        return not self.services or service in self.services

    def may_use_integration(self, integration: str) -> bool:
        return not self.integrations or integration in self.integrations


@dataclass(frozen=True, slots=True)
class TokenEntry:
    name: str
    role: Role
    sha256: str
    revoked: bool = False
    user: str | None = None
    expires_at: datetime | None = None
    services: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()
    issued_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str = ""

    @property
    def fingerprint(self) -> str:
        return self.sha256[:FINGERPRINT_LENGTH]

    def principal(self) -> Principal:
        return Principal(
            self.user or self.name,
            self.role,
            credential=self.name,
            user=self.user,
            services=frozenset(self.services),
            integrations=frozenset(self.integrations),
        )


class Rejection(enum.StrEnum):
    """Why a call was not authenticated: each gets its own message."""

    MISSING = "missing"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"


class AuthenticationError(Exception):
    """No usable credentials (maps to UNAUTHENTICATED). `reason` says which case."""

    def __init__(self, message: str, reason: Rejection = Rejection.UNKNOWN) -> None:
        super().__init__(message)
        self.reason = reason


class ScopeError(Exception):
    """An authenticated token used outside its scope (maps to PERMISSION_DENIED)."""


class TokenRegistry:
    """The tokens a process accepts, reloaded when the file is replaced."""

    def __init__(
        self,
        path: Path | None,
        entries: Sequence[TokenEntry] = (),
        *,
        clock: Clock = system_clock,
    ) -> None:
        self.path = path
        self.clock = clock
        self._entries = {entry.sha256: entry for entry in entries}
        self._signature: tuple[int, int, int] | None = None
        self._lock = threading.Lock()
        if path is not None:
            self._reload()

    @classmethod
    def from_env(cls) -> TokenRegistry:
        path = os.environ.get("FIREWATCH_TOKENS_FILE")
        if not path:
            raise SystemExit(
                "FIREWATCH_TOKENS_FILE is not set: every API call is authenticated; create "
                "a token with `firewatch-token issue --file var/tokens.json --name you "
                "--role admin` and point FIREWATCH_TOKENS_FILE at that file"
            )
        return cls(Path(path))

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise AuthenticationError(
                "missing bearer token (metadata 'authorization')", Rejection.MISSING
            )
        self._reload()
        digest = hash_token(token)
        with self._lock:
            entry = self._entries.get(digest)
        # compare_digest keeps the lookup's timing independent of near misses.
        if entry is None or not hmac.compare_digest(entry.sha256, digest):
            self._reject(digest, Rejection.UNKNOWN, None)
            raise AuthenticationError(
                f"unknown token (fingerprint {digest[:FINGERPRINT_LENGTH]}): it was never "
                "issued here, or its token file entry was removed",
                Rejection.UNKNOWN,
            )
        if entry.revoked:
            self._reject(digest, Rejection.REVOKED, entry.name)
            when = f" at {_format(entry.revoked_at)}" if entry.revoked_at else ""
            why = f" ({entry.revoked_reason})" if entry.revoked_reason else ""
            raise AuthenticationError(
                f"token {entry.name!r} was revoked{when}{why}; ask an admin for a new one",
                Rejection.REVOKED,
            )
        if entry.expires_at is not None and self.clock() >= entry.expires_at:
            self._reject(digest, Rejection.EXPIRED, entry.name)
            raise AuthenticationError(
                f"token {entry.name!r} expired at {_format(entry.expires_at)}; "
                "ask an admin to rotate it (`firewatch-token rotate`)",
                Rejection.EXPIRED,
            )
        return entry.principal()

    def _reject(self, digest: str, reason: Rejection, name: str | None) -> None:
        # Only a short fingerprint is logged: enough to match the issue or revoke
        # event, never enough to replay or brute-force the token.
        log.warning(
            "rejected API token %s (fingerprint %s%s)",
            reason.value,
            digest[:FINGERPRINT_LENGTH],
            f", name {name!r}" if name else "",
        )

    def _reload(self) -> None:
        if self.path is None:
            return
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return
        # Writers replace the file (new inode), so this notices every change even
        # within one mtime tick.
        signature = (stat.st_mtime_ns, stat.st_ino, stat.st_size)
        if signature == self._signature:
            return
        entries = load_entries(self.path)
        with self._lock:
            self._entries = {entry.sha256: entry for entry in entries}
            self._signature = signature


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(token: str) -> str:
    """The short SHA-256 prefix events and logs name a token by."""
    return hash_token(token)[:FINGERPRINT_LENGTH]


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _format(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---------------------------------------------------------------------- the file


def load_entries(path: Path) -> list[TokenEntry]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [
            TokenEntry(
                item["name"],
                Role(item["role"]),
                item["sha256"],
                bool(item.get("revoked")),
                user=item.get("user") or None,
                expires_at=_parse(item.get("expires_at")),
                services=tuple(item.get("services") or ()),
                integrations=tuple(item.get("integrations") or ()),
                issued_at=_parse(item.get("issued_at")),
                revoked_at=_parse(item.get("revoked_at")),
                revoked_reason=item.get("revoked_reason") or "",
            )
            for item in raw.get("tokens", [])
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"token file {path} is unreadable: {exc}") from exc


def _entry_json(entry: TokenEntry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "role": entry.role.value,
        "sha256": entry.sha256,
        "revoked": entry.revoked,
        "user": entry.user,
        "expires_at": _format(entry.expires_at) or None,
        "services": list(entry.services),
        "integrations": list(entry.integrations),
        "issued_at": _format(entry.issued_at) or None,
        "revoked_at": _format(entry.revoked_at) or None,
        "revoked_reason": entry.revoked_reason,
    }


@contextlib.contextmanager
def editing(path: Path) -> Iterator[list[TokenEntry]]:
    """Read-modify-replace the token file under an exclusive lock: two concurrent
    `firewatch-token` runs never lose each other's change, and readers only ever see a
    whole old file or a whole new one (atomic rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = load_entries(path) if path.exists() else []
        yield entries
        body = {"tokens": [_entry_json(e) for e in entries]}
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        temporary.chmod(0o600)
        temporary.replace(path)


def issue_token(
    path: Path,
    name: str,
    role: Role,
    *,
    user: str | None = None,
    expires_at: datetime | None = None,
    services: Sequence[str] = (),
    integrations: Sequence[str] = (),
    token: str | None = None,
    issued_at: datetime | None = None,
) -> str:
    """Create a token for `name`, store its hash in `path`, return the token (once).

    This only writes the file; `firewatch-token issue` (apikit.tokens) also records the
    issue in the log, which is what an auditor reads."""
    token = token or new_token()
    entry = TokenEntry(
        name,
        role,
        hash_token(token),
        user=user,
        expires_at=expires_at,
        services=tuple(services),
        integrations=tuple(integrations),
        issued_at=issued_at,
    )
    with editing(path) as entries:
        entries.append(entry)
    return token


def revoke_in_file(path: Path, name: str, at: datetime, reason: str = "") -> int:
    """Mark every live entry named `name` revoked; returns how many were."""
    changed = 0
    with editing(path) as entries:
        for index, entry in enumerate(entries):
            if entry.name == name and not entry.revoked:
                entries[index] = replace(entry, revoked=True, revoked_at=at, revoked_reason=reason)
                changed += 1
    return changed


@dataclass(frozen=True, slots=True)
class Rotation:
    """What `rotate_in_file` replaced."""

    token: str
    previous: TokenEntry
    current: TokenEntry


def rotate_in_file(
    path: Path, name: str, at: datetime, *, expires_at: datetime | None, token: str
) -> Rotation:
    """Replace `name`'s live token with `token` (same role, user and scope); the old
    one is revoked at once."""
    with editing(path) as entries:
        live = [i for i, e in enumerate(entries) if e.name == name and not e.revoked]
        if not live:
            raise LookupError(f"no live token named {name!r} in {path}")
        previous = entries[live[-1]]
        for index in live:
            entries[index] = replace(
                entries[index], revoked=True, revoked_at=at, revoked_reason="rotated"
            )
        current = replace(
            previous,
            sha256=hash_token(token),
            expires_at=expires_at,
            issued_at=at,
            revoked=False,
            revoked_at=None,
            revoked_reason="",
        )
        entries.append(current)
    return Rotation(token, previous, current)
