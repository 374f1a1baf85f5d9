"""Restoring a backup into an empty target, so that a restore killed at any moment is finished by
running it again.

Nothing is written until the whole archive has been read once: every member against its SHA-256,
the passphrase (or shares) against the archive's root key seals, the manifest against its MAC. Then a
marker naming the archive goes into a staging directory inside the data directory, the blobs are
written there, and the database is loaded in one transaction (PostgreSQL: into the target schema;
SQLite: into a staging file), its tables made by the migrations up to the revision the archive
names and stamped with it (a backup of an earlier release restores to that release's schema; then
``casevault upgrade`` brings it on). The end is ordered so that a
vault appears only whole: the staged blobs are synced and moved into place, then the database
commits (PostgreSQL) or its file is renamed into place (SQLite); the staging directory goes last.
Run again after a crash, the restore finds its marker, skips what is in place and finishes; a
target that holds anything else is refused.

The restored vault's audit log ends with a ``vault.restore`` entry, written in the transaction
that loads the rows. The search indexes are not in the archive: they are rebuilt from the vault.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, create_engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from vault import _custody as custody
from vault import _dump as dump
from vault import _schema as schema
from vault._archive import Manifest, Quiet, members, read_manifest, table_member
from vault._audit import AuditLog
from vault._blobs import fsync_dir
from vault._db import make_engine
from vault._keystore import KeyStore
from vault._models import Base, MasterKeyVersion, RootSealRow, SystemKeyVersion
from vault._settings import Settings
from vault.errors import RestoreRefused

STAGING = ".restore"
MARKER = "restoring.json"
_KEY_TABLES = (RootSealRow.__table__, MasterKeyVersion.__table__, SystemKeyVersion.__table__)


class RestoreProgress(Protocol):
    def begin(self, total_bytes: int) -> None: ...
    def advance(self, nbytes: int) -> None: ...


@dataclass(frozen=True, slots=True)
class RestoreReport:
    documents: int
    blobs: int
    bytes: int
    backend: str  # the backend that wrote the archive
    release: str
    resumed: bool


def restore(settings: Settings, archive: Path, passphrase: str | None = None, *, shares: Sequence[str] | None = None,
            labels: Sequence[str] | None = None, actor: str, progress: RestoreProgress | None = None) -> RestoreReport:
    progress = progress or Quiet()
    manifest = read_manifest(archive)
    manifest.check_known()
    target = _Target(settings)
    resumed = target.resuming(manifest)
    target.check_empty(resumed)
    size = sum(int(m["size"]) for m in manifest.members)
    loaded = target.loaded()  # by an earlier run of this restore, killed before its clean-up
    progress.begin(size if loaded else 2 * size)
    keys, sealed = _verify(archive, manifest, progress.advance, passphrase=passphrase, shares=shares, labels=labels)
    if loaded and target.sealed_master_keys() != sealed:
        raise RestoreRefused("the database already holds another vault (made since this restore was "
                             "interrupted); empty the target and run the restore again")
    target.mark(manifest)
    if not loaded:
        _load(target, archive, manifest, keys, actor, progress.advance)
    shutil.rmtree(target.staging)
    counts = manifest.counts
    return RestoreReport(int(counts.get("documents", 0)), int(counts.get("blobs", 0)), size,  # type: ignore[call-overload]
                         manifest.backend, manifest.release, resumed)


class _Target:
    """The data directory and the database a restore writes into."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data = settings.data_dir.resolve()
        self.staging = self.data / STAGING
        self.url = settings.resolved_database_url
        parsed = make_url(self.url)
        self.sqlite_file = Path(parsed.database).resolve() if parsed.get_backend_name() == "sqlite" else None

    @property
    def staged_database(self) -> Path:
        assert self.sqlite_file is not None
        if self.sqlite_file.parent == self.data:
            return self.staging / self.sqlite_file.name
        return self.sqlite_file.with_name(self.sqlite_file.name + ".restoring")

    def resuming(self, manifest: Manifest) -> bool:
        marker = self.staging / MARKER
        if not marker.exists():
            return False
        try:
            same = json.loads(marker.read_text())["archive"] == manifest.digest
        except (ValueError, KeyError, OSError):
            same = False
        if not same:
            raise RestoreRefused(f"{self.data} holds an unfinished restore of another backup; run that "
                                 "restore again, or empty the directory")
        return True

    def loaded(self) -> bool:
        """The database is in place (the restore's last step before clean-up happened)."""
        if self.sqlite_file is not None:
            return self.sqlite_file.exists()
        engine = make_engine(self.url)
        try:
            return bool(inspect(engine).get_table_names())
        finally:
            engine.dispose()

    def check_empty(self, resumed: bool) -> None:
        ours = {STAGING, "blobs"} if resumed else set()
        if resumed and self.loaded():
            return  # our own restore got as far as the database: only the clean-up is left
        if self.data.exists() and (left := sorted(p.name for p in self.data.iterdir() if p.name not in ours)):
            raise RestoreRefused(f"{self.data} is not empty (it holds {left[0]}); a restore needs an empty "
                                 "CASEVAULT_DATA")
        if self.loaded():
            raise RestoreRefused("the database at CASEVAULT_DATABASE_URL already holds tables; a restore "
                                 "needs an empty database (or schema)")

    def mark(self, manifest: Manifest) -> None:
        self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.staging.mkdir(mode=0o700, exist_ok=True)
        marker = self.staging / MARKER
        if not marker.exists():
            temp = marker.with_suffix(".tmp")
            with temp.open("w") as out:
                out.write(json.dumps({"archive": manifest.digest}))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, marker)
            fsync_dir(self.staging)
            fsync_dir(self.data)

    def sealed_master_keys(self) -> list[str]:
        """The sealed master keys of the vault in the target database (which ``loaded``)."""
        engine = create_engine(f"sqlite:///{self.sqlite_file}") if self.sqlite_file else make_engine(self.url)
        try:
            with Session(engine) as session:
                return _sealed(session)
        finally:
            engine.dispose()

    @contextmanager
    def database(self, revision: str, before_commit: Callable[[], None]) -> Iterator[Connection]:
        """A transaction over a fresh schema at ``revision``; ``before_commit`` runs just before the
        vault appears."""
        if self.sqlite_file is None:
            engine = make_engine(self.url)
            try:
                with engine.begin() as connection:
                    _make_schema(connection, revision)
                    yield connection
                    before_commit()
            finally:
                engine.dispose()
            return
        staged = self.staged_database
        for leftover in (staged, staged.with_name(staged.name + "-journal")):
            leftover.unlink(missing_ok=True)
        engine = create_engine(f"sqlite:///{staged}")
        try:
            with engine.begin() as connection:
                _make_schema(connection, revision)
                yield connection
        finally:
            engine.dispose()
        with staged.open("rb+") as handle:
            os.fsync(handle.fileno())
        before_commit()
        os.replace(staged, self.sqlite_file)
        fsync_dir(self.sqlite_file.parent)


