"""The master key sealed by a passphrase (Argon2id)."""

from __future__ import annotations

import json

import pytest

from keys import (
    IntegrityFailed,
    KdfParams,
    SealedKey,
    SecretKey,
    WeakPassphrase,
    WrongPassphrase,
    seal_master_key,
    unseal_master_key,
)

# Sealed once with the passphrase below (master key = 32 bytes of 0x07): pins the KDF recipe.
KNOWN_SEALED = (
    '{"kdf": {"algorithm": "argon2id", "iterations": 3, "lanes": 4, "memory_kib": 65536}, '
    '"salt": "Hc8Da7YV2/earJed/Aqirg==", "token": "AQAAAAF59m8Mw7wxUYfAFCd+2KDHpnKWSjKZa6ZEZyVmZof95jAZ'
    'pziOvaPz6FaUmGhpvrva4JkMIxiDGaGwNh4=", "version": 1}'
)
KNOWN_PASSPHRASE = "correct-horse-battery-9"


def test_known_sealed_key_opens_with_its_passphrase():
    assert unseal_master_key(SealedKey.from_json(KNOWN_SEALED), KNOWN_PASSPHRASE).material == bytes([7]) * 32


def test_wrong_passphrase_is_a_clear_error():
    with pytest.raises(WrongPassphrase, match="does not open this vault"):
        unseal_master_key(SealedKey.from_json(KNOWN_SEALED), KNOWN_PASSPHRASE + "x")


def test_parameters_and_salt_are_recorded_and_cannot_be_edited():
    key = SecretKey.generate()
    sealed = json.loads(seal_master_key(key, "a long enough passphrase").to_json())
    assert sealed["kdf"] == {"algorithm": "argon2id", "memory_kib": 65536, "iterations": 3, "lanes": 4}
    assert len(sealed["salt"]) == 24  # 16 bytes, base64
    sealed["kdf"]["memory_kib"] = 131072  # raising the parameters in the record without resealing
    with pytest.raises(WrongPassphrase):
        unseal_master_key(SealedKey.from_json(json.dumps(sealed)), "a long enough passphrase")


def test_stronger_parameters_can_be_chosen():
    key = SecretKey.generate()
    strong = KdfParams(memory_kib=128 * 1024, iterations=4)
    sealed = seal_master_key(key, "a long enough passphrase", strong)
    assert SealedKey.from_json(sealed.to_json()).kdf == strong
    assert unseal_master_key(sealed, "a long enough passphrase").material == key.material


@pytest.mark.parametrize("params", [dict(memory_kib=32 * 1024), dict(iterations=2), dict(lanes=0),
                                    dict(memory_kib=2**31), dict(iterations=10**6)])
def test_parameters_outside_the_floor_and_ceiling_are_refused(params):
    with pytest.raises(ValueError):
        KdfParams(**params)


@pytest.mark.parametrize("passphrase", ["", "short", "changeme", "CHANGEME", "password", "casevault"])
def test_weak_or_placeholder_passphrases_are_refused(passphrase):
    with pytest.raises(WeakPassphrase):
        seal_master_key(SecretKey.generate(), passphrase)


def test_sealed_form_holds_no_key_material():
    key = SecretKey.generate()
    text = seal_master_key(key, "a long enough passphrase").to_json()
    assert key.material.hex() not in text
    import base64
    assert base64.b64encode(key.material).decode() not in text


@pytest.mark.parametrize("damaged", [
    "not json", "{}", '{"version": 1, "kdf": {"algorithm": "scrypt"}}',
    KNOWN_SEALED.replace('"memory_kib": 65536', '"memory_kib": 2147483648'),  # would exhaust memory
    KNOWN_SEALED.replace('"iterations": 3', '"iterations": 100000000'),  # would hang the open
])
def test_damaged_sealed_record_is_an_integrity_failure(damaged):
    with pytest.raises(IntegrityFailed):
        SealedKey.from_json(damaged)
