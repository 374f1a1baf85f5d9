"""Documents: taking an untrusted file in (ingest), and listing what is stored.

Ingest does its costly work (parsing in a sandbox, masking, encrypting the blobs) before it opens
the one write transaction that stores the row, the blob rows, the audit entry and the outbox row.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from keys import Context, DecryptingReader, KeyedDigest, SecretKey, StreamEncryptor, wrap_key
from vault._blobs import PendingBlob
from vault._ingest._dating import document_date
from vault._ingest._model import Kind
from vault._ingest._pipeline import Upload, extract
from vault._ingest._sandbox import ParserSlots
from vault._ingest._sniff import sniff
from vault._keystore import document_key_context
from vault._models import BlobRow, DocumentRow, new_id
from vault._originals import must_be_transcript, write_audio
from vault._store import Store
from vault._views import BlobPurpose, CaseInfo, DocumentInfo, DocumentStatus
from vault.errors import Conflict, DuplicateDocument, StorageFailed


@contextmanager
def _decrypting(handle: BinaryIO, size: int, key: SecretKey, context: Context) -> Iterator[DecryptingReader]:
    try:
        reader = DecryptingReader(key, handle, size, context)
    except BaseException:
        handle.close()
        raise
    try:
        yield reader
    finally:
        reader.close()


class Documents:
    """Ingest, and the documents of the archive as the operator lists them."""

    def __init__(self, store: Store, parsers: ParserSlots) -> None:
        self.store = store
        self.parsers = parsers

    def ingest(self, source: BinaryIO, *, case: CaseInfo, filename: str | None, actor: str,
               kind: Kind | None = None, audio: BinaryIO | None = None) -> DocumentInfo:
        """Take one untrusted file into the case: stored encrypted with status in_review; with
        ``audio``, the file is a transcript and the audio is stored beside it (vault._originals).

        Either everything is stored (original, extracted content, row, audit entry) or nothing
        is: on any error the blobs written so far are removed and no row is committed.
        """
        store = self.store
        settings = store.settings
        document_id = new_id()
        with store.read() as work:  # the document key is numbered after the case key current now
            document_key = SecretKey.generate(version=work.newest_case_keyring(case.id).primary.version)
        limits = settings.limits
        pending: list[PendingBlob] = []
        try:
            upload = Upload(source, limits, KeyedDigest(store.keys.system["content-digest"], f"content/{case.id}"))
            original_context = Context(BlobPurpose.ORIGINAL, case.id, document_id, 1)
            original = store.blobs.write(StreamEncryptor(document_key, original_context).chunks(upload.pieces()))
            pending.append(original)
            fmt = sniff(upload.head, filename)
            digest = upload.digest()
            with _decrypting(original.open(), original.size, document_key, original_context) as plain:
                extracted = extract(fmt, plain, limits=limits, legacy_encoding=settings.legacy_encoding,
                                    parsers=self.parsers, kind=kind)
            blobs = [(BlobPurpose.ORIGINAL, original)]
            if audio is not None:
                must_be_transcript(extracted.kind)
                blobs.append((BlobPurpose.AUDIO, write_audio(store, document_key, case.id, document_id, audio,
                                                             limits.max_file_bytes)))
                pending.append(blobs[-1][1])
            content = store.write_blob(document_key, BlobPurpose.CONTENT, case.id, document_id, 1, extracted.to_json())
            pending.append(content)
            # a name from a file system need not be UTF-8; keep its bytes, show replacements
            raw_name = (filename or "").encode("utf-8", "surrogateescape")
            title = extracted.title or (os.path.basename(raw_name.decode("utf-8", "replace")) or "untitled")
            with store.read() as work:
                masked, epoch = work.mask(case.id, extracted, title=title)
            masked_blob = store.write_blob(document_key, BlobPurpose.MASKED, case.id, document_id, 1, masked.to_json())
            pending.append(masked_blob)
            # Only now, after the work a new document costs: a duplicate the uploader may not see
            # must take as long to answer as a new document would (web/_api.py answers alike).
            self._refuse_duplicate(case.id, digest)
            with store.write() as work:
                session = work.session
                keyring = work.newest_case_keyring(case.id)
                if document_key.version < keyring.min_decryption_version:  # retired while parsing
                    raise Conflict("the case's keys were retired while the file was read; upload it again")
                row = DocumentRow(
                    id=document_id, case_id=case.id, kind=extracted.kind.value, format=extracted.format.value,
                    status=DocumentStatus.IN_REVIEW.value, content_digest=digest, size_bytes=upload.size,
                    page_count=len(extracted.pages), turn_count=len(extracted.turns),
                    text_encoding=extracted.encoding, pending_suggestions=masked.undecided, mask_epoch=epoch,
                    title_ct=document_key.encrypt(title.encode(), Context("title", case.id, document_id, 1)),
                    filename_ct=document_key.encrypt(raw_name,
                                                     Context("filename", case.id, document_id, 1)),
                    key_ct=wrap_key(keyring, document_key, document_key_context(case.id, document_id)),
                    case_key_version=keyring.primary.version, uploaded_by=actor,
                    document_date=document_date(extracted.text, header=extracted.header),
                )
                session.add(row)
                try:
                    session.flush()
                except IntegrityError:  # the same file, ingested concurrently, won the race
                    session.rollback()
                    self._refuse_duplicate(case.id, digest)
                    raise Conflict("the document could not be stored; try again") from None
                for purpose, blob in (*blobs, (BlobPurpose.CONTENT, content), (BlobPurpose.MASKED, masked_blob)):
                    session.add(BlobRow(document_id=document_id, purpose=purpose.value, version=1,
                                        storage_name=blob.name, stored_bytes=blob.size,
                                        key_version=document_key.version))
                session.flush()
                work.audit(actor=actor, action="document.ingest", target=document_id,
                           details={"case": case.id, "format": extracted.format.value})
                work.enqueue_index(case.id, document_id)
                # published here rather than through the unit: a commit the driver reports as
                # failed may have gone through, and then the blobs must stay (see below)
                for blob in pending:
                    blob.publish()
        except SQLAlchemyError:
            if self._stored(document_id):  # the commit went through although the driver said not
                return self.document(document_id)
            for blob in pending:
                blob.discard()
            raise StorageFailed("the database refused the write; nothing was stored") from None
        except BaseException:
            for blob in pending:
                blob.discard()
            raise
        return self.document(document_id)

    def _stored(self, document_id: str) -> bool:
        try:
            with self.store.read() as work:
                return work.session.get(DocumentRow, document_id) is not None
        except SQLAlchemyError:
            return False

    def _refuse_duplicate(self, case_id: str, digest: bytes) -> None:
        with self.store.read() as work:
            existing = work.session.scalar(select(DocumentRow.id).where(
                DocumentRow.case_id == case_id, DocumentRow.content_digest == digest))
        if existing:
            raise DuplicateDocument(f"this file is already in the case as document {existing}", existing)

    def record_duplicate_upload(self, document_id: str, *, actor: str) -> None:
        """Audit an upload that duplicated ``document_id`` and hand that document to the indexes
        again (they take it as it is): the uploader, who may not see it, is answered as for a new
        upload, and this is the work a new upload's answer waits for (web/_api.py)."""
        with self.store.write() as work:
            row = work.document_row(document_id)
            work.audit(actor=actor, action="document.ingest-duplicate", target=document_id,
                       details={"case": row.case_id})
            work.enqueue_index(row.case_id, document_id)

    def document(self, document_id: str) -> DocumentInfo:
        with self.store.read() as work:
            return work.document_info(work.document_row(document_id), {})

    def documents(self, case_id: str | None = None) -> list[DocumentInfo]:
        with self.store.read() as work:
            query = select(DocumentRow).order_by(DocumentRow.created_at)
            if case_id is not None:
                query = query.where(DocumentRow.case_id == case_id)
            names: dict[str, str] = {}
            return [work.document_info(row, names) for row in work.session.scalars(query)]
