"""Keyed digests: how casevault recognises a value without storing it or a plain hash of it."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac

from keys._aead import SecretKey


def keyed_digest(key: SecretKey, purpose: str, data: bytes) -> bytes:
    """HMAC-SHA256 of ``data`` under ``key``, separated by ``purpose``.

    Used for duplicate detection and name lookup: a dictionary of common names or known files
    hashed without the key matches nothing.
    """
    return KeyedDigest(key, purpose).update(data).finalize()


class KeyedDigest:
    """Incremental form of ``keyed_digest`` for streams."""

    def __init__(self, key: SecretKey, purpose: str) -> None:
        self._mac = hmac.HMAC(key.material, hashes.SHA256())
        encoded = purpose.encode()
        self._mac.update(len(encoded).to_bytes(4, "big") + encoded)

    def update(self, data: bytes) -> KeyedDigest:
        self._mac.update(data)
        return self

    def finalize(self) -> bytes:
        return self._mac.finalize()
