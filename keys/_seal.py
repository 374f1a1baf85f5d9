"""The master key, sealed under a passphrase with Argon2id.

The sealed form records the KDF parameters and salt beside the wrapped key, so the parameters
can be raised later (unseal with the old ones, reseal with the new) without a flag day.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass

from argon2.low_level import Type, hash_secret_raw

from keys._aead import SecretKey
from keys._context import Context
from keys.errors import IntegrityFailed, WeakPassphrase, WrongPassphrase

MIN_PASSPHRASE_CHARS = 12
# Values people leave in place from an example; refused so nobody ships a vault sealed by them.
PLACEHOLDER_PASSPHRASES = frozenset({
    "changeme", "change-me", "change me", "password", "passphrase", "secret", "casevault",
    "correct horse battery staple", "your-passphrase-here", "example",
})


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id parameters (RFC 9106). The floor is 64 MiB and 3 passes."""

    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4

    def __post_init__(self) -> None:
        if self.memory_kib < 64 * 1024 or self.iterations < 3 or not 1 <= self.lanes <= 64:
            raise ValueError("Argon2id needs at least 64 MiB of memory and 3 iterations")
        # a ceiling too: a tampered record must not make opening the vault hang or exhaust memory
        if self.memory_kib > 4 * 1024 * 1024 or self.iterations > 64:
            raise ValueError("Argon2id parameters above 4 GiB or 64 iterations are refused")


@dataclass(frozen=True, slots=True)
class SealedKey:
    """A master key version as stored: Argon2id parameters, salt and the wrapped key."""

    version: int
    kdf: KdfParams
    salt: bytes
    token: bytes

    def to_json(self) -> str:
        return json.dumps({
            "version": self.version,
            "kdf": {"algorithm": "argon2id", **asdict(self.kdf)},
            "salt": base64.b64encode(self.salt).decode(),
            "token": base64.b64encode(self.token).decode(),
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SealedKey:
        try:
            data = json.loads(text)
            kdf = dict(data["kdf"])
            if kdf.pop("algorithm") != "argon2id":
                raise ValueError("unknown KDF")
            return cls(int(data["version"]), KdfParams(**kdf), base64.b64decode(data["salt"]),
                       base64.b64decode(data["token"]))
        except (KeyError, TypeError, ValueError):
            raise IntegrityFailed() from None


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short or copied from an example (WeakPassphrase)."""
    if passphrase.strip().lower() in PLACEHOLDER_PASSPHRASES:
        raise WeakPassphrase("that passphrase is a placeholder; choose one of your own")
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise WeakPassphrase(f"the passphrase needs at least {MIN_PASSPHRASE_CHARS} characters")


def _kek(passphrase: str, salt: bytes, kdf: KdfParams) -> SecretKey:
    material = hash_secret_raw(
        passphrase.encode("utf-8"), salt, time_cost=kdf.iterations, memory_cost=kdf.memory_kib,
        parallelism=kdf.lanes, hash_len=32, type=Type.ID,
    )
    return SecretKey(material, 1)


def _context(version: int, kdf: KdfParams) -> Context:
    # The parameters are bound too: lowering them in the stored record makes unsealing fail.
    return Context(f"master-key/argon2id/{kdf.memory_kib}/{kdf.iterations}/{kdf.lanes}", version=version)


def seal_master_key(key: SecretKey, passphrase: str, kdf: KdfParams | None = None) -> SealedKey:
    check_passphrase(passphrase)
    kdf = kdf or KdfParams()
    salt = os.urandom(16)
    token = _kek(passphrase, salt, kdf).encrypt(key.material, _context(key.version, kdf))
    return SealedKey(key.version, kdf, salt, token)


def unseal_master_key(sealed: SealedKey, passphrase: str) -> SecretKey:
    kek = _kek(passphrase, sealed.salt, sealed.kdf)
    try:
        material = kek.decrypt(sealed.token, _context(sealed.version, sealed.kdf))
    except IntegrityFailed:
        raise WrongPassphrase() from None
    return SecretKey(material, sealed.version)
