"""The unit of work: one transaction over rows, keys, blobs, the audit log and the index outbox.

A use case opens one unit (``Store.read()`` or ``Store.write()``) and composes the helpers of
``UnitOfWork`` inside it: what it reads is one transaction, what it writes commits once. The blob
files a write unit is handed are published just before its commit and removed if anything fails;
the blob files it supersedes are deleted once the commit went through.

Re-masking lives here too (``Store.remask``): it spans two units on purpose, a read and an
optimistic write, so the masking work never holds the database's write lock.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from keys import (
    Context,
    DecryptingReader,
    IntegrityFailed,
    Keyring,
    KeyVersionRetired,
    SecretKey,
    StreamEncryptor,
    stream_key_version,
    token_version,
    unwrap_key,
)
from redaction import Actor, Suggestion, may_see_document
from vault import _integrity as integrity
from vault import _policy as policy
from vault._audit import AuditLog
from vault._blobs import BlobStore, PendingBlob
from vault._db import Database
from vault._identities import ARCHIVE_SCOPE, IdentityMap
from vault._ingest._model import Extracted, Format, Kind
from vault._keystore import KeyStore, document_key_context
from vault._masking import MaskedDocument, decisions_of, mask_document
from vault._models import BlobRow, CaseRow, DocumentRow, IndexOutboxRow, PseudonymScopeRow
from vault._settings import Settings
from vault._views import BlobPurpose, CaseInfo, DocumentInfo, DocumentStatus
from vault.errors import AuditFailed, Conflict, NotFound, StateTampered

log = logging.getLogger(__name__)

Decide = Callable[[dict[str, Suggestion], MaskedDocument], dict[str, object]]


def valid_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def index_key_context(case_id: str) -> Context:
    return Context("index-key", case_id=case_id)


def data_key_version(row: DocumentRow) -> int:
    """The version of a document's own key: the case key version current when the key was made
    (``Reencryption`` makes a new one). Read from the title, which that key encrypts."""
    return token_version(row.title_ct)


def scope_kind(scope: str) -> str:
    return "archive" if scope == ARCHIVE_SCOPE else "case"


class UnitOfWork:
    """One transaction: the rows, keys and blobs a use case reads and writes, committed once."""

    def __init__(self, store: Store, session: Session, publish: list[PendingBlob] | None = None) -> None:
        self.store = store
        self.session = session
        self._publish = publish  # None: a read unit, which writes nothing
        self.superseded: list[str] = []

    # -- writing -------------------------------------------------------------------------------

    def audit(self, *, actor: str, action: str, target: str | None = None,
              details: dict[str, object] | None = None) -> int:
        return self.store.audit.append(self.session, actor=actor, action=action, target=target, details=details)

    def enqueue_index(self, case_id: str, document_id: str, *, purge: bool = False) -> int:
        """Tell the search indexes that a document changed. Called after the audit append, which
        holds the audit head's lock until commit, so outbox ids are handed out in commit order and
        a follower that has seen id n has seen every id below it."""
        row = IndexOutboxRow(case_id=case_id, document_id=document_id, purge=purge)
        self.session.add(row)
        self.session.flush()
        return row.id

    def publish(self, blob: PendingBlob) -> None:
        """Publish ``blob`` with this unit's commit (and remove it if the unit fails)."""
        if self._publish is None:
            raise RuntimeError("a read unit publishes nothing")
        self._publish.append(blob)

    def supersede(self, storage_name: str) -> None:
        """Delete a blob file once this unit's commit went through."""
        self.superseded.append(storage_name)

    # -- rows and keys ---------------------------------------------------------------------------

    def find_document(self, document_id: str) -> DocumentRow | None:
        """The document's row, its integrity checked (StateTampered if it fails)."""
        row = self.session.get(DocumentRow, document_id) if valid_id(document_id) else None
        return integrity.check(self.session, row) if row is not None else None

    def document_row(self, document_id: str) -> DocumentRow:
        row = self.find_document(document_id)
        if row is None:
            raise NotFound("no such document")
        return row

    def visible_document(self, document_id: str, actor: Actor) -> DocumentRow:
        """The document if ``actor`` may see it; NotFound, exactly as for none, otherwise."""
        row = self.find_document(document_id)
        if row is None or not may_see_document(actor, row.case_id, row.status):
            raise NotFound("no such document")
        return row

    def case_keyring(self, case_id: str, token: bytes) -> Keyring:
        """The case's keyring, able to decrypt ``token`` if any stored version can."""
        return self.store.keys.case_keyring(self.session, case_id, needs=token_version(token))

    def newest_case_keyring(self, case_id: str) -> Keyring:
        return self.store.keys.newest_case_keyring(self.session, case_id)

    def document_key(self, row: DocumentRow) -> SecretKey:
        keyring = self.case_keyring(row.case_id, row.key_ct)
        return unwrap_key(keyring, row.key_ct, document_key_context(row.case_id, row.id), data_key_version(row))

    def index_key(self, case_id: str) -> SecretKey:
        wrapped = self.session.scalar(select(CaseRow.index_key_ct).where(CaseRow.id == case_id))
        if wrapped is None:
            raise NotFound("no such case")
        return unwrap_key(self.case_keyring(case_id, wrapped), wrapped, index_key_context(case_id), 1)

    def case_info(self, row: CaseRow, documents: int = 0) -> CaseInfo:
        keyring = self.case_keyring(row.id, row.name_ct)
        name = keyring.decrypt(row.name_ct, Context("case-name", case_id=row.id)).decode()
        return CaseInfo(row.id, name, row.created_at, documents, archive_scope=row.scope == ARCHIVE_SCOPE)

    @staticmethod
    def title(row: DocumentRow, key: SecretKey) -> str:
        return key.decrypt(row.title_ct, Context("title", row.case_id, row.id, 1)).decode()

    def document_info(self, row: DocumentRow, case_names: dict[str, str]) -> DocumentInfo:
        integrity.check(self.session, row)  # a listing shows no status it cannot vouch for
        key = self.document_key(row)
        if row.case_id not in case_names:
            case_names[row.case_id] = self.case_info(self.session.get(CaseRow, row.case_id)).name  # type: ignore[arg-type]
        return DocumentInfo(
            id=row.id, case_id=row.case_id, case_name=case_names[row.case_id], kind=Kind(row.kind),
            format=Format(row.format), status=DocumentStatus(row.status), title=self.title(row, key),
            filename=key.decrypt(row.filename_ct, Context("filename", row.case_id, row.id, 1)).decode("utf-8", "replace"),
            size_bytes=row.size_bytes, pages=row.page_count, turns=row.turn_count,
            text_encoding=row.text_encoding, uploaded_by=row.uploaded_by, created_at=row.created_at,
            pending_suggestions=row.pending_suggestions, document_date=row.document_date,
        )

    # -- blobs -----------------------------------------------------------------------------------

    def latest_blob(self, document_id: str, purpose: BlobPurpose) -> BlobRow | None:
        return self.session.scalar(select(BlobRow).where(BlobRow.document_id == document_id,
                                                         BlobRow.purpose == purpose.value)
                                   .order_by(BlobRow.version.desc()))

    def open_blob(self, row: DocumentRow, purpose: BlobPurpose, blob: BlobRow | None = None) -> DecryptingReader:
        blob = blob or self.latest_blob(row.id, purpose)
        if blob is None:
            raise NotFound("no such document")
        key = self.document_key(row)
        try:
            handle, size = self.store.blobs.open(blob.storage_name)
        except FileNotFoundError:
            raise IntegrityFailed() from None
        try:
            self._refuse_retired_blob(row.case_id, handle, key)
            return DecryptingReader(key, handle, size, Context(purpose.value, row.case_id, row.id, blob.version))
        except BaseException:
            handle.close()
            raise

    def _refuse_retired_blob(self, case_id: str, handle: BinaryIO, key: SecretKey) -> None:
        """A blob file under another key than its document's is refused: KeyVersionRetired when
        it names a retired case key version (a file restored from before a re-encryption and a
        retirement), so the operator learns why; otherwise the reader fails its integrity check."""
        version = stream_key_version(handle.read(64))
        handle.seek(0)
        if version != key.version and version <= self.store.keys.retired_through(self.session, case_id):
            raise KeyVersionRetired(f"this file is encrypted under case key version {version}, which was retired "
                                    "and its key destroyed; it can no longer be read")

    def read_blob(self, row: DocumentRow, purpose: BlobPurpose, blob: BlobRow | None = None) -> bytes:
        with self.open_blob(row, purpose, blob) as reader:
            return reader.read()

    def extracted(self, row: DocumentRow) -> Extracted:
        return Extracted.from_json(self.read_blob(row, BlobPurpose.CONTENT))

    def masked(self, row: DocumentRow, blob: BlobRow | None = None) -> MaskedDocument:
        return MaskedDocument.from_json(self.read_blob(row, BlobPurpose.MASKED, blob))

    # -- masking ---------------------------------------------------------------------------------

    def token_key(self, case_id: str) -> bytes:
        return self.store.identity_map.token_key(self.session, case_id)

    def mask(self, case_id: str, extracted: Extracted, decisions: dict[str, Suggestion] | None = None, *,
             title: str) -> tuple[MaskedDocument, int]:
        """The masked form under the scope's identities, and the scope epoch it reflects."""
        matcher, epoch = self.store.identity_map.matcher(self.session, case_id)
        return mask_document(extracted, matcher, self.token_key(case_id), decisions, title=title), epoch

    def stale(self, document_ids: Iterable[str] | None = None) -> list[str]:
        """Documents (all, or those of the ids given) masked before the latest change to their
        scope's identities."""
        query = (select(DocumentRow.id).join(CaseRow, CaseRow.id == DocumentRow.case_id)
                 .join(PseudonymScopeRow, PseudonymScopeRow.id == CaseRow.scope)
                 .where(DocumentRow.mask_epoch < PseudonymScopeRow.epoch).order_by(DocumentRow.created_at))
        if document_ids is not None:
            query = query.where(DocumentRow.id.in_(list(document_ids)))
        return list(self.session.scalars(query))


