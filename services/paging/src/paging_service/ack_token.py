"""Signed, expiring one-click acknowledgement tokens for the link in a page.

Owns the token format and nothing else: `issue` signs (page id, user, expiry) with
HMAC-SHA256 under a secret the caller injects; `verify` checks the signature in
constant time and the expiry against an instant the caller passes. Pure: no clock, no
storage, no secret of its own. Rotating the secret invalidates outstanding links.

Format: ``base64url(payload) "." base64url(mac)`` where payload is
``v1|<page uuid>|<user>|<expiry unix seconds>``; no padding, URL-safe as is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.domain import DomainError

VERSION = "v1"
MIN_SECRET_BYTES = 32


class InvalidAckTokenError(DomainError, ValueError):
    """The token is malformed, forged, signed with another secret, or expired."""


@dataclass(frozen=True, slots=True)
class AckClaim:
    page_id: uuid.UUID
    user_id: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check_secret(secret: bytes) -> None:
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the ack secret must be at least {MIN_SECRET_BYTES} bytes")


def issue(secret: bytes, page_id: uuid.UUID, user_id: str, expires_at: datetime) -> str:
    _check_secret(secret)
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    if "|" in user_id:
        raise ValueError("user_id cannot contain '|'")
    payload = f"{VERSION}|{page_id}|{user_id}|{int(expires_at.timestamp())}".encode()
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def verify(secret: bytes, token: str, now: datetime) -> AckClaim:
    """The claim in a genuine, unexpired token; InvalidAckTokenError otherwise."""
    _check_secret(secret)
    try:
        encoded_payload, encoded_mac = token.strip().split(".")
        payload = _unb64(encoded_payload)
        mac = _unb64(encoded_mac)
    except (ValueError, TypeError):
        raise InvalidAckTokenError("the acknowledgement link is malformed") from None
    expected = hmac.new(secret, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise InvalidAckTokenError("the acknowledgement link is not genuine")
    try:
        version, page, user, expiry = payload.decode().split("|")
        claim = AckClaim(uuid.UUID(page), user, datetime.fromtimestamp(int(expiry), UTC))
    except ValueError:
        raise InvalidAckTokenError("the acknowledgement link is malformed") from None
    if version != VERSION:
        raise InvalidAckTokenError(f"unsupported token version {version!r}")
    if now >= claim.expires_at:
        raise InvalidAckTokenError(
            f"the acknowledgement link expired at {claim.expires_at.isoformat()}"
        )
    return claim
