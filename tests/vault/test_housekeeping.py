"""Housekeeping in the vault: blob files no row names are swept after a grace period (a crash
between publishing and committing), never a committed one and never one still in flight; the
outbox keeps its newest row and prunes nothing no node has passed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import ingest_bytes
from tests.vault.conftest import CALL
from vault._models import IndexOutboxRow


def _age(path: Path, *, hours: float) -> None:
    past = time.time() - hours * 3600
    os.utime(path, (past, past))


def _published_without_a_row(vault) -> Path:
    blob = vault.blobs.write(iter([os.urandom(200)]))
    blob.publish()  # the process died here, before its commit
    return vault.blobs.path(blob.name)


def test_a_published_blob_without_a_row_is_swept_after_the_grace_period(vault):
    orphan = _published_without_a_row(vault)
    assert vault.sweep_orphan_blobs(older_than=600) == 0 and orphan.exists()  # young: maybe in flight
    _age(orphan, hours=1)
    assert vault.sweep_orphan_blobs(older_than=600) == 1
    assert not orphan.exists()


def test_a_committed_blob_is_never_swept(vault, case):
    document = ingest_bytes(vault, case, CALL, "call.txt")
    files = list(vault.settings.blob_dir.glob("??/*"))
    assert len(files) == 3
    for path in files:
        _age(path, hours=48)
    assert vault.sweep_orphan_blobs(older_than=0) == 0
    assert all(path.exists() for path in files)
    assert "Quillon" in vault.content(document.id, actor="tester").text


def test_a_blob_just_published_by_an_ingest_in_flight_survives_the_default_grace(vault, case):
    in_flight = _published_without_a_row(vault)
    _age(in_flight, hours=0)
    assert vault.blob_grace_seconds >= 60
    assert vault.sweep_orphan_blobs() == 0
    assert in_flight.exists()


def test_publishing_restarts_a_blob_files_age(vault):
    """The file was written long before (an upload waiting for a parser): its age counts from
    the moment it was published, so the sweep's grace covers publish-to-commit."""
    blob = vault.blobs.write(iter([b"x" * 100]))
    _age(blob.temp, hours=2)
    blob.publish()
    assert time.time() - vault.blobs.path(blob.name).stat().st_mtime < 60


def test_the_outbox_keeps_its_newest_row(vault, case):
    ingest_bytes(vault, case, CALL, "call.txt")
    ingest_bytes(vault, case, CALL + b"[00:00:20] H: again.\n", "again.txt")
    vault.record_index_position("node-a", 10_000)  # a node that is far ahead
    assert vault.prune_outbox() == 1
    with vault.db.read() as session:
        assert session.scalars(sa.select(IndexOutboxRow.id)).all() == [2]
    assert vault.outbox_horizon() == 1
    ingest_bytes(vault, case, CALL + b"[00:00:30] H: once more.\n", "more.txt")
    with vault.db.read() as session:  # SQLite hands out max(id) + 1: never an id used before
        assert max(session.scalars(sa.select(IndexOutboxRow.id))) == 3
