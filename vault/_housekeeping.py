"""Housekeeping: pruning the index outbox once every index has passed a row, and sweeping blob
files that no row names.

The outbox. Every node's search indexes record in the database how far they have applied the
outbox (``record_index_position``: one row per node, the outbox id up to which every case of
that node holds every change). Rows at or below the lowest position of the nodes seen lately are
deleted, and the highest id deleted is kept as the horizon: an index whose mark is below it (a
node forgotten after ``NODE_FORGOTTEN_AFTER`` without news, an index restored from a backup, a
node that never registered) cannot replay what it missed and rebuilds from the vault instead.
The newest row is never deleted, so SQLite, which hands out max(id) + 1, never reuses an id.

Why positions in the database rather than files: several app nodes share the database but not
their disks; the pruner (any node, or ``casevault housekeeping``) can only see what the database
holds. A node that reports late only keeps rows longer; a node that stops reporting is forgotten,
so one dead node does not keep the outbox forever.

Orphan blobs. A blob file is published (renamed into place) just before the commit of the row
that names it; a crash between the two, or between a commit and the deletion of the files it
superseded (a re-masking, a re-encryption), leaves a file no row names. Only files published
longer ago than a grace period are removed: another process may be about to commit its row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from vault._models import BlobRow, IndexNodeRow, IndexOutboxRow, OutboxHorizonRow
from vault._store import Store

NODE_FORGOTTEN_AFTER = timedelta(days=7)
SWEEP_BATCH = 500


def _batches(names: Iterator[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for name in names:
        batch.append(name)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Housekeeping:
    """Pruning the outbox and sweeping orphan blob files."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record_index_position(self, node: str, position: int) -> None:
        """Node ``node``'s indexes hold every outbox change up to id ``position``, for every case."""
        now = self.store.now()
        for _ in range(2):  # two nodes of the same id racing to insert: the loser updates
            try:
                with self.store.write() as work:
                    moved = work.session.execute(update(IndexNodeRow).where(IndexNodeRow.node == node)
                                                 .values(position=position, seen_at=now)).rowcount
                    if not moved:
                        work.session.add(IndexNodeRow(node=node, position=position, seen_at=now))
                return
            except IntegrityError:
                continue

    def outbox_horizon(self) -> int:
        """The highest outbox id ever pruned (0 when none was)."""
        with self.store.read() as work:
            return work.session.scalar(select(OutboxHorizonRow.pruned_through)) or 0

    def prune_outbox(self, *, now: datetime | None = None) -> int:
        """Delete the outbox rows every node seen lately has passed; returns how many."""
        now = now or self.store.now()
        with self.store.write() as work:
            session = work.session
            session.execute(delete(IndexNodeRow).where(IndexNodeRow.seen_at < now - NODE_FORGOTTEN_AFTER))
            lowest = session.scalar(select(func.min(IndexNodeRow.position)))
            newest = session.scalar(select(func.max(IndexOutboxRow.id)))
            if lowest is None or newest is None:  # no index to answer for, or nothing to prune
                return 0
            through = min(lowest, newest - 1)
            horizon = session.get(OutboxHorizonRow, 1)
            if through <= (horizon.pruned_through if horizon else 0):
                return 0
            pruned = session.execute(delete(IndexOutboxRow).where(IndexOutboxRow.id <= through)).rowcount
            if horizon is None:
                session.add(OutboxHorizonRow(id=1, pruned_through=through))
            else:
                horizon.pruned_through = through
        return pruned

    def sweep_orphan_blobs(self, *, older_than: float) -> int:
        """Remove blob files that no row names, published more than ``older_than`` seconds ago;
        returns how many."""
        removed = 0
        for batch in _batches(self.store.blobs.published(older_than=older_than), SWEEP_BATCH):
            with self.store.read() as work:
                named = set(work.session.scalars(select(BlobRow.storage_name).where(BlobRow.storage_name.in_(batch))))
            for name in batch:
                if name not in named:
                    self.store.blobs.delete(name)
                    removed += 1
        return removed
