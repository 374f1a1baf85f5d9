"""The backups a running server writes when an admin asks: one at a time, each in a thread of its
own, into the backup directory (``Settings.resolved_backup_dir``, outside the data directory,
made 0700), named by the UTC second it began: ``casevault-20261203T142501Z.tar``.

The archive is the one ``casevault backup`` writes (``vault._backup``, audited as ``vault.backup``
by whoever asked), so it appears under its name only whole. What is in the directory is listed
from each archive's manifest, which holds the release, the time and the counts in clear (nothing
the data directory does not show already). How far the running backup has got is known to the
process that runs it. One at a time holds across processes as well: a run holds an exclusive lock
on ``.lock`` in the directory, so a second server on the same directory refuses too.

Nothing here hands an archive out: it is ciphertext, but carrying it off the host is the
operator's job, as restoring one is (a restore needs an empty target and the unseal secret).
"""

from __future__ import annotations

import fcntl
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from vault._archive import read_manifest
from vault._backup import BackupReport
from vault.errors import BackupFailed, BackupRunning, BackupStopped, BackupUnreadable, VaultError

log = logging.getLogger(__name__)

_STAMP = "%Y%m%dT%H%M%SZ"
NAME = re.compile(r"casevault-(\d{8}T\d{6}Z)(?:-([1-9]\d{0,3}))?\.tar")
LOCK = ".lock"

Writer = Callable[..., BackupReport]  # Vault.backup: (target, *, actor, progress) -> BackupReport


@dataclass(frozen=True, slots=True)
class BackupRun:
    """A backup this server started: ``running``, ``finished`` or ``failed`` (``message`` says why)."""

    name: str
    state: str
    started_at: datetime
    started_by: str
    done_bytes: int
    total_bytes: int  # 0 while the database snapshot is taken, before the archive is written
    finished_at: datetime | None = None
    documents: int | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class StoredBackup:
    """An archive in the backup directory. ``release`` and ``documents`` are None when its manifest
    cannot be read (not a casevault backup, or damaged)."""

    name: str
    size: int
    created_at: datetime
    release: str | None
    documents: int | None


class _Progress:
    """One run's progress (a ``BackupProgress``), read by other threads as it changes; stops the
    write when the server stops."""

    def __init__(self, name: str, started_at: datetime, started_by: str, stopping: threading.Event) -> None:
        self.name, self.started_at, self.started_by = name, started_at, started_by
        self.stopping = stopping
        self.state = "running"
        self.done = self.total = 0
        self.finished_at: datetime | None = None
        self.documents: int | None = None
        self.message: str | None = None

    def snapshot_taken(self, rows: dict[str, int]) -> None:
        pass

    def blobs_replaced(self, count: int) -> None:
        pass

    def begin(self, total_bytes: int) -> None:
        self.total = total_bytes

    def advance(self, nbytes: int) -> None:
        if self.stopping.is_set():
            raise BackupStopped(f"the server stopped while backup {self.name} was being written; "
                                "nothing was left under its name")
        self.done += nbytes

    def end(self, state: str, *, documents: int | None = None, message: str | None = None) -> None:
        self.finished_at = datetime.now(UTC)
        self.documents, self.message = documents, message
        self.state = state  # last: a reader that sees the state sees the rest

    def view(self) -> BackupRun:
        return BackupRun(self.name, self.state, self.started_at, self.started_by, self.done, self.total,
                         self.finished_at, self.documents, self.message)


