"""``casevault upgrade``: bring a vault made by an earlier release to this release's schema and
formats, resumably.

1. Without the revision check that every other way in makes: refuse a vault of a newer release,
   and check the passphrase against the newest sealed master key (read through Core, so the
   columns of release 1 are enough) before anything is changed.
2. Run the Alembic migrations to head in one transaction (``Database.migrating``): both backends
   roll DDL back, so a killed run left the schema as it was and the next run starts over.
3. Unseal the keys, write ``vault.upgrade`` to the audit log (from and to revisions, the pending
   format steps), then run each pending format step (``vault._formats``); each commits in
   batches and is recorded as finished when it returns, so the next run resumes where a killed
   one stopped and does nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from keys import SealedKey, SealMissing, unseal_master_key
from vault import _custody as custody
from vault import _formats as formats
from vault import _opening as opening
from vault import _schema as schema
from vault._db import Database
from vault._models import utcnow
from vault._settings import Settings
from vault._store import Store
from vault.errors import NotInitialized, SchemaAhead, StorageFailed


class UpgradeProgress(Protocol):
    """What the upgrade tells whoever runs it (the command line draws lines and bars)."""

    def migration(self, revision: str, summary: str) -> None: ...

    def step(self, name: str, total: int) -> AbstractContextManager[Callable[[int], None]]: ...


@dataclass(frozen=True, slots=True)
class UpgradeReport:
    from_revisions: tuple[str, ...]  # empty: release 1, made before migrations existed
    to_revisions: tuple[str, ...]
    migrations: tuple[str, ...] = ()
    steps: tuple[str, ...] = field(default=())

    @property
    def up_to_date(self) -> bool:
        """Nothing needed doing: the vault was at this release already."""
        return not self.migrations and not self.steps


def upgrade(settings: Settings, passphrase: str | None, progress: UpgradeProgress, *,
            shares: Sequence[str] | None = None, actor: str) -> UpgradeReport:
    """Migrate, unseal and convert; see the module. Nothing is changed if the passphrase (or the
    shares) do not open the vault or the vault is newer than this release."""
    db = opening.existing(settings)
    try:
        with db.engine.connect() as connection:
            before = schema.current(connection)
            if schema.ahead(before):
                raise SchemaAhead(schema.AHEAD)
            behind = before != schema.heads()
        if behind:  # else unsealing below is the first thing to happen, and checks it
            _check_unseal(db, passphrase, shares)
        applied = _migrate(db, progress) if behind else ()
        return _convert(settings, db, passphrase, shares, progress, before, applied, actor=actor)
    finally:
        db.dispose()


def _check_unseal(db: Database, passphrase: str | None, shares: Sequence[str] | None) -> None:
    """WrongPassphrase or a share error, nothing changed, unless they open the vault: its root
    key if it has one (``vault._custody``), else (release 1) its newest master key, read through
    Core so the columns of release 1 are enough."""
    if custody.has_root(db):
        custody.open_root(db, passphrase=passphrase, shares=shares)
        return
    if passphrase is None:
        raise SealMissing("a vault of release 1 opens with its passphrase only; set CASEVAULT_PASSPHRASE")
    with db.engine.connect() as connection:
        sealed = connection.execute(text("select sealed from master_key order by version desc")).scalar()
    if sealed is None:
        raise NotInitialized("this data directory has no vault yet; run `casevault init` first")
    unseal_master_key(SealedKey.from_json(sealed), passphrase)


def _migrate(db: Database, progress: UpgradeProgress) -> tuple[str, ...]:
    applied: list[str] = []

    def on_version_apply(*, step, **_: object) -> None:  # type: ignore[no-untyped-def]
        applied.append(step.up_revision_id)
        summary = " ".join((getattr(step.up_revision, "doc", "") or "").split())  # its first paragraph
        progress.migration(step.up_revision_id, summary)

    try:
        with db.migrating() as connection:
            if not schema.current(connection):  # release 1 made its tables and recorded no revision
                schema.stamp(connection, schema.RELEASE_1)
            schema.upgrade(connection, on_version_apply=on_version_apply)
    except SQLAlchemyError as error:
        cause = type(getattr(error, "orig", None) or error).__name__
        raise StorageFailed(f"a migration failed ({cause}) and was rolled "
                            "back: the vault is as it was; keep the backup and report this") from None
    return tuple(applied)


def _convert(settings: Settings, db: Database, passphrase: str | None, shares: Sequence[str] | None,
             progress: UpgradeProgress, before: frozenset[str], applied: tuple[str, ...], *,
             actor: str) -> UpgradeReport:
    keys = opening.unseal_keys(db, passphrase if shares is None else None, shares=shares)
    try:
        with db.engine.connect() as connection:
            pending = formats.pending(connection)
        report = UpgradeReport(tuple(sorted(before)), tuple(sorted(schema.heads())), applied,
                               tuple(s.name for s in pending))
        if report.up_to_date:
            return report
        store = Store(settings, db, keys, clock=utcnow)
        store.record(actor=actor, action="vault.upgrade",
                     details={"from": list(report.from_revisions), "to": list(report.to_revisions),
                              "migrations": list(applied), "format_steps": list(report.steps)})
        for step in pending:
            with progress.step(step.name, step.remaining(store)) as advance:
                step.run(store, advance)
            with db.write_connection() as connection:
                formats.mark_finished(connection, [step])
        return report
    finally:
        keys.forget()
