"""The AEAD recipe and the keyring: known answers, tampering, moved ciphertexts, versions."""

from __future__ import annotations

import pytest

from keys import (
    Context,
    EmptyKeyring,
    IntegrityFailed,
    Keyring,
    KeyVersionRetired,
    SecretKey,
    unwrap_key,
    wrap_key,
)

CASE = "11111111-1111-1111-1111-111111111111"
DOC = "22222222-2222-2222-2222-222222222222"
TITLE = Context("title", CASE, DOC, 1)

# A token made once by this recipe (key bytes 0..31, version 3, nonce 0..11). It pins the format:
# if the header layout or the associated-data encoding ever changes, stored data stops opening.
KNOWN_KEY = SecretKey(bytes(range(32)), 3)
KNOWN_TOKEN = bytes.fromhex(
    "0100000003000102030405060708090a0b0367b572b68cad75ad2ef1abc5811d4de2a6f75191177f1f571297"
    "f1917fd6da36468809e721fcc3de9ff0f0"
)


def test_known_token_decrypts_to_known_plaintext():
    assert KNOWN_KEY.decrypt(KNOWN_TOKEN, TITLE) == b"Decision of the appeal court"


def test_round_trip_and_random_nonce():
    key = SecretKey.generate()
    first, second = key.encrypt(b"H", TITLE), key.encrypt(b"H", TITLE)
    assert first != second  # a fresh nonce every call
    assert key.decrypt(first, TITLE) == key.decrypt(second, TITLE) == b"H"


def test_nonces_never_repeat_over_many_encryptions():
    key = SecretKey.generate()
    nonces = {key.encrypt(b"", TITLE)[5:17] for _ in range(100_000)}
    assert len(nonces) == 100_000


@pytest.mark.parametrize("position", [0, 1, 4, 5, 16, 17, -17, -1])
def test_every_flipped_byte_fails_without_plaintext(position):
    token = bytearray(KNOWN_TOKEN)
    token[position] ^= 0x01
    with pytest.raises(IntegrityFailed) as caught:
        KNOWN_KEY.decrypt(bytes(token), TITLE)
    assert str(caught.value) == "the stored data failed its integrity check and was not decrypted"


@pytest.mark.parametrize("cut", [0, 1, 16, 17, 20, len(KNOWN_TOKEN) - 1])
def test_truncated_token_fails(cut):
    with pytest.raises(IntegrityFailed):
        KNOWN_KEY.decrypt(KNOWN_TOKEN[:cut], TITLE)


def test_unknown_format_prefix_fails():
    with pytest.raises(IntegrityFailed):
        KNOWN_KEY.decrypt(bytes([99]) + KNOWN_TOKEN[1:], TITLE)


@pytest.mark.parametrize("moved", [
    Context("title", CASE, "33333333-3333-3333-3333-333333333333", 1),  # another document
    Context("title", "44444444-4444-4444-4444-444444444444", DOC, 1),  # another case
    Context("filename", CASE, DOC, 1),  # another purpose
    Context("title", CASE, DOC, 2),  # another version
])
def test_ciphertext_moved_to_another_record_fails(moved):
    with pytest.raises(IntegrityFailed):
        KNOWN_KEY.decrypt(KNOWN_TOKEN, moved)


def test_context_encoding_is_unambiguous():
    assert Context("ab", "c").encode() != Context("a", "bc").encode()


def test_key_material_never_in_repr():
    key = SecretKey(bytes(range(32)), 1)
    assert bytes(range(32)).hex() not in repr(key)
    assert "material" not in repr(key)
    assert "00010203" not in repr(Keyring([key]))


def test_keyring_newest_encrypts_any_decrypts_and_rotates():
    v1, v2 = SecretKey.generate(1), SecretKey.generate(2)
    old = Keyring([v1]).encrypt(b"x", TITLE)
    ring = Keyring([v1, v2])
    new = ring.encrypt(b"x", TITLE)
    assert new[1:5] == (2).to_bytes(4, "big")
    assert ring.decrypt(old, TITLE) == ring.decrypt(new, TITLE) == b"x"
    rotated = ring.rotate(old, TITLE)
    assert rotated[1:5] == (2).to_bytes(4, "big") and ring.decrypt(rotated, TITLE) == b"x"


def test_retired_version_refused_after_rewrap():
    v1, v2 = SecretKey.generate(1), SecretKey.generate(2)
    leftover = Keyring([v1]).encrypt(b"x", TITLE)
    retired = Keyring([v1, v2], min_decryption_version=2)
    with pytest.raises(KeyVersionRetired):
        retired.decrypt(leftover, TITLE)


def test_unknown_key_version_fails_as_integrity():
    with pytest.raises(IntegrityFailed):
        Keyring([SecretKey.generate(1)]).decrypt(SecretKey.generate(7).encrypt(b"x", TITLE), TITLE)


def test_empty_keyring_raises():
    with pytest.raises(EmptyKeyring):
        Keyring([])


def test_wrapped_key_is_bound_to_its_place_and_version():
    parent = Keyring([SecretKey.generate()])
    child = SecretKey.generate(1)
    context = Context("document-key", CASE, DOC)
    wrapped = wrap_key(parent, child, context)
    assert unwrap_key(parent, wrapped, context, 1).material == child.material
    with pytest.raises(IntegrityFailed):
        unwrap_key(parent, wrapped, Context("document-key", CASE, "33333333-3333-3333-3333-333333333333"), 1)
    with pytest.raises(IntegrityFailed):
        unwrap_key(parent, wrapped, context, 2)
