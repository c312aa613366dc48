"""API tokens and roles: who is calling, and may they do this?

Owns the token file format, hashing and the role model. Tokens are random strings shown
once when issued; only their SHA-256 is stored, so a leaked token file does not leak
credentials. Roles (see ../shared/DESIGN.md, Security):

    admin        everything
    responder    work incidents: declare, update, resolve; read everything
    integration  send alerts only
    auditor      read-only access to history

The token file is JSON: {"tokens": [{"name": "alice", "role": "responder",
"sha256": "<hex>", "revoked": false}]}. `firewatch-token issue` writes it.
"""

from __future__ import annotations

import argparse
import enum
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

TOKEN_PREFIX = "fwt_"  # noqa: S105 - a public prefix that makes tokens greppable


class Role(enum.StrEnum):
    ADMIN = "admin"
    RESPONDER = "responder"
    INTEGRATION = "integration"
    AUDITOR = "auditor"


READERS = frozenset({Role.ADMIN, Role.RESPONDER, Role.AUDITOR})
WRITERS = frozenset({Role.ADMIN, Role.RESPONDER})


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class TokenEntry:
    name: str
    role: Role
    sha256: str
    revoked: bool = False


class AuthenticationError(Exception):
    """No usable credentials (maps to UNAUTHENTICATED)."""


class TokenRegistry:
    """The tokens a process accepts, reloaded when the file changes."""

    def __init__(self, path: Path | None, entries: Sequence[TokenEntry] = ()) -> None:
        self.path = path
        self._entries = {entry.sha256: entry for entry in entries}
        self._mtime: float | None = None
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
            raise AuthenticationError("missing bearer token (metadata 'authorization')")
        self._reload()
        digest = hash_token(token)
        with self._lock:
            entry = self._entries.get(digest)
        # compare_digest keeps the lookup's timing independent of near misses.
        if entry is None or not hmac.compare_digest(entry.sha256, digest):
            raise AuthenticationError("unknown token")
        if entry.revoked:
            raise AuthenticationError(f"token {entry.name!r} was revoked")
        return Principal(entry.name, entry.role)

    def _reload(self) -> None:
        if self.path is None or not self.path.exists():
            return
        mtime = self.path.stat().st_mtime
        if mtime == self._mtime:
            return
        entries = load_entries(self.path)
        with self._lock:
            self._entries = {entry.sha256: entry for entry in entries}
            self._mtime = mtime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_entries(path: Path) -> list[TokenEntry]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [
            TokenEntry(item["name"], Role(item["role"]), item["sha256"], bool(item.get("revoked")))
            for item in raw.get("tokens", [])
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"token file {path} is unreadable: {exc}") from exc


def issue_token(path: Path, name: str, role: Role) -> str:
    """Create a token for `name`, store its hash in `path`, return the token (once)."""
    entries = load_entries(path) if path.exists() else []
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    entries.append(TokenEntry(name, role, hash_token(token)))
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"tokens": [{**asdict(e), "role": e.role.value} for e in entries]}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)
    return token


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="firewatch-token", description="Manage API tokens.")
    commands = parser.add_subparsers(dest="command", required=True)
    issue = commands.add_parser("issue", help="create a token and print it once")
    issue.add_argument("--file", type=Path, required=True, help="token file to update")
    issue.add_argument("--name", required=True, help="who or what the token is for")
    issue.add_argument("--role", required=True, choices=[r.value for r in Role])
    args = parser.parse_args(argv)
    token = issue_token(args.file, args.name, Role(args.role))
    print(token)
    print(f"stored the hash of {args.name}'s {args.role} token in {args.file}", file=sys.stderr)
    return 0
