"""Re-encryption: new document keys under the newest case key version, and every file of each
document encrypted again under its new key.

This is the one key operation that reads data (DESIGN rule 4): a rewrap moves wrapped keys, but
a file encrypted under a document key made while an old case key version was current depends on
that version until it is encrypted again. Each document costs one read of its files, streamed
(never a whole file in memory), into new files published with one transaction that swaps the
rows to the new files and key; the old files are deleted after the commit (a crash in between
leaves orphans that housekeeping sweeps).

Progress is the data itself: a document whose key is numbered after the newest case key version
is done (``data_key_version``), so a run killed at any point and run again picks up the
documents not yet done and never redoes one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update

from keys import DEFAULT_CHUNK_BYTES, Context, SecretKey, StreamEncryptor, token_version, wrap_key
from vault._blobs import PendingBlob
from vault._keystore import document_key_context
from vault._models import BlobRow, CaseRow, DocumentRow
from vault._store import Store, data_key_version
from vault._views import BlobPurpose, CaseInfo
from vault.errors import Conflict

# Tests only: "N:phase" makes the process stop for good after N documents, at "blobs" (new files
# written, nothing committed) or "commit" (committed, old files not yet deleted), so a test can
# SIGKILL it there. Never set in production; an unset variable costs one dict lookup per document.
TEST_PAUSE_ENV = "CASEVAULT_TEST_PAUSE_REENCRYPT"

Progress = Callable[[int], None] | None


@dataclass
class Reencrypted:
    """What one run re-encrypted, per case id."""

    documents: dict[str, int] = field(default_factory=dict)
    blobs: dict[str, int] = field(default_factory=dict)

    @property
    def total_documents(self) -> int:
        return sum(self.documents.values())

    @property
    def total_blobs(self) -> int:
        return sum(self.blobs.values())


def _test_pause(done: int, phase: str) -> None:
    wanted = os.environ.get(TEST_PAUSE_ENV)
    if wanted and wanted == f"{done}:{phase}":
        print(f"paused {wanted}", flush=True)
        while True:
            time.sleep(60)


class Reencryption:
    """Giving documents new keys and their files new ciphertext."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def pending(self, case: CaseInfo | None = None) -> dict[str, list[str]]:
        """Case id -> the documents whose key predates the case's newest key version, oldest first."""
        with self.store.read() as work:
            session = work.session
            case_ids = [case.id] if case else list(session.scalars(select(CaseRow.id).order_by(CaseRow.created_at)))
            out: dict[str, list[str]] = {}
            for case_id in case_ids:
                newest = work.newest_case_keyring(case_id).primary.version
                rows = session.execute(select(DocumentRow.id, DocumentRow.title_ct).where(DocumentRow.case_id == case_id)
                                       .order_by(DocumentRow.created_at))
                # the document key's version, read from the title it encrypts (``data_key_version``)
                out[case_id] = [document_id for document_id, title_ct in rows if token_version(title_ct) < newest]
            return out

    def reencrypt(self, *, actor: str, case: CaseInfo | None = None, progress: Progress = None) -> Reencrypted:
        """Re-encrypt every document not yet under its case's newest key version (or only
        ``case``'s); each document audited in its own transaction (``keys.reencrypt-document``),
        and each case once it is done (``keys.reencrypt`` with the counts). A document changed
        by someone else meanwhile is tried again once; if it is still busy it is left for the
        next run."""
        report = Reencrypted()
        done = 0
        for case_id, document_ids in self.pending(case).items():
            documents = blobs = 0
            for document_id in document_ids:
                moved = self._retried(document_id, done, actor)
                if moved is not None:
                    documents += 1
                    blobs += moved
                    done += 1
                if progress:
                    progress(1)
            if documents:
                with self.store.write() as work:
                    work.audit(actor=actor, action="keys.reencrypt", target=case_id,
                               details={"case": case_id, "documents": documents, "blobs": blobs,
                                        "case_key_version": work.newest_case_keyring(case_id).primary.version})
                report.documents[case_id], report.blobs[case_id] = documents, blobs
        return report

    def _retried(self, document_id: str, done: int, actor: str) -> int | None:
        try:
            return self._document(document_id, done, actor)
        except Conflict:  # changed under us (a review, a rewrap): once more from what it is now
            try:
                return self._document(document_id, done, actor)
            except Conflict:
                return None

    def _document(self, document_id: str, done: int, actor: str) -> int | None:
        """Give one document a new key and encrypt its files again; the number of files, or None
        when it needs nothing (done meanwhile, or gone). Conflict if it changed under us."""
        store = self.store
        with store.read() as work:
            row = work.find_document(document_id)
            if row is None:
                return None
            case_id = row.case_id
            newest = work.newest_case_keyring(case_id).primary.version
            if data_key_version(row) >= newest:
                return None
            old_key = work.document_key(row)
            old_wrapped = row.key_ct
            title = old_key.decrypt(row.title_ct, Context("title", case_id, document_id, 1))
            filename = old_key.decrypt(row.filename_ct, Context("filename", case_id, document_id, 1))
            blob_rows = list(work.session.scalars(select(BlobRow).where(BlobRow.document_id == document_id)))
            readers = []
            try:
                for blob in blob_rows:
                    readers.append((blob.id, blob.storage_name, blob.purpose, blob.version, work.open_blob(
                        row, BlobPurpose(blob.purpose), blob)))
            except BaseException:
                for *_, reader in readers:
                    reader.close()
                raise
        new_key = SecretKey.generate(version=newest)
        written: list[PendingBlob] = []
        swaps = []
        try:
            for blob_id, old_name, purpose, version, reader in readers:
                with reader:
                    encryptor = StreamEncryptor(new_key, Context(purpose, case_id, document_id, version))
                    pieces = iter(lambda r=reader: r.read(DEFAULT_CHUNK_BYTES), b"")  # type: ignore[misc]
                    written.append(store.blobs.write(encryptor.chunks(pieces)))
                swaps.append((blob_id, old_name, written[-1]))
        except BaseException:
            for _, _, _, _, reader in readers:
                reader.close()
            for blob in written:
                blob.discard()
            raise
        _test_pause(done, "blobs")
        with store.write(publish=written) as work:
            keyring = work.newest_case_keyring(case_id)
            context = document_key_context(case_id, document_id)
            # only from the key read above: a rewrap or another run meanwhile makes this a Conflict
            moved = work.session.execute(update(DocumentRow).where(
                DocumentRow.id == document_id, DocumentRow.key_ct == old_wrapped).values(
                key_ct=wrap_key(keyring, new_key, context), case_key_version=keyring.primary.version,
                title_ct=new_key.encrypt(title, Context("title", case_id, document_id, 1)),
                filename_ct=new_key.encrypt(filename, Context("filename", case_id, document_id, 1)))).rowcount
            if moved != 1:
                raise Conflict("the document's key was changed by someone else at the same time")
            for blob_id, old_name, blob in swaps:
                # only from the file read above: a re-masking meanwhile makes this a Conflict
                if work.session.execute(update(BlobRow).where(BlobRow.id == blob_id, BlobRow.storage_name == old_name)
                                        .values(storage_name=blob.name, stored_bytes=blob.size,
                                                key_version=new_key.version)).rowcount != 1:
                    raise Conflict("the document was changed by someone else at the same time")
            work.session.flush()
            work.audit(actor=actor, action="keys.reencrypt-document", target=document_id,
                       details={"case": case_id, "case_key_version": keyring.primary.version, "blobs": len(swaps)})
        _test_pause(done + 1, "commit")
        for _, old_name, _ in swaps:  # after the commit: a crash before this leaves orphans to sweep
            store.blobs.delete(old_name)
        return len(swaps)
