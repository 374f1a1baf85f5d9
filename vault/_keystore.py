"""Where the vault keeps its keys: sealed, wrapped, and unwrapped only in memory.

    passphrase --Argon2id--> master key (sealed, table master_key)
        master key wraps the system keys (table system_key): case-name, content-digest,
            audit-chain, audit-details, credentials (TOTP secrets), state (the MACs of
            access state: vault._integrity)
        master key wraps each case key (table case_key)
            case key wraps each document key (column document.key_ct)
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keys import (
    Context,
    KdfParams,
    Keyring,
    SealedKey,
    SecretKey,
    seal_master_key,
    unseal_master_key,
    unwrap_key,
    wrap_key,
)
from vault._models import CaseKeyVersion, MasterKeyVersion, ScopeKeyVersion, SystemKeyVersion
from vault.errors import NotFound, NotInitialized

SYSTEM_PURPOSES = ("case-name", "content-digest", "audit-chain", "audit-details", "credentials", "state")
SCOPE_PURPOSES = ("reidentification", "pseudonym", "label")


def _system_context(purpose: str) -> Context:
    return Context(f"system-key/{purpose}")


def _case_context(case_id: str) -> Context:
    return Context("case-key", case_id=case_id)


def _scope_context(scope: str, purpose: str) -> Context:
    if purpose not in SCOPE_PURPOSES:
        raise ValueError(f"unknown scope key purpose {purpose}")
    return Context(f"scope-key/{purpose}", case_id=scope)


def document_key_context(case_id: str, document_id: str) -> Context:
    return Context("document-key", case_id=case_id, document_id=document_id)


class KeyStore:
    def __init__(self, master: Keyring, system: dict[str, SecretKey]) -> None:
        self._master = master
        self.system = system
        self._cases: dict[str, Keyring] = {}
        self._scopes: dict[tuple[str, str], SecretKey] = {}

    @classmethod
    def initialize(cls, session: Session, passphrase: str, kdf: KdfParams | None = None) -> KeyStore:
        master = SecretKey.generate(version=1)
        session.add(MasterKeyVersion(version=1, sealed=seal_master_key(master, passphrase, kdf).to_json()))
        system = {}
        for purpose in SYSTEM_PURPOSES:
            key = SecretKey.generate()
            system[purpose] = key
            session.add(SystemKeyVersion(purpose=purpose, version=key.version, master_version=1,
                                         wrapped=wrap_key(master, key, _system_context(purpose))))
        return cls(Keyring([master]), system)

    @classmethod
    def unseal(cls, session: Session, passphrase: str) -> KeyStore:
        """Open the key hierarchy; WrongPassphrase if the passphrase does not fit."""
        rows = session.scalars(select(MasterKeyVersion).order_by(MasterKeyVersion.version)).all()
        if not rows:
            raise NotInitialized("this data directory has no vault yet; run `casevault init` first")
        master = Keyring([unseal_master_key(SealedKey.from_json(r.sealed), passphrase) for r in rows])
        system: dict[str, SecretKey] = {}
        for row in session.scalars(select(SystemKeyVersion).order_by(SystemKeyVersion.version)):
            # the newest version of each purpose wins (older ones remain for decryption later)
            system[row.purpose] = unwrap_key(master, row.wrapped, _system_context(row.purpose), row.version)
        return cls(master, system)

    def add_missing_system_keys(self, session: Session) -> None:
        """Make the system keys of purposes added since the vault was initialized."""
        for purpose in SYSTEM_PURPOSES:
            if purpose not in self.system:
                key = SecretKey.generate()
                session.add(SystemKeyVersion(purpose=purpose, version=key.version,
                                             master_version=self._master.primary.version,
                                             wrapped=wrap_key(self._master, key, _system_context(purpose))))
                self.system[purpose] = key

    def new_case_key(self, case_id: str) -> tuple[Keyring, CaseKeyVersion]:
        """A fresh case key and the row to store it in (added after the case row itself)."""
        key = SecretKey.generate(version=1)
        row = CaseKeyVersion(case_id=case_id, version=1, master_version=self._master.primary.version,
                             wrapped=wrap_key(self._master, key, _case_context(case_id)))
        self._cases[case_id] = Keyring([key])
        return self._cases[case_id], row

    def case_keyring(self, session: Session, case_id: str, *, needs: int | None = None) -> Keyring:
        """The case's keyring, cached. ``needs`` is the version a ciphertext names: a cached
        keyring without it is read again, since another process may have rotated the key since."""
        cached = self._cases.get(case_id)
        if cached is not None and (needs is None or needs in cached.versions):
            return cached
        rows = session.scalars(select(CaseKeyVersion).where(CaseKeyVersion.case_id == case_id)).all()
        if not rows:
            raise NotFound("no such case")
        keyring = Keyring([unwrap_key(self._master, r.wrapped, _case_context(case_id), r.version) for r in rows])
        self._cases[case_id] = keyring
        return keyring

    def newest_case_keyring(self, session: Session, case_id: str) -> Keyring:
        """The case's keyring with its newest stored version as the primary, for encrypting: a
        cached keyring may predate a rotation made by another process."""
        newest = session.scalar(select(func.max(CaseKeyVersion.version)).where(CaseKeyVersion.case_id == case_id))
        if newest is None:
            raise NotFound("no such case")
        return self.case_keyring(session, case_id, needs=newest)

    def rotate_case_keys(self, session: Session, case_ids: list[str] | None = None) -> dict[str, int]:
        """Add a new version of the key of each case (of every case when ``case_ids`` is None),
        wrapped by the newest master key; returns the new version of each case. The older
        versions stay, so what they protect still decrypts.

        The cache learns the new versions only through ``forget_cases`` after the commit: a key
        cached before its row is committed could encrypt data that nobody can read back."""
        query = select(CaseKeyVersion.case_id, func.max(CaseKeyVersion.version)).group_by(CaseKeyVersion.case_id)
        if case_ids is not None:
            query = query.where(CaseKeyVersion.case_id.in_(case_ids))
        newest: dict[str, int] = dict(session.execute(query).all())  # type: ignore[arg-type]
        rotated: dict[str, int] = {}
        for case_id in sorted(newest) if case_ids is None else case_ids:
            if case_id not in newest:
                raise NotFound("no such case")
            key = SecretKey.generate(version=newest[case_id] + 1)
            session.add(CaseKeyVersion(case_id=case_id, version=key.version,
                                       master_version=self._master.primary.version,
                                       wrapped=wrap_key(self._master, key, _case_context(case_id))))
            rotated[case_id] = key.version
        session.flush()
        return rotated

    def forget_cases(self, case_ids: Iterable[str]) -> None:
        """Drop cached case keyrings; the next use reads the stored versions again."""
        for case_id in case_ids:
            self._cases.pop(case_id, None)

    def new_scope_keys(self, session: Session, scope: str) -> None:
        """Make the keys of a new pseudonym scope (done once, when its case is created)."""
        for purpose in SCOPE_PURPOSES:
            key = SecretKey.generate(version=1)
            session.add(ScopeKeyVersion(scope=scope, purpose=purpose, version=1,
                                        master_version=self._master.primary.version,
                                        wrapped=wrap_key(self._master, key, _scope_context(scope, purpose))))
            self._scopes[(scope, purpose)] = key

    def scope_key(self, session: Session, scope: str, purpose: str) -> SecretKey:
        """The newest key of ``purpose`` for a pseudonym scope. Never made here: a new key would
        silently change every token of the scope."""
        cached = self._scopes.get((scope, purpose))
        if cached is not None:
            return cached
        row = session.scalar(select(ScopeKeyVersion).where(ScopeKeyVersion.scope == scope, ScopeKeyVersion.purpose == purpose)
                             .order_by(ScopeKeyVersion.version.desc()))
        if row is None:
            raise NotFound("no such case")
        key = unwrap_key(self._master, row.wrapped, _scope_context(scope, purpose), row.version)
        self._scopes[(scope, purpose)] = key
        return key

    def forget(self) -> None:
        """Drop every unwrapped key from memory (the vault is closing)."""
        self._cases.clear()
        self._scopes.clear()
        self.system.clear()

    @property
    def master_version(self) -> int:
        """The master key version that wraps new keys."""
        return self._master.primary.version

    @staticmethod
    def master_versions(session: Session) -> list[tuple[int, KdfParams, str]]:
        out = []
        for row in session.scalars(select(MasterKeyVersion).order_by(MasterKeyVersion.version)):
            out.append((row.version, SealedKey.from_json(row.sealed).kdf, row.created_at.isoformat()))
        return out

    @staticmethod
    def case_key_versions(session: Session) -> dict[int, int]:
        rows = session.execute(select(CaseKeyVersion.version, func.count()).group_by(CaseKeyVersion.version))
        return {version: count for version, count in rows}
