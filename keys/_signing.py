"""Ed25519 signatures, for what must be checked without the vault's secret keys (the audit
log's off-host copy). The private key is a random 32-byte seed kept like any other system key
(wrapped by the master key); the public key is derived from it and may be published."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from keys._aead import SecretKey

PUBLIC_KEY_BYTES = 32


def fingerprint(public_key: bytes) -> str:
    """A short name of a public key to compare by eye or pass on the command line:
    ``ed25519:`` and the first 128 bits of its SHA-256, in hex."""
    return "ed25519:" + hashlib.sha256(public_key).hexdigest()[:32]


class SigningKey:
    """An Ed25519 key whose seed is a ``SecretKey``'s material."""

    def __init__(self, seed: SecretKey) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(seed.material)
        self.public_key = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def __repr__(self) -> str:  # never the seed
        return f"SigningKey({fingerprint(self.public_key)})"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


def signature_valid(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s over ``message``; False for any malformed input."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