class ServerBackups:
    """Backups of one open vault (``write`` is its ``Vault.backup``) into ``directory``."""

    def __init__(self, write: Writer, directory: Path, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.directory = directory
        self._write = write
        self._clock = clock
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._latest: _Progress | None = None
        self._thread: threading.Thread | None = None

    def start(self, *, actor: str) -> BackupRun:
        """Begin a backup in a thread of its own and answer it, running; BackupRunning (nothing
        started) while another runs, here or in another process on the same directory."""
        with self._guard:
            if self._latest is not None and self._latest.state == "running":
                raise BackupRunning(f"backup {self._latest.name} is running; wait until it is finished")
            if self._stopping.is_set():
                raise BackupStopped("the server is stopping; no backup was started")
            held = self._hold()
            try:
                started = self._clock()
                progress = _Progress(self._free_name(started), started, actor, self._stopping)
                thread = threading.Thread(target=self._run, args=(progress, held), name="casevault backup",
                                          daemon=True)
                thread.start()
            except BaseException:
                held.close()
                raise
            self._latest, self._thread = progress, thread
            return progress.view()

    def latest(self) -> BackupRun | None:
        """The backup this server started last (running, finished or failed), if any."""
        progress = self._latest
        return progress.view() if progress else None

    def stored(self) -> list[StoredBackup]:
        """The archives in the directory, newest first."""
        try:
            paths = [p for p in self.directory.iterdir() if NAME.fullmatch(p.name) and not p.is_symlink() and p.is_file()]
        except FileNotFoundError:
            return []
        except OSError as error:
            raise BackupFailed(f"the backup directory {self.directory} cannot be read ({error.strerror})") from None
        found = [_stored(path) for path in paths]
        return sorted((f for f in found if f is not None), key=_order, reverse=True)

    def close(self, timeout: float | None = None) -> None:
        """Stop a running backup (its partial archive is removed) and wait for its thread."""
        with self._guard:
            self._stopping.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- a run --------------------------------------------------------------------------------------

    def _run(self, progress: _Progress, held: IO[str]) -> None:
        state, documents, message = "failed", None, None
        try:
            documents = self._write(self.directory / progress.name, actor=progress.started_by,
                                    progress=progress).documents
            state = "finished"
        except VaultError as error:
            message = error.message
        except Exception:  # noqa: BLE001 (a thread's last word: the run says it failed, the log says why)
            log.exception("backup %s failed", progress.name)
            message = "the backup failed for a reason the server's log gives; nothing was left under its name"
        finally:
            held.close()  # first: whoever sees the run ended may start the next
            progress.end(state, documents=documents, message=message)

    def _hold(self) -> IO[str]:
        """The directory (made 0700 if missing) and its lock, held until the run ends."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock = (self.directory / LOCK).open("a")
        except OSError as error:
            raise BackupFailed(f"the backup directory {self.directory} cannot be used ({error.strerror}); "
                               "the operator sets CASEVAULT_BACKUP_DIR") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise BackupRunning("another process is writing a backup into the same directory; "
                                "wait until it is finished") from None
        return lock

    def _free_name(self, started: datetime) -> str:
        """``casevault-<UTC second>.tar``, or ``-2``, ``-3``... after a backup of the same second."""
        stamp = started.astimezone(UTC).strftime(_STAMP)
        for number in range(1, 10000):
            name = f"casevault-{stamp}.tar" if number == 1 else f"casevault-{stamp}-{number}.tar"
            if not (self.directory / name).exists():
                return name
        raise BackupRunning("too many backups in one second; wait a second")


def _stored(path: Path) -> StoredBackup | None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:  # removed since the directory was read
        return None
    stamp = datetime.strptime(NAME.fullmatch(path.name).group(1), _STAMP).replace(tzinfo=UTC)  # type: ignore[union-attr]
    try:
        manifest = read_manifest(path)
        created = datetime.fromisoformat(manifest.created_at)
        documents = manifest.counts.get("documents")
        return StoredBackup(path.name, size, created, manifest.release, documents if isinstance(documents, int) else None)
    except (BackupUnreadable, ValueError):
        return StoredBackup(path.name, size, stamp, None, None)


def _order(stored: StoredBackup) -> tuple[str, int]:
    match = NAME.fullmatch(stored.name)
    return match.group(1), int(match.group(2) or 1)  # type: ignore[union-attr]