class Store:
    """The vault's lasting parts (database, key store, blob files, audit log, identity map, the
    policy cache) and the units of work over them."""

    def __init__(self, settings: Settings, db: Database, keys: KeyStore, *, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.db = db
        self.keys = keys
        self.blobs = BlobStore(settings.blob_dir)
        self.audit = AuditLog(keys.system["audit-chain"], keys.system["audit-details"])
        self.identity_map = IdentityMap(keys)
        # what the policy view decrypted, kept while the policy epoch stands still (vault._policy)
        self.policy_cache = policy.EpochCache()
        self._clock = clock
        self._depth = threading.local()  # units of work open in this thread (``_reporting_tampering``)

    def now(self) -> datetime:
        return self._clock()

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        with self._reporting_tampering(), self.db.read() as session:
            integrity.attach(session, self.keys.system["state"])
            yield UnitOfWork(self, session)

    @contextmanager
    def write(self, *, publish: Iterable[PendingBlob] = ()) -> Iterator[UnitOfWork]:
        """A unit that commits when the block ends and rolls back on any error; ``publish``:
        blobs written beforehand, published with the commit (more through ``UnitOfWork.publish``)."""
        blobs = list(publish)
        try:
            with self._reporting_tampering(), self.db.write() as session:
                integrity.attach(session, self.keys.system["state"])
                work = UnitOfWork(self, session, blobs)
                yield work
                for blob in blobs:
                    blob.publish()
        except BaseException:
            for blob in blobs:
                blob.discard()
            raise
        for name in work.superseded:
            self.blobs.delete(name)

    @contextmanager
    def _reporting_tampering(self) -> Iterator[None]:
        """Audit a row that failed its integrity check (``integrity.tampered``: the table and
        the row's ids, no names) once its unit has ended, by the outermost unit of this thread:
        an inner one could not write while an outer write unit holds the database's lock."""
        self._depth.value = getattr(self._depth, "value", 0) + 1
        try:
            yield
        except StateTampered as error:
            if self._depth.value == 1 and not getattr(error, "recorded", False):
                self.report_tampering(error)
            raise
        finally:
            self._depth.value -= 1

    def report_tampering(self, error: StateTampered) -> None:
        error.recorded = True  # type: ignore[attr-defined]
        try:  # the audit log is the operator's alert (the command line prints one line, no log)
            self.record(actor="vault", action="integrity.tampered", target=error.row.split(":")[0][:36],
                        details={"table": error.table, "row": error.row})
        except AuditFailed:
            log.error("a row of %s (%s) failed its integrity check, and the audit log could not record it",
                      error.table, error.row)

    def record(self, *, actor: str, action: str, target: str | None = None,
               details: dict[str, object] | None = None) -> int:
        """Write one audit entry in its own transaction; AuditFailed if it cannot be written."""
        try:
            with self.db.write_connection() as connection:  # the entry alone: no ORM session needed
                return self.audit.append(connection, actor=actor, action=action, target=target, details=details)
        except SQLAlchemyError:
            raise AuditFailed("the audit log could not be written, so the action was not carried out") from None

    def finish_shredding(self) -> int:
        """Delete the blob files that a destroy listed and no row names any more (it committed,
        then the process died before deleting them); forget lists whose destroy never committed.
        Returns how many files were removed."""
        removed = 0
        for note, names in self.blobs.shredding():
            with self.read() as work:
                known = set(work.session.scalars(select(BlobRow.storage_name).where(BlobRow.storage_name.in_(names))))
            for name in set(names) - known:
                self.blobs.delete(name)
                removed += 1
            note.unlink(missing_ok=True)
        return removed

    def write_blob(self, key: SecretKey, purpose: BlobPurpose, case_id: str, document_id: str, version: int,
                   data: bytes) -> PendingBlob:
        context = Context(purpose.value, case_id, document_id, version)
        return self.blobs.write(StreamEncryptor(key, context).chunks(iter([data])))

    # -- re-masking ------------------------------------------------------------------------------

    def stale_documents(self, document_ids: Iterable[str] | None = None) -> list[str]:
        with self.read() as work:
            return work.stale(document_ids)

    def remask_stale(self, *, actor: str) -> int:
        """Mask every stale document again under its scope's current identities; returns how many.

        Runs after every identity change and when the vault opens, so a crash half-way through
        is finished later. A document a reviewer changes at the same moment is retried once;
        if it is still busy it stays stale, and reading it masks it first."""
        done = 0
        for document_id in self.stale_documents():
            for attempt in range(2):
                try:
                    self.remask(document_id, actor=actor, action="document.remask")
                    done += 1
                    break
                except Conflict:
                    if attempt:
                        log.warning("document %s is busy; it will be masked again when next read", document_id)
        return done

    def fresh(self, document_id: str, actor: str) -> None:
        """Mask a stale document again before its masked form is used."""
        if self.stale_documents([document_id]):
            self.remask(document_id, actor=actor, action="document.remask")

    def remask(self, document_id: str, *, actor: str, action: str, decide: Decide | None = None) -> MaskedDocument:
        """Write a new version of a document's masked form, keeping (or changing, through
        ``decide``) its review decisions. Optimistic: a concurrent change makes this a Conflict."""
        with self.read() as work:
            row = work.document_row(document_id)
            case_id = row.case_id
            key = work.document_key(row)
            title = work.title(row, key)
            extracted = work.extracted(row)
            previous = work.masked(row)
            old = work.session.scalar(select(BlobRow).where(BlobRow.document_id == document_id,
                                                            BlobRow.purpose == BlobPurpose.MASKED.value))
            assert old is not None
            old_name, version = old.storage_name, old.version + 1
        decisions = decisions_of(previous)
        details: dict[str, object] = {"version": version}
        if decide is not None:
            details |= decide(decisions, previous)
        with self.read() as work:
            masked, epoch = work.mask(case_id, extracted, decisions, title=title)
        blob = self.write_blob(key, BlobPurpose.MASKED, case_id, document_id, version, masked.to_json())
        with self.write(publish=[blob]) as work:
            # the version moves only from the one read above, under the key read above: two
            # writers, or a re-encryption that gave the document a new key, cannot both win
            moved = work.session.execute(
                update(BlobRow).where(BlobRow.document_id == document_id,
                                      BlobRow.purpose == BlobPurpose.MASKED.value, BlobRow.version == version - 1,
                                      BlobRow.key_version == key.version)
                .values(version=version, storage_name=blob.name, stored_bytes=blob.size)).rowcount
            if moved != 1:
                raise Conflict("the document was changed by someone else at the same time; reload it and try again")
            work.session.execute(update(DocumentRow).where(DocumentRow.id == document_id)
                                 .values(pending_suggestions=masked.undecided, mask_epoch=epoch))
            work.audit(actor=actor, action=action, target=document_id, details=details)
            work.enqueue_index(case_id, document_id, purge=True)
            work.supersede(old_name)  # the superseded masked form
        return masked
