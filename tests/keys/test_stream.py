"""Chunked blob encryption: round trips, seeking, and every way a stream can be cut or shuffled."""

from __future__ import annotations

import io
import random

import pytest

from keys import Context, DecryptingReader, IntegrityFailed, SecretKey, StreamEncryptor

CONTEXT = Context("original", "case-1", "doc-1", 1)
CHUNK = 64
SEALED_CHUNK = CHUNK + 16
HEADER = 32


def encrypt(key: SecretKey, data: bytes, context: Context = CONTEXT) -> bytes:
    pieces = [data[i:i + 7] for i in range(0, len(data), 7)]  # arbitrary piece sizes in
    return b"".join(StreamEncryptor(key, context, chunk_bytes=CHUNK).chunks(iter(pieces)))


def reader(key: SecretKey, blob: bytes, context: Context = CONTEXT) -> DecryptingReader:
    return DecryptingReader(key, io.BytesIO(blob), len(blob), context)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 17])
def test_round_trip_at_chunk_boundaries(size):
    key = SecretKey.generate()
    data = random.Random(size).randbytes(size)
    blob = encrypt(key, data)
    opened = reader(key, blob)
    assert opened.size == size
    assert opened.read() == data


def test_random_access_reads_match_the_plaintext():
    key = SecretKey.generate()
    data = random.Random(1).randbytes(10 * CHUNK + 5)
    opened = reader(key, encrypt(key, data))
    rng = random.Random(2)
    for _ in range(200):
        start = rng.randrange(len(data))
        length = rng.randrange(1, 3 * CHUNK)
        opened.seek(start)
        assert opened.read(length) == data[start:start + length]
    opened.seek(-3, io.SEEK_END)
    assert opened.read() == data[-3:]


def _chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    body = blob[HEADER:]
    return blob[:HEADER], [body[i:i + SEALED_CHUNK] for i in range(0, len(body), SEALED_CHUNK)]


def _read_all(key: SecretKey, blob: bytes) -> bytes:
    return reader(key, blob).read()


@pytest.fixture
def sample():
    key = SecretKey.generate()
    return key, encrypt(key, random.Random(3).randbytes(4 * CHUNK + 10))


def test_dropped_final_chunk_is_detected(sample):
    key, blob = sample
    header, chunks = _chunks(blob)
    with pytest.raises(IntegrityFailed):
        _read_all(key, header + b"".join(chunks[:-1]))


def test_stream_cut_at_a_chunk_boundary_of_an_exact_multiple_is_detected():
    key = SecretKey.generate()
    header, chunks = _chunks(encrypt(key, bytes(4 * CHUNK)))
    with pytest.raises(IntegrityFailed):
        _read_all(key, header + b"".join(chunks[:-1]))


def test_reordered_chunks_are_detected(sample):
    key, blob = sample
    header, chunks = _chunks(blob)
    chunks[0], chunks[1] = chunks[1], chunks[0]
    with pytest.raises(IntegrityFailed):
        _read_all(key, header + b"".join(chunks))


@pytest.mark.parametrize("cut", [0, 10, HEADER, HEADER + 5, HEADER + SEALED_CHUNK + 3, -1])
def test_truncation_anywhere_is_detected(sample, cut):
    key, blob = sample
    with pytest.raises(IntegrityFailed):
        _read_all(key, blob[:cut])


def test_flipped_byte_anywhere_is_detected(sample):
    key, blob = sample
    for position in range(0, len(blob), 7):
        damaged = bytearray(blob)
        damaged[position] ^= 0x80
        with pytest.raises(IntegrityFailed):
            _read_all(key, bytes(damaged))


def test_blob_of_another_document_or_purpose_fails(sample):
    key, blob = sample
    for other in (Context("original", "case-1", "doc-2", 1), Context("content", "case-1", "doc-1", 1)):
        with pytest.raises(IntegrityFailed):
            reader(key, blob, other).read()


def test_wrong_key_fails(sample):
    _, blob = sample
    with pytest.raises(IntegrityFailed):
        _read_all(SecretKey.generate(), blob)


def test_verify_authenticates_every_chunk(sample):
    key, blob = sample
    damaged = bytearray(blob)
    damaged[HEADER + SEALED_CHUNK + 1] ^= 1
    opened = reader(key, bytes(damaged))
    assert opened.read(5)  # the first chunk alone is fine
    with pytest.raises(IntegrityFailed):
        opened.verify()
