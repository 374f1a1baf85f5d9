"""The unit of work: a use case reads one snapshot and commits once; the blob files a write
unit is handed are published with its commit, removed when it fails, and the files it supersedes
are deleted only once the commit went through."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from keys import SecretKey
from tests.conftest import ingest_bytes
from tests.vault.conftest import CALL, release_all
from vault import BlobPurpose, Vault
from vault._blobs import PendingBlob


@contextmanager
def transactions(vault: Vault) -> Iterator[list[str]]:
    """The transactions begun on the vault's database while the block runs."""
    begun: list[str] = []

    def on_begin(connection: sa.Connection) -> None:
        begun.append("write" if connection.get_execution_options().get("casevault_write") else "read")

    sa.event.listen(vault.db.engine, "begin", on_begin)
    try:
        yield begun
    finally:
        sa.event.remove(vault.db.engine, "begin", on_begin)


def _blob(vault: Vault, case_id: str) -> PendingBlob:
    return vault.store.write_blob(SecretKey.generate(), BlobPurpose.CONTENT, case_id, "doc", 1, b"some text")


def test_a_write_unit_publishes_its_blobs_with_the_commit(vault, case):
    blob = _blob(vault, case.id)
    with vault.store.write(publish=[blob]) as work:
        work.audit(actor="tester", action="test.publish")
        assert not vault.blobs.path(blob.name).exists()  # not before the commit
    assert vault.blobs.path(blob.name).exists() and not blob.temp.exists()


def test_a_failed_write_unit_removes_its_blobs_and_keeps_what_it_superseded(vault, case):
    kept = _blob(vault, case.id)
    kept.publish()
    blob = _blob(vault, case.id)
    with pytest.raises(RuntimeError), vault.store.write(publish=[blob]) as work:
        work.supersede(kept.name)
        raise RuntimeError("the use case failed")
    assert not vault.blobs.path(blob.name).exists() and not blob.temp.exists()
    assert vault.blobs.path(kept.name).exists()
    with vault.store.write() as work:
        work.supersede(kept.name)
    assert not vault.blobs.path(kept.name).exists()


def test_a_read_unit_publishes_nothing(vault, case):
    with vault.store.read() as work, pytest.raises(RuntimeError):
        work.publish(_blob(vault, case.id))


def test_a_view_reads_one_snapshot_and_writes_its_audit_entry(vault, case, people):
    document = ingest_bytes(vault, case, CALL, "call.txt")
    release_all(vault, people, document.id)
    with transactions(vault) as begun:
        vault.view(document.id, people["ivy"], actor="tester")
    assert begun == ["read", "write"], begun


def test_a_review_view_reads_one_snapshot(vault, case, people):
    document = ingest_bytes(vault, case, CALL, "call.txt")
    with transactions(vault) as begun:
        vault.review_view(document.id, people["rex"], actor="tester")
    assert begun == ["read", "write"], begun