def _make_schema(connection: Connection, revision: str) -> None:
    """The tables of the schema ``revision`` names, stamped with it: this release's own by its
    models (the migrations test holds that both agree), an earlier one by the migrations."""
    if revision == "+".join(sorted(schema.heads())):
        Base.metadata.create_all(connection)
        schema.stamp_head(connection)
        return
    for one in revision.split("+"):
        schema.upgrade(connection, one)


def _verify(archive: Path, manifest: Manifest, advance: Callable[[int], None], *, passphrase: str | None,
            shares: Sequence[str] | None, labels: Sequence[str] | None) -> tuple[KeyStore, list[str]]:
    """Read the whole archive once, writing nothing: every member's hash, then the passphrase (or
    the shares) against the root key's seals it holds, then the manifest's MAC. The unsealed keys."""
    key_rows = {table_member(t.name): b"" for t in _KEY_TABLES}
    for name, stream in members(archive, manifest, advance):
        if name in key_rows:
            key_rows[name] = stream.read()
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as connection:
            Base.metadata.create_all(connection, tables=list(_KEY_TABLES))
            for rows in key_rows.values():
                dump.load(connection, io.BytesIO(rows))
        with Session(engine) as session:
            seals = {row.method: row for row in session.scalars(select(RootSealRow))}
            root = custody.open_root_from(seals, passphrase=passphrase if shares is None else None, shares=shares,
                                          labels=labels)
            keys = KeyStore.unseal(session, root)
            sealed = _sealed(session)
    finally:
        engine.dispose()
    manifest.check_seal(keys.system["audit-chain"])
    return keys, sealed


def _sealed(session: Session) -> list[str]:
    return list(session.scalars(select(MasterKeyVersion.sealed).order_by(MasterKeyVersion.version)))


def _load(target: _Target, archive: Path, manifest: Manifest, keys: KeyStore, actor: str,
          advance: Callable[[int], None]) -> None:
    final_blobs = target.data / "blobs"
    in_place = final_blobs.exists()  # moved there by an earlier run of this restore, whole
    staged_blobs = target.staging / "blobs"
    staged_blobs.mkdir(exist_ok=True)

    def move_blobs() -> None:
        if not in_place:
            os.sync()  # every staged blob on disk before the vault can appear
            os.replace(staged_blobs, final_blobs)
            fsync_dir(target.data)

    with target.database(manifest.schema, move_blobs) as connection:
        for name, stream in members(archive, manifest, advance):  # checked again: the file may have changed
            if name.startswith("database/"):
                dump.load(connection, stream)
            elif not in_place:
                _stage_blob(staged_blobs / name.removeprefix("blobs/"), stream)
        dump.fix_sequences(connection)
        AuditLog(keys.system["audit-chain"], keys.system["audit-details"]).append(
            connection, actor=actor, action="vault.restore",
            details={"documents": manifest.counts.get("documents", 0)})


def _stage_blob(path: Path, stream: object) -> None:
    if path.exists():
        return  # written whole by an earlier run (a blob is renamed to its name only when complete)
    path.parent.mkdir(exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)  # type: ignore[misc]
    os.replace(partial, path)
