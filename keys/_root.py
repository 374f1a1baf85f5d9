"""The root key, after HashiCorp Vault's model: an unseal secret opens the root key, the root key
wraps every master key version.

    passphrase --Argon2id-------\
                                 >--> root key --wraps--> master key versions --wrap--> ...
    SLIP-39 shares -> secret --HKDF-SHA256--/

Each way in is a ``RootSeal``: the root key encrypted under a key derived from one unseal
secret. Changing the passphrase or splitting into new shares re-seals the root key only; nothing
below it changes. A master key version is stored as a ``WrappedMaster``: wrapped by the root key,
or a tombstone once retired (its key material gone). A release-1 vault stored each master
version sealed directly by the passphrase (``SealedKey``); ``read_master_record`` tells the forms
apart so the vault can convert it.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys._aead import SecretKey, unwrap_key, wrap_key
from keys._context import Context
from keys._seal import KdfParams, SealedKey, _kek, check_passphrase
from keys.errors import IntegrityFailed, SharesDoNotOpen, WrongPassphrase

PASSPHRASE = "argon2id"
SHARES = "hkdf-sha256"
_MASTER_CONTEXT = Context("master-key/root")


@dataclass(frozen=True, slots=True)
class RootSeal:
    """The root key sealed under one unseal secret. ``kdf`` is set for a passphrase seal;
    ``split`` (the SLIP-39 identifier of the split) for a seal by shares."""

    method: str
    salt: bytes
    token: bytes
    kdf: KdfParams | None = None
    split: int | None = None

    def to_json(self) -> str:
        body: dict[str, object] = {"method": self.method, "salt": base64.b64encode(self.salt).decode(),
                                   "token": base64.b64encode(self.token).decode()}
        if self.kdf is not None:
            body["kdf"] = asdict(self.kdf)
        if self.split is not None:
            body["split"] = self.split
        return json.dumps(body, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RootSeal:
        try:
            data = json.loads(text)
            method = data["method"]
            if method not in (PASSPHRASE, SHARES):
                raise ValueError("unknown seal")
            kdf = KdfParams(**data["kdf"]) if method == PASSPHRASE else None
            split = int(data["split"]) if method == SHARES else None
            return cls(method, base64.b64decode(data["salt"]), base64.b64decode(data["token"]), kdf, split)
        except (KeyError, TypeError, ValueError):
            raise IntegrityFailed() from None

    def context(self) -> Context:
        # the KDF parameters and the split are bound: editing them in the record makes opening fail
        if self.kdf is not None:
            return Context(f"root-key/{PASSPHRASE}/{self.kdf.memory_kib}/{self.kdf.iterations}/{self.kdf.lanes}",
                           version=1)
        return Context(f"root-key/{SHARES}/{self.split}", version=1)


def _secret_kek(secret: bytes, salt: bytes) -> SecretKey:
    """A 256-bit random secret needs no slow KDF: HKDF-SHA256 (RFC 5869) makes the key."""
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                    info=b"casevault root key seal by shares").derive(secret)
    return SecretKey(material, 1)


def seal_root_by_passphrase(root: SecretKey, passphrase: str, kdf: KdfParams | None = None) -> RootSeal:
    check_passphrase(passphrase)
    kdf = kdf or KdfParams()
    seal = RootSeal(PASSPHRASE, os.urandom(16), b"", kdf)
    token = _kek(passphrase, seal.salt, kdf).encrypt(root.material, seal.context())
    return RootSeal(PASSPHRASE, seal.salt, token, kdf)


def seal_root_by_secret(root: SecretKey, secret: bytes, split: int) -> RootSeal:
    seal = RootSeal(SHARES, os.urandom(16), b"", split=split)
    token = _secret_kek(secret, seal.salt).encrypt(root.material, seal.context())
    return RootSeal(SHARES, seal.salt, token, split=split)


def open_root_by_passphrase(seal: RootSeal, passphrase: str) -> SecretKey:
    """The root key; WrongPassphrase if the passphrase does not open it."""
    if seal.kdf is None:
        raise IntegrityFailed()
    try:
        return SecretKey(_kek(passphrase, seal.salt, seal.kdf).decrypt(seal.token, seal.context()), 1)
    except IntegrityFailed:
        raise WrongPassphrase() from None


def open_root_by_secret(seal: RootSeal, secret: bytes) -> SecretKey:
    """The root key; SharesDoNotOpen if the secret the shares made does not open it."""
    try:
        return SecretKey(_secret_kek(secret, seal.salt).decrypt(seal.token, seal.context()), 1)
    except IntegrityFailed:
        raise SharesDoNotOpen() from None


@dataclass(frozen=True, slots=True)
class WrappedMaster:
    """A master key version as stored in the root-key form: wrapped by the root key, or (once
    retired) a tombstone that keeps the version number and the day, and no key material."""

    version: int
    token: bytes | None = None
    retired_at: str | None = None

    @property
    def retired(self) -> bool:
        return self.token is None

    def to_json(self) -> str:
        if self.token is None:
            return json.dumps({"version": self.version, "form": "retired", "retired_at": self.retired_at},
                              sort_keys=True)
        return json.dumps({"version": self.version, "form": "root",
                           "token": base64.b64encode(self.token).decode()}, sort_keys=True)

    def unwrap(self, root: SecretKey) -> SecretKey:
        if self.token is None:
            raise IntegrityFailed()
        return unwrap_key(root, self.token, _MASTER_CONTEXT, self.version)


def wrap_master(root: SecretKey, master: SecretKey) -> WrappedMaster:
    return WrappedMaster(master.version, wrap_key(root, master, _MASTER_CONTEXT))


def retired_master(version: int, at: str) -> WrappedMaster:
    return WrappedMaster(version, None, at)


def read_master_record(text: str) -> WrappedMaster | SealedKey:
    """A stored master version: the root-key form (``WrappedMaster``) or release 1's form,
    sealed directly by the passphrase (``SealedKey``). IntegrityFailed for anything else."""
    try:
        data = json.loads(text)
        form = data.get("form") if isinstance(data, dict) else None
    except ValueError:
        raise IntegrityFailed() from None
    if form is None:
        return SealedKey.from_json(text)
    try:
        if form == "root":
            return WrappedMaster(int(data["version"]), base64.b64decode(data["token"]))
        if form == "retired":
            return WrappedMaster(int(data["version"]), None, str(data["retired_at"]))
    except (KeyError, TypeError, ValueError):
        pass
    raise IntegrityFailed()
