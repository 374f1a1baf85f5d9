"""Chunked encryption of large blobs, so a recording or a PDF is never held whole in memory.

The construction is the STREAM online AEAD of Hoang, Reyhanitabar, Rogaway and Vizar (2015), as
in Tink's AES-GCM-HKDF streaming AEAD, built from `cryptography` primitives only:

    header  = 0x02 | key version (4) | chunk size (4) | salt (16) | nonce prefix (7)
    subkey  = HKDF-SHA256(document key, salt, info = "casevault-stream/1" || context)
    chunk i = AES-256-GCM(subkey, nonce = prefix || i (4 bytes) || last (1 byte), aad = header)

The counter in the nonce detects reordered or dropped chunks, the last-chunk flag detects a
stream cut at a chunk boundary, and the header sits in every chunk's associated data. A fresh
salt per blob gives every blob its own subkey, so nonces never repeat across blobs.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys._aead import TAG_BYTES, SecretKey
from keys._context import Context
from keys.errors import IntegrityFailed

STREAM_FORMAT = 0x02
DEFAULT_CHUNK_BYTES = 1024 * 1024
_SALT_BYTES = 16
_PREFIX_BYTES = 7
HEADER_BYTES = 1 + 4 + 4 + _SALT_BYTES + _PREFIX_BYTES
_MAX_CHUNKS = 2**32


def _subkey(key: SecretKey, salt: bytes, context: Context) -> AESGCM:
    info = b"casevault-stream/1" + context.encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info)
    return AESGCM(hkdf.derive(key.material))


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class StreamEncryptor:
    """Encrypts a stream chunk by chunk; ``chunks(source)`` yields the ciphertext pieces.

    It reads one chunk ahead so that the final chunk, even a full or an empty one, carries the
    last-chunk flag.
    """

    def __init__(self, key: SecretKey, context: Context, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        if not 16 <= chunk_bytes < 2**31:
            raise ValueError("chunk size out of range")
        self._chunk_bytes = chunk_bytes
        salt, self._prefix = os.urandom(_SALT_BYTES), os.urandom(_PREFIX_BYTES)
        self.header = (bytes([STREAM_FORMAT]) + key.version.to_bytes(4, "big")
                       + chunk_bytes.to_bytes(4, "big") + salt + self._prefix)
        self._aead = _subkey(key, salt, context)

    def chunks(self, plaintext_chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Yield the header, then one ciphertext per chunk of exactly ``chunk_bytes``."""
        yield self.header
        index = 0
        buffered = _rechunk(plaintext_chunks, self._chunk_bytes)
        current = next(buffered, b"")
        for following in buffered:
            yield self._seal(index, current, last=False)
            index += 1
            current = following
        yield self._seal(index, current, last=True)

    def _seal(self, index: int, chunk: bytes, *, last: bool) -> bytes:
        if index >= _MAX_CHUNKS:
            raise ValueError("stream too long for one key")
        return self._aead.encrypt(_nonce(self._prefix, index, last), chunk, self.header)


def _rechunk(pieces: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Regroup arbitrary pieces into chunks of exactly ``size`` bytes (the last may be short)."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def stream_key_version(header: bytes) -> int:
    if len(header) < HEADER_BYTES or header[0] != STREAM_FORMAT:
        raise IntegrityFailed()
    return int.from_bytes(header[1:5], "big")


class DecryptingReader(io.RawIOBase):
    """A seekable, read-only view of the plaintext of an encrypted stream.

    Each chunk is authenticated when it is read; only the current chunk is held in memory. The
    plaintext length follows from the ciphertext length, and the final chunk must carry the
    last-chunk flag, so a stream cut anywhere fails as soon as its end is reached. Parsers that
    seek (pypdf, zipfile) read the end first, which authenticates the length before they start.
    """

    def __init__(self, key: SecretKey, raw: BinaryIO, ciphertext_size: int, context: Context) -> None:
        super().__init__()
        self._raw = raw
        header = raw.read(HEADER_BYTES)
        if stream_key_version(header) != key.version:
            raise IntegrityFailed()
        self._header = header
        self._chunk_bytes = int.from_bytes(header[5:9], "big")
        self._prefix = header[9 + _SALT_BYTES:]
        self._aead = _subkey(key, header[9:9 + _SALT_BYTES], context)
        body = ciphertext_size - HEADER_BYTES
        sealed_chunk = self._chunk_bytes + TAG_BYTES
        if body < TAG_BYTES or self._chunk_bytes < 16:
            raise IntegrityFailed()
        self._chunk_count = -(-body // sealed_chunk)
        last_sealed = body - (self._chunk_count - 1) * sealed_chunk
        if last_sealed < TAG_BYTES:
            raise IntegrityFailed()
        self.size = (self._chunk_count - 1) * self._chunk_bytes + last_sealed - TAG_BYTES
        self._position = 0
        self._cached_index = -1
        self._cached = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        view = memoryview(buffer).cast("B")
        written = 0
        while written < len(view) and self._position < self.size:
            index, offset = divmod(self._position, self._chunk_bytes)
            chunk = self._chunk(index)
            piece = chunk[offset:offset + len(view) - written]
            view[written:written + len(piece)] = piece
            written += len(piece)
            self._position += len(piece)
        return written

    def _chunk(self, index: int) -> bytes:
        if index != self._cached_index:
            sealed_chunk = self._chunk_bytes + TAG_BYTES
            self._raw.seek(HEADER_BYTES + index * sealed_chunk)
            sealed = self._raw.read(sealed_chunk)
            last = index == self._chunk_count - 1
            try:
                self._cached = self._aead.decrypt(_nonce(self._prefix, index, last), sealed, self._header)
            except InvalidTag:
                self._cached_index, self._cached = -1, b""
                raise IntegrityFailed() from None
            self._cached_index = index
        return self._cached

    def verify(self) -> None:
        """Authenticate every chunk (a full pass), e.g. before a blob is trusted as whole."""
        for index in range(self._chunk_count):
            self._chunk(index)

    def close(self) -> None:
        self._cached = b""
        self._raw.close()
        super().close()
