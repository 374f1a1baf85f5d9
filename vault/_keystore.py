"""Where the vault keeps its keys: sealed, wrapped, and unwrapped only in memory.

    unseal secret (passphrase, or SLIP-39 shares) --> root key (sealed, table root_seal; vault._custody)
    root key wraps each master key version (table master_key; a retired one is a tombstone)
        the newest master key version wraps the system keys (table system_key): case-name, content-digest,
            audit-chain, audit-details, credentials (TOTP secrets), audit-signing (Ed25519 seed),
            state (the MACs of access state: vault._integrity)
        master key wraps each case key (table case_key)
            case key wraps each document key (column document.key_ct)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keys import (
    Context,
    IntegrityFailed,
    KdfParams,
    Keyring,
    KeyVersionRetired,
    SecretKey,
    WrappedMaster,
    read_master_record,
    retired_master,
    seal_root_by_passphrase,
    token_version,
    unwrap_key,
    wrap_key,
    wrap_master,
)
from vault._models import (
    CaseKeyRetiredRow,
    CaseKeyVersion,
    MasterKeyVersion,
    RootSealRow,
    ScopeKeyVersion,
    SystemKeyVersion,
)
from vault.errors import NotFound, NotInitialized

# the tables whose rows a master key version wraps, as key status and retirement name them
WRAPPED_BY_MASTER = {"system_keys": SystemKeyVersion, "case_keys": CaseKeyVersion, "scope_keys": ScopeKeyVersion}

# audit-signing: the seed of the Ed25519 key that signs audit exports (its public key is derived);
# state: the MACs of access state (vault._integrity)
SYSTEM_PURPOSES = ("case-name", "content-digest", "audit-chain", "audit-details", "credentials", "audit-signing",
                   "state")
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
    def __init__(self, root: SecretKey, masters: list[WrappedMaster], system: dict[str, SecretKey]) -> None:
        self._root = root
        self._master = Keyring([m.unwrap(root) for m in masters if not m.retired])
        self._retired = {m.version: m.retired_at or "" for m in masters if m.retired}
        self.system = system
        self._cases: dict[str, Keyring] = {}
        self._scopes: dict[tuple[str, str], SecretKey] = {}

    @classmethod
    def initialize(cls, session: Session, passphrase: str, kdf: KdfParams | None = None) -> KeyStore:
        """A new root key sealed by the passphrase, master key version 1 wrapped by it, and the
        system keys."""
        root = SecretKey.generate(version=1)
        master = SecretKey.generate(version=1)
        session.add(RootSealRow(method="passphrase", sealed=seal_root_by_passphrase(root, passphrase, kdf).to_json()))
        wrapped = wrap_master(root, master)
        session.add(MasterKeyVersion(version=1, sealed=wrapped.to_json()))
        system = {}
        for purpose in SYSTEM_PURPOSES:
            key = SecretKey.generate()
            system[purpose] = key
            session.add(SystemKeyVersion(purpose=purpose, version=key.version, master_version=1,
                                         wrapped=wrap_key(master, key, _system_context(purpose))))
        return cls(root, [wrapped], system)

    @classmethod
    def unseal(cls, session: Session, root: SecretKey) -> KeyStore:
        """Open the key hierarchy under the root key (``vault._custody`` opens it)."""
        masters = cls._stored_masters(session)
        if not masters:
            raise NotInitialized("this data directory has no vault yet; run `casevault init` first")
        keys = cls(root, masters, {})
        for row in session.scalars(select(SystemKeyVersion).order_by(SystemKeyVersion.version)):
            # the newest version of each purpose wins (older ones remain for decryption later)
            keys.system[row.purpose] = keys._unwrap(session, row.wrapped, _system_context(row.purpose), row.version)
        return keys

    @staticmethod
    def _stored_masters(session: Session) -> list[WrappedMaster]:
        masters = []
        for row in session.scalars(select(MasterKeyVersion).order_by(MasterKeyVersion.version)):
            record = read_master_record(row.sealed)
            if not isinstance(record, WrappedMaster) or record.version != row.version:
                raise IntegrityFailed()  # release 1's form is converted before (vault._custody)
            masters.append(record)
        return masters

    @property
    def root(self) -> SecretKey:
        return self._root

    # -- the master key versions: unwrapping under the one a token names, wrapping under the newest

    def _reload_masters(self, session: Session) -> None:
        """Read the master key versions again: another process may have made or retired one."""
        fresh = KeyStore(self._root, self._stored_masters(session), {})
        self._master, self._retired = fresh._master, fresh._retired

    def _unwrap(self, session: Session, token: bytes, context: Context, version: int) -> SecretKey:
        """A child key unwrapped by the master key version its token names. KeyVersionRetired,
        saying what to do, if that version was retired (a row left from before, or restored)."""
        master_version = token_version(token)
        if master_version not in self._master.versions and master_version not in self._retired:
            self._reload_masters(session)
        if master_version in self._retired:
            raise KeyVersionRetired(
                f"a stored key is wrapped by master key version {master_version}, which was retired "
                f"{self._retired[master_version][:10]} and can no longer be opened; this row is older than "
                "the retirement (restored from a backup?): restore the whole vault from that backup instead")
        return unwrap_key(self._master, token, context, version)

    def _wrapping(self, session: Session) -> Keyring:
        """The master keyring whose primary is the newest stored version (another process may have
        rotated since this one opened): new keys are wrapped by it, never by an older one."""
        newest = session.scalar(select(func.max(MasterKeyVersion.version)))
        if newest is not None and newest != self._master.primary.version:
            self._reload_masters(session)
        # Hold the version used against retirement until this transaction ends (PostgreSQL's
        # FOR SHARE against the FOR UPDATE retirement takes first; SQLite has one writer at a
        # time): a retirement waits for this key to commit, then sees it and refuses.
        sealed = session.scalar(select(MasterKeyVersion.sealed)
                                .where(MasterKeyVersion.version == self._master.primary.version)
                                .with_for_update(read=True))
        if sealed is not None and _retired_at(sealed) is not None:  # retired while this one looked
            self._reload_masters(session)
        return self._master

    def _wrap(self, session: Session, key: SecretKey, context: Context) -> tuple[int, bytes]:
        master = self._wrapping(session)
        return master.primary.version, wrap_key(master, key, context)

    def add_missing_system_keys(self, session: Session) -> None:
        """Make the system keys of purposes added since the vault was initialized."""
        for purpose in SYSTEM_PURPOSES:
            if purpose not in self.system:
                key = SecretKey.generate()
                master_version, wrapped = self._wrap(session, key, _system_context(purpose))
                session.add(SystemKeyVersion(purpose=purpose, version=key.version, master_version=master_version,
                                             wrapped=wrapped))
                self.system[purpose] = key

    def new_case_key(self, session: Session, case_id: str) -> tuple[Keyring, CaseKeyVersion]:
        """A fresh case key and the row to store it in (added after the case row itself)."""
        key = SecretKey.generate(version=1)
        master_version, wrapped = self._wrap(session, key, _case_context(case_id))
        row = CaseKeyVersion(case_id=case_id, version=1, master_version=master_version, wrapped=wrapped)
        self._cases[case_id] = Keyring([key])
        return self._cases[case_id], row

    def case_keyring(self, session: Session, case_id: str, *, needs: int | None = None) -> Keyring:
        """The case's keyring, cached. ``needs`` is the version a ciphertext names: a cached
        keyring without it is read again, since another process may have rotated the key since."""
        cached = self._cases.get(case_id)
        if cached is not None and (needs is None or needs in cached.versions):
            # the version may have been retired by another process since it was cached (one
            # cheap read of the tombstones' primary key)
            if needs is None or self.retired_through(session, case_id) < needs:
                return cached
        rows = session.scalars(select(CaseKeyVersion).where(CaseKeyVersion.case_id == case_id)).all()
        if not rows:
            raise NotFound("no such case")
        keyring = Keyring([self._unwrap(session, r.wrapped, _case_context(case_id), r.version) for r in rows],
                          min_decryption_version=self.retired_through(session, case_id) + 1)
        self._cases[case_id] = keyring
        return keyring

    @staticmethod
    def retired_through(session: Session, case_id: str) -> int:
        """The highest retired version of a case's key (every version below it is retired too), 0
        if none; read once per unit of work (a rebuild reads thousands of documents in one)."""
        known: dict[str, int] = session.info.setdefault("case_keys_retired_through", {})
        if case_id not in known:
            known[case_id] = session.scalar(select(func.max(CaseKeyRetiredRow.version))
                                            .where(CaseKeyRetiredRow.case_id == case_id)) or 0
        return known[case_id]

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
            master_version, wrapped = self._wrap(session, key, _case_context(case_id))
            session.add(CaseKeyVersion(case_id=case_id, version=key.version, master_version=master_version,
                                       wrapped=wrapped))
            rotated[case_id] = key.version
        session.flush()
        return rotated

    def forget_case(self, case_id: str, *, own_scope: bool) -> None:
        """Drop a destroyed case's keys from memory (and its own scope's, when it had one)."""
        self._cases.pop(case_id, None)
        if own_scope:
            for purpose in SCOPE_PURPOSES:
                self._scopes.pop((case_id, purpose), None)

    def forget_cases(self, case_ids: Iterable[str]) -> None:
        """Drop cached case keyrings; the next use reads the stored versions again."""
        for case_id in case_ids:
            self._cases.pop(case_id, None)

    def new_scope_keys(self, session: Session, scope: str) -> None:
        """Make the keys of a new pseudonym scope (done once, when its case is created)."""
        for purpose in SCOPE_PURPOSES:
            key = SecretKey.generate(version=1)
            master_version, wrapped = self._wrap(session, key, _scope_context(scope, purpose))
            session.add(ScopeKeyVersion(scope=scope, purpose=purpose, version=1, master_version=master_version,
                                        wrapped=wrapped))
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
        key = self._unwrap(session, row.wrapped, _scope_context(scope, purpose), row.version)
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

    # -- master key rotation (vault._rekey): a new version, children rewrapped, old ones retired --

    def add_master_version(self, session: Session) -> int:
        """Store master key version N+1, wrapped by the root key; it wraps new keys from the
        commit on. The cache learns it through ``_wrapping`` once the row is committed."""
        newest = session.scalar(select(func.max(MasterKeyVersion.version))) or 0
        master = SecretKey.generate(version=newest + 1)
        session.add(MasterKeyVersion(version=master.version, sealed=wrap_master(self._root, master).to_json()))
        session.flush()
        return master.version

    def rewrap_batch(self, session: Session, limit: int) -> dict[str, int]:
        """Wrap at most ``limit`` keys wrapped by an older master key version again under the
        newest (system keys first, then case and scope keys); how many of each."""
        master = self._wrapping(session)
        newest = master.primary.version
        done: dict[str, int] = {}
        for kind, model in WRAPPED_BY_MASTER.items():
            rows = session.scalars(select(model).where(model.master_version != newest)  # type: ignore[attr-defined]
                                   .order_by(*model.__table__.primary_key.columns).limit(limit)).all()
            for row in rows:
                context = _row_context(row)
                row.wrapped = wrap_key(master, self._unwrap(session, row.wrapped, context, row.version), context)
                row.master_version = newest
            done[kind] = len(rows)
            limit -= len(rows)
            if limit <= 0:
                break
        session.flush()
        return done

    @staticmethod
    def retire_master_version(session: Session, version: int) -> str:
        """Destroy a master key version's wrapped key, keeping a tombstone (the caller checked that
        nothing depends on it); when. Ciphertexts that name it fail with KeyVersionRetired from the
        commit on (``forget_master_version`` tells this process's cache)."""
        row = session.get(MasterKeyVersion, version, with_for_update=True)
        if row is None:
            raise NotFound(f"there is no master key version {version}")
        at = datetime.now(UTC).isoformat()
        row.sealed = retired_master(version, at).to_json()
        session.flush()
        return at

    def forget_master_version(self, version: int, retired_at: str) -> None:
        """Drop a retired master key version from memory (after its retirement committed)."""
        self._retired[version] = retired_at
        self._master = Keyring([self._master.key(v) for v in self._master.versions if v != version])

    @staticmethod
    def master_versions(session: Session) -> list[tuple[int, str, str | None]]:
        """Each master key version: its number, when it was made, and when it was retired."""
        return [(row.version, row.created_at.isoformat(), _retired_at(row.sealed))
                for row in session.scalars(select(MasterKeyVersion).order_by(MasterKeyVersion.version))]

    @staticmethod
    def wrapped_by_master(session: Session) -> dict[int, dict[str, int]]:
        """Per master key version, how many keys of each kind it wraps."""
        counts: dict[int, dict[str, int]] = {}
        for kind, model in WRAPPED_BY_MASTER.items():
            for version, count in session.execute(select(model.master_version, func.count())  # type: ignore[attr-defined]
                                                  .group_by(model.master_version)):  # type: ignore[attr-defined]
                counts.setdefault(version, dict.fromkeys(WRAPPED_BY_MASTER, 0))[kind] = count
        return counts

    @staticmethod
    def case_key_versions(session: Session) -> dict[int, int]:
        rows = session.execute(select(CaseKeyVersion.version, func.count()).group_by(CaseKeyVersion.version))
        return {version: count for version, count in rows}


def _row_context(row: SystemKeyVersion | CaseKeyVersion | ScopeKeyVersion) -> Context:
    if isinstance(row, SystemKeyVersion):
        return _system_context(row.purpose)
    if isinstance(row, CaseKeyVersion):
        return _case_context(row.case_id)
    return _scope_context(row.scope, row.purpose)


def _retired_at(sealed: str) -> str | None:
    try:
        record = read_master_record(sealed)
    except IntegrityFailed:
        return None
    return record.retired_at if isinstance(record, WrappedMaster) else None
