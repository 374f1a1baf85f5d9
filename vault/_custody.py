"""Key custody: the seals of the root key, opening it, and changing who can.

The root key is sealed once per way in (table ``root_seal``): by the passphrase (Argon2id) and,
after ``keys split``, by the secret of the newest SLIP-39 split (HKDF-SHA256); either opens it.
Changing the passphrase re-seals the root key only; a new split replaces the previous split's
seal, so shares of an older split stop working, and may drop the passphrase seal (then only
shares open the vault). Shares are never stored: only the split's identifier, threshold and
number of shares, so a sealed server can count and refuse shares before it can open anything.

A vault of release 1 has no root key: each master key version is sealed by the passphrase
itself. The first time its passphrase opens it, ``convert_release_1`` makes a root key sealed by
the same passphrase (and the same Argon2id parameters) and wraps every master version under it,
in one transaction; a process converting at the same moment loses on the seal's primary key and
opens what the winner wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keys import (
    RootSeal,
    SealedKey,
    SealMissing,
    SecretKey,
    Split,
    check_passphrase,
    open_root_by_passphrase,
    open_root_by_secret,
    read_master_record,
    recover_secret,
    seal_root_by_passphrase,
    seal_root_by_secret,
    split_secret,
    unseal_master_key,
    wrap_master,
)
from vault._db import Database
from vault._models import MasterKeyVersion, RootSealRow
from vault._store import Store
from vault._views import SealInfo
from vault.errors import InvalidInput, NotInitialized

PASSPHRASE = "passphrase"
SHARES = "shares"


def seal_info(session: Session) -> SealInfo:
    """How the root key is sealed; no secret is read."""
    rows = {row.method: row for row in session.scalars(select(RootSealRow))}
    passphrase = RootSeal.from_json(rows[PASSPHRASE].sealed).kdf if PASSPHRASE in rows else None
    split = rows.get(SHARES)
    if split is None:
        return SealInfo(passphrase)
    return SealInfo(passphrase, split.threshold, split.share_count, split.split_id)


def _seals(db: Database) -> dict[str, RootSealRow]:
    if not inspect(db.engine).has_table(RootSealRow.__tablename__):
        return {}  # release 1: made before the root key existed
    with db.read() as session:
        return {row.method: row for row in session.scalars(select(RootSealRow))}


def has_root(db: Database) -> bool:
    """Whether the vault has its root key yet (a vault of release 1 gets it when first opened)."""
    return bool(_seals(db))


def read_seal_info(db: Database) -> SealInfo:
    """How an unopened vault's root key is sealed."""
    if not inspect(db.engine).has_table(RootSealRow.__tablename__):
        return SealInfo(None)
    with db.read() as session:
        return seal_info(session)


def open_root(db: Database, *, passphrase: str | None = None, shares: Sequence[str] | None = None,
              labels: Sequence[str] | None = None) -> SecretKey:
    """The root key, opened by the passphrase or by shares (``labels`` name them in messages).

    WrongPassphrase, ShareInvalid, NotEnoughShares or SharesDoNotOpen when they do not fit;
    SealMissing when the vault has no seal of that kind."""
    rows = _seals(db)
    if not rows:
        if passphrase is None:
            raise SealMissing("this vault opens with its passphrase only (it has no split of shares yet); "
                              "set CASEVAULT_PASSPHRASE")
        root = convert_release_1(db, passphrase)
        if root is not None:
            return root
        return open_root(db, passphrase=passphrase)  # another process converted it meanwhile
    return open_root_from(rows, passphrase=passphrase, shares=shares, labels=labels)


