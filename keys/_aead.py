"""The AEAD recipe: AES-256-GCM with a versioned header and bound associated data.

A Fernet-shaped wrapper around ``AESGCM``. A token is::

    0x01 | key version (4 bytes, big-endian) | nonce (12 bytes) | ciphertext || tag (16 bytes)

The header is part of the associated data, so neither the format byte nor the key version can
be changed without the tag failing. Nonces are random (96 bits) and made inside every call; a
key encrypts far fewer than the 2**32 messages at which random nonces become a risk, because
every document has its own key and large files go through the chunked stream instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys._context import Context
from keys.errors import EmptyKeyring, IntegrityFailed, KeyVersionRetired

RECORD_FORMAT = 0x01
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_HEADER_BYTES = 1 + 4 + NONCE_BYTES


@dataclass(frozen=True, slots=True, repr=False)
class SecretKey:
    """A 256-bit key with its version. Only ever made by ``generate`` or by unwrapping."""

    material: bytes = field(repr=False)
    version: int = 1

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise ValueError("a key is 32 bytes")
        if not 1 <= self.version < 2**32:
            raise ValueError("a key version is a positive 32-bit number")

    def __repr__(self) -> str:  # never show the material, not even in a traceback
        return f"SecretKey(version={self.version})"

    @classmethod
    def generate(cls, version: int = 1) -> SecretKey:
        return cls(AESGCM.generate_key(bit_length=256), version)

    def encrypt(self, plaintext: bytes, context: Context) -> bytes:
        header = bytes([RECORD_FORMAT]) + self.version.to_bytes(4, "big") + os.urandom(NONCE_BYTES)
        nonce = header[5:]
        return header + AESGCM(self.material).encrypt(nonce, plaintext, header + context.encode())

    def decrypt(self, token: bytes, context: Context) -> bytes:
        if token_version(token) != self.version:
            raise IntegrityFailed()
        nonce = token[5:_HEADER_BYTES]
        try:
            return AESGCM(self.material).decrypt(
                nonce, token[_HEADER_BYTES:], token[:_HEADER_BYTES] + context.encode()
            )
        except InvalidTag:
            raise IntegrityFailed() from None


def token_version(token: bytes) -> int:
    """The key version a record token was made with; IntegrityFailed if it is not a token."""
    if len(token) < _HEADER_BYTES + TAG_BYTES or token[0] != RECORD_FORMAT:
        raise IntegrityFailed()
    return int.from_bytes(token[1:5], "big")


class Keyring:
    """Several versions of one key, in the manner of ``MultiFernet``.

    The newest version encrypts; any listed version at or above ``min_decryption_version``
    decrypts; ``rotate`` re-encrypts a token under the newest version.
    """

    def __init__(self, keys: list[SecretKey], *, min_decryption_version: int = 1) -> None:
        if not keys:
            raise EmptyKeyring("a keyring needs at least one key")
        self._keys = {k.version: k for k in keys}
        if len(self._keys) != len(keys):
            raise ValueError("two keys share a version")
        self.primary = self._keys[max(self._keys)]
        self.min_decryption_version = min_decryption_version

    def __repr__(self) -> str:
        return f"Keyring(versions={sorted(self._keys)}, min={self.min_decryption_version})"

    @property
    def versions(self) -> list[int]:
        return sorted(self._keys)

    def key(self, version: int) -> SecretKey:
        """The key of one version, refusing retired and unknown versions."""
        if version < self.min_decryption_version:
            raise KeyVersionRetired(
                f"key version {version} is retired; the data under it must be rewrapped "
                "before retirement or restored from a backup"
            )
        try:
            return self._keys[version]
        except KeyError:
            raise IntegrityFailed() from None

    def encrypt(self, plaintext: bytes, context: Context) -> bytes:
        return self.primary.encrypt(plaintext, context)

    def decrypt(self, token: bytes, context: Context) -> bytes:
        return self.key(token_version(token)).decrypt(token, context)

    def rotate(self, token: bytes, context: Context) -> bytes:
        return self.encrypt(self.decrypt(token, context), context)


def wrap_key(parent: Keyring | SecretKey, child: SecretKey, context: Context) -> bytes:
    """Encrypt a child key under its parent. The child's version is bound in the context."""
    return parent.encrypt(child.material, _wrap_context(context, child.version))


def unwrap_key(parent: Keyring | SecretKey, token: bytes, context: Context, version: int) -> SecretKey:
    return SecretKey(parent.decrypt(token, _wrap_context(context, version)), version)


def _wrap_context(context: Context, child_version: int) -> Context:
    return Context(f"{context.purpose}/key", context.case_id, context.document_id, child_version)
