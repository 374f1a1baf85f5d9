"""Making a new vault's database and key hierarchy, or unsealing an existing one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, inspect, select

from keys import KdfParams
from vault import _custody as custody
from vault import _formats as formats
from vault import _policy as policy
from vault import _schema as schema
from vault._audit import AuditLog
from vault._db import Database
from vault._identities import ARCHIVE_SCOPE, IdentityMap
from vault._keystore import KeyStore
from vault._models import Base, MasterKeyVersion
from vault._settings import Settings
from vault.errors import AlreadyInitialized, NotInitialized


def create(settings: Settings, passphrase: str, *, kdf: KdfParams | None, actor: str) -> tuple[Database, KeyStore]:
    """The schema, a sealed master key, system keys, the audit log and the archive-wide pseudonym
    scope, in one transaction; the database and the unsealed keys. Nothing is kept on failure."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    try:
        db.check_reachable()
        if inspect(db.engine).has_table(MasterKeyVersion.__tablename__):
            with db.read() as session:
                if session.scalar(select(func.count()).select_from(MasterKeyVersion)):
                    raise AlreadyInitialized(
                        "a vault already exists here; use it, or choose another CASEVAULT_DATA"
                    )
        with db.write_connection() as connection:
            Base.metadata.create_all(connection)
            schema.stamp_head(connection)
            formats.mark_finished(connection, formats.registered())  # made in the current format
        with db.write() as session:
            keys = KeyStore.initialize(session, passphrase, kdf)
            AuditLog.create(session)
            policy.create(session)
            session.flush()
            IdentityMap(keys).create_scope(session, ARCHIVE_SCOPE)
            AuditLog(keys.system["audit-chain"], keys.system["audit-details"]).append(
                session, actor=actor, action="vault.init")
    except BaseException:
        db.dispose()
        raise
    return db, keys


def unseal(settings: Settings, passphrase: str | None = None, *, shares: Sequence[str] | None = None,
           labels: Sequence[str] | None = None) -> tuple[Database, KeyStore]:
    """The database and the unsealed keys of an existing vault, by the passphrase or by shares;
    WrongPassphrase, a share error or SharesDoNotOpen (and nothing changed) if they do not fit,
    SchemaBehind or SchemaAhead (and nothing changed) if the vault is not at this release's schema."""
    db = existing(settings)
    try:
        with db.engine.connect() as connection:
            schema.check(connection)
        keys = unseal_keys(db, passphrase, shares=shares, labels=labels)
    except BaseException:
        db.dispose()
        raise
    return db, keys


def existing(settings: Settings) -> Database:
    """The database of an existing vault, reachable, whatever its schema's revision;
    NotInitialized if there is no vault there. Nothing is unsealed."""
    if settings.database_url is None and not (settings.data_dir / "casevault.db").exists():
        raise NotInitialized(
            f"no vault in {settings.data_dir}; run `casevault init` or set CASEVAULT_DATA"
        )
    db = Database(settings.resolved_database_url)
    try:
        db.check_reachable()
        if not inspect(db.engine).has_table(MasterKeyVersion.__tablename__):
            raise NotInitialized("this database has no vault yet; run `casevault init` first")
    except BaseException:
        db.dispose()
        raise
    return db


def unseal_keys(db: Database, passphrase: str | None = None, *, shares: Sequence[str] | None = None,
                labels: Sequence[str] | None = None) -> KeyStore:
    """The unsealed keys of a vault at this release's schema (a vault of release 1 gets its root
    key on the way, ``vault._custody``), with what each key store of this release has (system
    keys of purposes added since, the policy epoch's row)."""
    root = custody.open_root(db, passphrase=passphrase, shares=shares, labels=labels)
    with db.read() as session:
        keys = KeyStore.unseal(session, root)
    try:
        with db.write() as session:
            keys.add_missing_system_keys(session)
        policy.ensure(db)  # a vault made before the policy epoch existed
    except BaseException:
        keys.forget()
        raise
    return keys
