"""Backing up a vault while it runs: the database snapshot first, then the blobs it references.

A blob is published (renamed into place) before the row that names it commits, and blob files
never change, so every blob a snapshot references exists when the snapshot is taken; what can
happen after is a re-masking or a destroy that deletes a blob it replaced. So the snapshot comes
first, and each blob it references is hard-linked into a private directory at once (the link
keeps the file whole whatever the vault deletes after). A blob already gone is checked against
the live database: if the database no longer references it, it was replaced, and a new snapshot
is taken (blobs already linked are kept; they never change); if it still does, the vault is
damaged and the backup says so. Nothing is plaintext: rows hold ciphertext, sealed keys, digests
and clear sizes and dates; blobs are ciphertext.

The backup's audit entry is written before the snapshot, so the archive holds the record of its
own making (an attempt that then fails stays recorded as an attempt).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from vault import _dump as dump
from vault._archive import Manifest, Quiet, blob_member, table_member, write_archive
from vault._models import BlobRow
from vault._store import Store
from vault.errors import BackupFailed

PRIVATE = ".backup"  # the data directory's private area for snapshots and links, never /tmp
SNAPSHOT_ATTEMPTS = 3


class BackupProgress(Protocol):
    """What a backup tells as it goes: each snapshot taken (rows per table), blobs found replaced
    after one (another snapshot follows), then the bytes of the archive."""

    def snapshot_taken(self, rows: dict[str, int]) -> None: ...
    def blobs_replaced(self, count: int) -> None: ...
    def begin(self, total_bytes: int) -> None: ...
    def advance(self, nbytes: int) -> None: ...


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    documents: int
    blobs: int
    bytes: int
    snapshots: int  # more than one when blobs were replaced while the backup ran
    replaced: int


@contextmanager
def _private_run(data_dir: Path) -> Iterator[Path]:
    """A directory of its own under the private area, removed on every path; leftovers of runs
    that died (their lock is free) are swept first."""
    area = data_dir / PRIVATE
    area.mkdir(mode=0o700, exist_ok=True)
    for leftover in area.iterdir():
        _sweep(leftover)
    run = area / secrets.token_hex(8)
    run.mkdir(mode=0o700)
    lock = (run / ".lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield run
    finally:
        shutil.rmtree(run, ignore_errors=True)
        lock.close()


def _sweep(leftover: Path) -> None:
    try:
        with (leftover / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held while its backup runs
            shutil.rmtree(leftover, ignore_errors=True)
    except (BlockingIOError, NotADirectoryError):
        pass
    except FileNotFoundError:
        shutil.rmtree(leftover, ignore_errors=True)


class Backup:
    def __init__(self, store: Store) -> None:
        self.store = store

    def write(self, target: Path, *, actor: str, progress: BackupProgress | None = None) -> BackupReport:
        progress = progress or Quiet()
        target = target.resolve()
        if not target.parent.is_dir():
            raise BackupFailed(f"{target.parent} is not a directory; choose where the backup goes")
        self.store.record(actor=actor, action="vault.backup")
        with _private_run(self.store.settings.data_dir) as run:
            linked = run / "blobs"
            linked.mkdir()
            with self.store.blobs.held():  # replaced files are kept until each is linked
                attempt, names, counts, table_files, replaced = self._snapshot(run, linked, progress)
            files = [(table_member(table), path) for table, path in table_files]
            files += [(blob_member(name), linked / name) for name in names]
            blob_bytes = sum((linked / name).stat().st_size for name in names)
            total = sum(path.stat().st_size for _, path in files)
            progress.begin(total)
            manifest = Manifest(
                backend=self.store.db.backend, created_at=datetime.now(UTC).isoformat(),
                counts={"rows": counts, "documents": counts.get("document", 0), "blobs": len(names),
                        "blob_bytes": blob_bytes, "audit_entries": counts.get("audit_log", 0)})
            write_archive(target, manifest, files, self.store.keys.system["audit-chain"], progress.advance)
        return BackupReport(target, counts.get("document", 0), len(names), total, attempt, replaced)

    def _snapshot(self, run: Path, linked: Path,
                  progress: BackupProgress) -> tuple[int, list[str], dict[str, int], list[tuple[str, Path]], int]:
        """A snapshot of the rows and a link to every blob file it names, taken again (at most
        SNAPSHOT_ATTEMPTS times) when one was gone: the attempt, the names, the row counts, the
        table files and how many files were found replaced."""
        replaced = 0
        for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
            rows_dir = run / f"rows-{attempt}"
            rows_dir.mkdir()
            with dump.snapshot(self.store.db.engine, run) as connection:
                table_files, counts, names = dump.dump(connection, rows_dir)
            progress.snapshot_taken(counts)
            missing = [name for name in names if not self._link(name, linked)]
            if not missing:
                return attempt, names, counts, table_files, replaced
            still = self._referenced(missing)
            if still:
                raise BackupFailed(f"{len(still)} blob files the database references are missing from "
                                   f"{self.store.blobs.root}; the vault is damaged: restore it from an "
                                   "earlier backup (nothing was written)")
            replaced += len(missing)
            progress.blobs_replaced(len(missing))
        raise BackupFailed(f"blob files kept being replaced while the backup ran ({SNAPSHOT_ATTEMPTS} "
                           "snapshots); run it again when fewer re-maskings run (nothing was written)")

    def _link(self, name: str, linked: Path) -> bool:
        """Hold the blob under ``linked``; False if it is gone."""
        held = linked / name
        if held.exists():
            return True  # linked for an earlier snapshot: blob files never change
        source = self.store.blobs.path(name)
        if not source.exists():
            source = self.store.blobs.held_path(name)  # replaced since the snapshot, kept by the hold
        try:
            os.link(source, held)
        except FileNotFoundError:
            return False
        except OSError:  # another file system, or links refused: copy it
            try:
                shutil.copyfile(source, held)
            except FileNotFoundError:
                return False
        return True

    def _referenced(self, names: list[str]) -> list[str]:
        with self.store.read() as work:
            found: list[str] = []
            for start in range(0, len(names), 500):
                found += work.session.scalars(select(BlobRow.storage_name)
                                              .where(BlobRow.storage_name.in_(names[start:start + 500])))
            return found