def open_root_from(rows: dict[str, RootSealRow], *, passphrase: str | None = None,
                   shares: Sequence[str] | None = None, labels: Sequence[str] | None = None) -> SecretKey:
    """The root key opened by one of its seals (``rows`` by method): the passphrase if given,
    else the shares. A restore opens the seals an archive holds this way, before any vault exists."""
    if passphrase is not None:
        if PASSPHRASE not in rows:
            raise SealMissing("this vault no longer opens with a passphrase (dropped by `casevault keys split "
                              "--drop-passphrase`); give its shares (CASEVAULT_UNSEAL_SHARES, or on a terminal)")
        return open_root_by_passphrase(RootSeal.from_json(rows[PASSPHRASE].sealed), passphrase)
    split = rows.get(SHARES)
    if split is None or split.split_id is None or split.threshold is None:
        raise SealMissing("this vault has no split of shares; unseal it with its passphrase (CASEVAULT_PASSPHRASE)")
    secret = recover_secret(list(shares or ()), split.split_id, split.threshold, labels=labels)
    return open_root_by_secret(RootSeal.from_json(split.sealed), secret)


def convert_release_1(db: Database, passphrase: str) -> SecretKey | None:
    """Give a release-1 vault its root key: sealed by the same passphrase, wrapping every master
    key version. WrongPassphrase (nothing written) if the passphrase does not open them; None if
    another process converted the vault first."""
    with db.read() as session:
        rows = {row.version: row.sealed for row in session.scalars(select(MasterKeyVersion))}
    if not rows:
        raise NotInitialized("this data directory has no vault yet; run `casevault init` first")
    masters: dict[int, SecretKey] = {}
    kdf = None
    for version, text in rows.items():
        record = read_master_record(text)
        if not isinstance(record, SealedKey):
            return None  # already in the root-key form: its seal row is there to read
        masters[version] = unseal_master_key(record, passphrase)  # the slow part, outside the write
        kdf = record.kdf
    root = SecretKey.generate(version=1)
    sealed = seal_root_by_passphrase(root, passphrase, kdf).to_json()
    try:
        with db.write() as session:
            current = {row.version: row for row in session.scalars(select(MasterKeyVersion))}
            if {version: row.sealed for version, row in current.items()} != rows:
                return None  # another process converted (or rotated) meanwhile; nothing was written
            session.add(RootSealRow(method=PASSPHRASE, sealed=sealed))
            session.flush()  # a converter at the same moment stops here, on the primary key
            for version, row in current.items():
                row.sealed = wrap_master(root, masters[version]).to_json()
    except IntegrityError:
        return None
    return root


class Custody:
    """Changing the seals of an open vault's root key: the passphrase, the split of shares."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def seal_info(self) -> SealInfo:
        with self.store.read() as work:
            return seal_info(work.session)

    def change_passphrase(self, new: str, *, actor: str) -> SealInfo:
        """Seal the root key under ``new`` (adding a passphrase seal if the vault had none);
        nothing else changes. The old passphrase stops opening the vault at the commit."""
        check_passphrase(new)
        sealed = seal_root_by_passphrase(self.store.keys.root, new).to_json()
        with self.store.write() as work:
            row = work.session.get(RootSealRow, PASSPHRASE)
            if row is None:
                work.session.add(RootSealRow(method=PASSPHRASE, sealed=sealed))
            else:
                row.sealed = sealed
            work.audit(actor=actor, action="keys.passphrase", details={"added": row is None})
        return self.seal_info()

    def split(self, shares: int, threshold: int, *, keep_passphrase: bool, actor: str) -> Split:
        """A new random unseal secret, split into ``shares`` SLIP-39 shares (any ``threshold``
        open the vault), sealing the root key in place of the previous split's seal; without
        ``keep_passphrase`` the passphrase no longer opens the vault. The shares are returned,
        to be shown once: they are stored nowhere."""
        try:
            made = split_secret(shares, threshold)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        sealed = seal_root_by_secret(self.store.keys.root, made.secret, made.identifier).to_json()
        with self.store.write() as work:
            session = work.session
            old = session.get(RootSealRow, SHARES)
            if old is not None:
                session.delete(old)
                session.flush()
            session.add(RootSealRow(method=SHARES, sealed=sealed, split_id=made.identifier, threshold=threshold,
                                    share_count=shares))
            if not keep_passphrase:
                passphrase = session.get(RootSealRow, PASSPHRASE)
                if passphrase is not None:
                    session.delete(passphrase)
            work.audit(actor=actor, action="keys.split",
                       details={"shares": shares, "threshold": threshold, "passphrase_kept": keep_passphrase,
                                "replaced_split": old is not None})
        return made
