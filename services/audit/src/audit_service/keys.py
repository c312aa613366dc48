"""Ed25519 signing keys for seals and evidence bundles, kept outside the database.

Owns the key file format (PKCS#8 PEM, unencrypted, mode 0600), key ids and the one
canonical byte encoding every signed object uses. It never stores a private key in the
log: only public keys (and rotations endorsed by the previous key) go there.

Canonical encoding of a signed object: JSON, keys sorted, separators "," and ":",
non-ASCII kept as UTF-8, encoded as UTF-8. A key id is the first 16 hex digits of
SHA-256 over the raw 32-byte public key. docs/audit-bundle.md specifies both.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)


class SigningKeyError(Exception):
    """A key file is missing, unreadable or not an Ed25519 key."""


def canonical(value: Any) -> bytes:
    """The exact bytes that are hashed and signed (see the module docstring)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def key_id_of(public_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public_hex(self) -> str:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return raw.hex()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_hex)

    def sign(self, value: Any) -> str:
        """Hex Ed25519 signature over canonical(value)."""
        return self.private.sign(canonical(value)).hex()


def verify_signature(public_hex: str, value: Any, signature_hex: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
        key.verify(bytes.fromhex(signature_hex), canonical(value))
    except (InvalidSignature, ValueError):
        return False
    return True


def generate_key(path: Path) -> SigningKey:
    """Create a new private key file (refuses to overwrite one)."""
    if path.exists():
        raise SigningKeyError(f"key file {path} already exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return SigningKey(key)


def load_key(path: Path) -> SigningKey:
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise SigningKeyError(f"cannot read the signing key {path}: {error}") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise SigningKeyError(f"signing key {path} is not an Ed25519 key")
    return SigningKey(loaded)
