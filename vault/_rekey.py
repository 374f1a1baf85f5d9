"""Master key rotation and retirement.

``rotate_master`` stores master key version N+1, wrapped by the root key, then wraps every child
key (system, case and scope keys) again under it, in batches of ``BATCH_ROWS``, one transaction
each. Killed half-way, the same command finishes the job: while any child key is still wrapped by
an older version, it resumes that rewrap instead of making another version. ``retire_master``
destroys an older version's wrapped key (a tombstone stays for the status) once nothing depends
on it; a ciphertext that still names it fails with ``KeyVersionRetired`` from then on.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from vault._keystore import WRAPPED_BY_MASTER, KeyStore
from vault._models import MasterKeyVersion
from vault._store import Store
from vault.errors import Conflict, NotFound

BATCH_ROWS = 200  # child keys rewrapped per transaction

# Test-only: called after each committed batch with the number of batches done, so a test can
# stop the process there (SIGKILL) and check that the same command finishes the job. None in use.
TEST_ONLY_AFTER_BATCH: Callable[[int], None] | None = None

Progress = Callable[[int, int], None]  # (keys rewrapped so far, keys to rewrap in all)


class Rekey:
    """Rotating the master key and retiring its old versions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _pending(self, newest: int) -> int:
        """Child keys wrapped by a master key version older than ``newest``."""
        with self.store.read() as work:
            return sum(work.session.scalar(select(func.count()).select_from(model)
                                           .where(model.master_version != newest)) or 0  # type: ignore[attr-defined]
                       for model in WRAPPED_BY_MASTER.values())

    def _newest(self) -> int:
        with self.store.read() as work:
            return work.session.scalar(select(func.max(MasterKeyVersion.version))) or 0

    def rotate_master(self, *, actor: str, progress: Progress | None = None) -> tuple[int, bool]:
        """Make master key version N+1 and rewrap every child key under it, or finish the
        rewrap an interrupted rotation left; (the newest version, whether this resumed one)."""
        newest = self._newest()
        resumed = self._pending(newest) > 0
        if not resumed:
            try:
                with self.store.write() as work:
                    newest = self.store.keys.add_master_version(work.session)
                    work.audit(actor=actor, action="keys.rotate_master", details={"master_version": newest})
            except IntegrityError:  # another rotation took the same version number first
                raise Conflict("the master key was being rotated by someone else at the same time; run the "
                               "command again to finish it") from None
        total = self._pending(newest)
        done: dict[str, int] = dict.fromkeys(WRAPPED_BY_MASTER, 0)
        batches = 0
        if progress:
            progress(0, total)
        while True:
            with self.store.write() as work:
                batch = self.store.keys.rewrap_batch(work.session, BATCH_ROWS)
            if not any(batch.values()):
                break
            for kind, count in batch.items():
                done[kind] += count
            batches += 1
            if progress:
                progress(sum(done.values()), total)
            if TEST_ONLY_AFTER_BATCH is not None:
                TEST_ONLY_AFTER_BATCH(batches)
        self.store.record(actor=actor, action="keys.rewrap_master",
                          details={"master_version": newest, "resumed": resumed, **done})
        return newest, resumed

    def retire_master(self, version: int, *, actor: str) -> None:
        """Retire master key version ``version``: Conflict, saying what still depends on it,
        while any key is wrapped by it or while it is the newest; its wrapped key is destroyed."""
        keys = self.store.keys
        with self.store.write() as work:
            session = work.session
            # first the row's lock: a key being wrapped by this version commits before the count
            session.get(MasterKeyVersion, version, with_for_update=True)
            masters = {v: at for v, _, at in KeyStore.master_versions(session)}
            if version not in masters:
                raise NotFound(f"there is no master key version {version}; `casevault keys status` lists them")
            if masters[version] is not None:
                raise Conflict(f"master key version {version} is retired already")
            if version == max(masters):
                raise Conflict(f"master key version {version} is the newest and wraps new keys; make a newer one "
                               "with `casevault keys rotate --master` first")
            counts = KeyStore.wrapped_by_master(session).get(version, {})
            if any(counts.values()):
                still = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items() if count)
                raise Conflict(f"master key version {version} still wraps {still}; finish the rewrap with "
                               "`casevault keys rotate --master`, then retire it")
            retired_at = keys.retire_master_version(session, version)
            work.audit(actor=actor, action="keys.retire", details={"master_version": version})
        keys.forget_master_version(version, retired_at)
