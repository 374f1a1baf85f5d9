"""Encrypted blob files, named by the server and written atomically.

A blob is written to ``.incoming/`` (same file system), fsynced, and only renamed into place
(followed by an fsync of the directory) once the database row that points to it is about to be
committed. A crash leaves either a complete blob or a temporary file the next start sweeps away.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from vault.errors import StorageFailed

_INCOMING = ".incoming"
_SHREDDING = ".shredding"
_HOLDS = ".holds"  # one file per running backup: while there is one, replaced files are kept
_HELD = ".held"  # where they are kept, until the last hold ends
HOLD_SECONDS = 24 * 3600  # a hold older than this was left by a backup that died
_NAME = re.compile(r"[0-9a-f]{32}")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    """Remove a file if it is there; a failure to clean up must not hide the first error."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _storage_error(error: OSError) -> StorageFailed:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFailed("the data directory is full; free space and try again (nothing was stored)")
    return StorageFailed("the data directory could not be written; check its disk and permissions (nothing was stored)")


class PendingBlob:
    """A blob written to a temporary file, not yet visible under its final name."""

    def __init__(self, store: BlobStore, name: str, temp: Path, size: int) -> None:
        self.store, self.name, self.temp, self.size = store, name, temp, size

    def open(self) -> BinaryIO:
        return self.temp.open("rb")

    def publish(self) -> None:
        final = self.store.path(self.name)
        try:
            if not final.parent.exists():
                final.parent.mkdir(exist_ok=True)
                fsync_dir(final.parent.parent)  # the new shard directory itself must survive
            os.replace(self.temp, final)
            os.utime(final)  # its age is the time since it was published (the orphan sweep's grace)
            fsync_dir(final.parent)
        except OSError as error:
            raise _storage_error(error) from None

    def discard(self) -> None:
        _remove(self.temp)
        _remove(self.store.path(self.name))


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._incoming = root / _INCOMING

    def create(self) -> None:
        self._incoming.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        if len(name) != 32 or not all(c in "0123456789abcdef" for c in name):
            raise ValueError("not a storage name")  # names come from us only; never from input
        return self.root / name[:2] / name

    def write(self, pieces: Iterable[bytes]) -> PendingBlob:
        """Write the pieces to a new temporary file; on any error nothing is left behind."""
        name = secrets.token_hex(16)
        temp = self._incoming / f"{name}.tmp"
        size = 0
        try:
            with temp.open("xb") as out:
                for piece in pieces:
                    out.write(piece)
                    size += len(piece)
                out.flush()
                os.fsync(out.fileno())
        except OSError as error:
            _remove(temp)
            raise _storage_error(error) from None
        except BaseException:
            _remove(temp)
            raise
        return PendingBlob(self, name, temp, size)

    def open(self, name: str) -> tuple[BinaryIO, int]:
        path = self.path(name)
        handle = path.open("rb")
        return handle, os.fstat(handle.fileno()).st_size

    def delete(self, name: str) -> None:
        """Remove a published file (its row is gone); while a backup holds the store, keep it
        under ``.held/`` instead, so that a snapshot taken before can still find it."""
        path = self.path(name)
        if self._holding():
            keep = self.root / _HELD
            keep.mkdir(exist_ok=True)
            try:
                os.replace(path, keep / name)
            except FileNotFoundError:
                pass
            return
        path.unlink(missing_ok=True)

    def held_path(self, name: str) -> Path:
        """Where ``delete`` kept a file while a backup held the store."""
        return self.root / _HELD / self.path(name).name

    @contextmanager
    def held(self) -> Iterator[None]:
        """While the block runs (in this process or any other on the same directory), files that
        ``delete`` would remove are kept; they go when the last hold ends. A backup holds the
        store from before its snapshot until it has linked every file the snapshot names."""
        folder = self.root / _HOLDS
        folder.mkdir(exist_ok=True)
        hold = folder / secrets.token_hex(8)
        hold.touch()
        fsync_dir(folder)  # a deleter that commits after the snapshot sees the hold
        try:
            yield
        finally:
            _remove(hold)
            if not self._holding():
                shutil.rmtree(self.root / _HELD, ignore_errors=True)

    def _holding(self) -> bool:
        folder = self.root / _HOLDS
        try:
            entries = list(folder.iterdir())
        except FileNotFoundError:
            return False
        limit, live = time.time() - HOLD_SECONDS, False
        for entry in entries:
            try:
                if entry.stat().st_mtime >= limit:
                    live = True
                else:
                    _remove(entry)  # left by a backup that died
            except FileNotFoundError:
                pass
        return live

    def note_shredding(self, name: str, storage_names: list[str]) -> Path:
        """Write (and fsync) the list of blob files a destroy is about to orphan, before its commit:
        if the process dies before it deletes them, the next open finds the list (``shredding``)."""
        folder = self.root / _SHREDDING
        folder.mkdir(exist_ok=True)
        note = folder / f"{name}.json"
        try:
            with note.open("w", encoding="utf-8") as out:
                json.dump(storage_names, out)
                out.flush()
                os.fsync(out.fileno())
            fsync_dir(folder)
        except OSError as error:
            _remove(note)
            raise _storage_error(error) from None
        return note

    def shredding(self) -> list[tuple[Path, list[str]]]:
        """The lists left by destroys that did not finish deleting their files."""
        found = []
        for note in sorted((self.root / _SHREDDING).glob("*.json")):
            try:
                names = json.loads(note.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                names = []  # cut short while written: its destroy never committed
            found.append((note, [n for n in names if isinstance(n, str) and _NAME.fullmatch(n)]))
        return found

    def published(self, *, older_than: float) -> Iterator[str]:
        """The names of the published blob files untouched for ``older_than`` seconds."""
        limit = time.time() - older_than
        for shard in sorted(self.root.glob("[0-9a-f][0-9a-f]")):
            for path in shard.iterdir():
                name = path.name
                if len(name) == 32 and name[:2] == shard.name and all(c in "0123456789abcdef" for c in name):
                    try:
                        if path.stat().st_mtime < limit:
                            yield name
                    except FileNotFoundError:
                        pass

    def sweep_incoming(self, *, older_than: float) -> int:
        """Remove temporary files left by a crash; returns how many were removed.

        Only files untouched for ``older_than`` seconds: a younger one may belong to an ingest
        still running in another process."""
        removed = 0
        limit = time.time() - older_than
        for leftover in self._incoming.glob("*.tmp"):
            try:
                if leftover.stat().st_mtime < limit:
                    _remove(leftover)
                    removed += 1
            except FileNotFoundError:
                pass
        return removed
