"""The vault: cases and documents, encrypted at rest, every change audited."""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import func, inspect, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from keys import (
    Context,
    DecryptingReader,
    IntegrityFailed,
    KdfParams,
    KeyedDigest,
    Keyring,
    SecretKey,
    StreamEncryptor,
    keyed_digest,
    token_version,
    unwrap_key,
    wrap_key,
)
from redaction import (
    Permission,
    Suggestion,
    UnmaskGrant,
    may_see_document,
    may_decide_unmask,
    may_release,
    may_see_real_name,
    permits,
    pseudonym_token,
    render,
    render_marked,
)
from vault._audit import AuditEntry, AuditLog, AuditReport
from vault._blobs import BlobStore, PendingBlob
from vault._db import Database
from vault._ingest._model import Extracted, Format, Kind
from vault._ingest._pipeline import Upload, extract
from vault._ingest._sandbox import ParserSlots
from vault._ingest._sniff import sniff
from vault._identities import ARCHIVE_SCOPE, Identity, IdentityMap, parse_category
from vault._keystore import KeyStore, document_key_context
from vault._masking import (
    TITLE_FIELD,
    TITLE_POSITION,
    MaskedDocument,
    MaskedUnit,
    decisions_of,
    mask_document,
    mask_title,
    suggestion_id,
)
from vault._models import (
    AccessKeyRow,
    Base,
    BlobRow,
    CaseRow,
    DocumentRow,
    IndexOutboxRow,
    MasterKeyVersion,
    MembershipRow,
    PendingMembershipRow,
    PseudonymScopeRow,
    SystemKeyVersion,
    UnmaskRequestRow,
    UserRow,
    WebSessionRow,
    new_id,
    utcnow,
)
from vault import _policy as policy
from vault import _unmask as unmask
from vault import _accounts as accounts
from vault import _confirmations as confirmations
from vault import _enrolment as enrolments
from vault import _users as users
from vault._settings import Settings
from vault._store import Store, UnitOfWork, index_key_context as _index_key_context, scope_kind as _scope_kind, valid_id as _valid_id
from vault._views import (
    BlobPurpose,
    CaseInfo,
    Display,
    DocumentInfo,
    DocumentStatus,
    DocumentView,
    IndexChange,
    KeyStatus,
    ReviewView,
    SearchableDocument,
    ViewUnit,
)
from vault._unmask import UnmaskRequest
from vault._confirmations import Confirmation
from vault._users import OPERATOR, Operator, UserInfo, parse_role
from vault.errors import (
    AlreadyInitialized,
    AuditFailed,
    Conflict,
    DuplicateDocument,
    Forbidden,
    InvalidInput,
    NotFound,
    NotInitialized,
    RedactionConflict,
    StorageFailed,
)

log = logging.getLogger(__name__)

MAX_CASE_NAME = 200
# audit details an admin may read: ids, roles, counts, versions and fixed words, never free text
# (a query, a justification, a name typed at sign-in). A new detail stays hidden until listed.
ADMIN_DETAILS = frozenset({
    "user", "case", "cases", "role", "was", "pending", "confirmation", "prefix", "scope", "format", "category",
    "changed", "identity", "revealed", "hours", "documents", "justifications", "case_key_version", "case_keys",
    "master_version", "second_factor", "reason",
})


def normalise_case_name(name: str) -> str:
    """The form a case name is looked up by: NFC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _check_case_name(name: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", name).split())
    if not name:
        raise InvalidInput("a case needs a name")
    if len(name) > MAX_CASE_NAME:
        raise InvalidInput(f"a case name is at most {MAX_CASE_NAME} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise InvalidInput("a case name cannot contain control or invisible formatting characters")
    return name


def _cases_named(details: dict[str, object] | None) -> set[str]:
    """The case ids an audit entry's details name (``case``, or ``cases`` for a search)."""
    if not details:
        return set()
    named = details.get("cases") if isinstance(details.get("cases"), list) else []
    return {str(c) for c in [details.get("case"), *named] if c}  # type: ignore[misc]


def _view_unit(unit: MaskedUnit, display: Display) -> ViewUnit:
    text, marks = render_marked(unit.text, display.shown, display.revealing)
    speaker = render(unit.speaker, display.shown) if unit.speaker else None
    return ViewUnit(unit.position, text, speaker, unit.start_ms, unit.end_ms, marks)


class Vault:
    """An open (unsealed) vault. Make one with ``Vault.initialize`` or ``Vault.open``."""

    def __init__(self, settings: Settings, db: Database, keys: KeyStore) -> None:
        self.settings = settings
        self.db = db
        self._keys = keys
        # the clock is looked up at each call, so a test can move it
        self.store = Store(settings, db, keys, clock=lambda: utcnow())
        self.blobs = self.store.blobs
        self.parsers = ParserSlots(settings.parsers, settings.parser_queue)
        self.audit = self.store.audit
        self.identity_map = self.store.identity_map
        self._policy_cache = self.store.policy_cache

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def initialize(cls, settings: Settings, passphrase: str, *, kdf: KdfParams | None = None,
                   actor: str = "operator") -> Vault:
        """Create a new vault: schema, a sealed master key, system keys, the audit log."""
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        try:
            db.check_reachable()
            if inspect(db.engine).has_table(MasterKeyVersion.__tablename__):
                with db.read() as session:
                    if session.scalar(select(func.count()).select_from(MasterKeyVersion)):
                        raise AlreadyInitialized(
                            "a vault already exists here; use it, or choose another CASEVAULT_DATA"
                        )
            Base.metadata.create_all(db.engine)
            with db.write() as session:
                keys = KeyStore.initialize(session, passphrase, kdf)
                AuditLog.create(session)
                policy.create(session)
                session.flush()
                vault = cls(settings, db, keys)
                vault.identity_map.create_scope(session, ARCHIVE_SCOPE)
                vault.audit.append(session, actor=actor, action="vault.init")
        except BaseException:
            db.dispose()
            raise
        vault.blobs.create()
        return vault

    @classmethod
    def open(cls, settings: Settings, passphrase: str) -> Vault:
        """Unseal an existing vault; WrongPassphrase (and nothing changed) if it does not fit."""
        if settings.database_url is None and not (settings.data_dir / "casevault.db").exists():
            raise NotInitialized(
                f"no vault in {settings.data_dir}; run `casevault init` or set CASEVAULT_DATA"
            )
        db = Database(settings.resolved_database_url)
        try:
            db.check_reachable()
            if not inspect(db.engine).has_table(MasterKeyVersion.__tablename__):
                raise NotInitialized("this database has no vault yet; run `casevault init` first")
            with db.read() as session:
                keys = KeyStore.unseal(session, passphrase)
            Base.metadata.create_all(db.engine)  # tables added since the vault was made (no column changes)
            with db.write() as session:
                keys.add_missing_system_keys(session)
            policy.ensure(db)  # a vault made before the policy epoch existed
        except BaseException:
            db.dispose()
            raise
        vault = cls(settings, db, keys)
        vault.blobs.create()
        # an upload's original waits in incoming while it queues for a parser and is parsed
        turns = 2 + settings.parser_queue // settings.parsers
        vault.blobs.sweep_incoming(older_than=turns * settings.limits.parse_seconds + 60)
        vault.remask_stale(actor="vault.open")  # finish what a crash after an identity change left
        return vault

    def close(self) -> None:
        self._policy_cache.clear()
        self.identity_map.forget()
        self._keys.forget()
        self.db.dispose()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- cases ---------------------------------------------------------------------------------

    def _case_digest(self, name: str) -> bytes:
        return keyed_digest(self._keys.system["case-name"], "case-name", normalise_case_name(name).encode())

    def create_case(self, name: str, *, actor: str, archive_scope: bool = False) -> CaseInfo:
        """A new case with its own key. Its identities get pseudonyms of its own, unlinkable to
        any other case, unless ``archive_scope``: then it shares the archive-wide identities."""
        name = _check_case_name(name)
        digest = self._case_digest(name)
        try:
            with self.db.write() as session:
                if session.scalar(select(CaseRow.id).where(CaseRow.name_digest == digest)):
                    raise Conflict("a case with that name exists already")
                case_id = new_id()
                keyring, key_row = self._keys.new_case_key(case_id)
                if not archive_scope:
                    self.identity_map.create_scope(session, case_id)
                row = CaseRow(id=case_id, name_digest=digest, scope=ARCHIVE_SCOPE if archive_scope else case_id,
                              name_ct=keyring.encrypt(name.encode(), Context("case-name", case_id=case_id)),
                              index_key_ct=wrap_key(keyring, SecretKey.generate(), _index_key_context(case_id)))
                session.add(row)
                session.flush()
                session.add(key_row)
                session.flush()
                self.audit.append(session, actor=actor, action="case.create", target=case_id,
                                  details={"scope": "archive" if archive_scope else "case"})
        except IntegrityError:
            raise Conflict("a case with that name exists already") from None
        return CaseInfo(case_id, name, row.created_at, archive_scope=archive_scope)

    def _case_info(self, session: Session, row: CaseRow, documents: int = 0) -> CaseInfo:
        return UnitOfWork(self.store, session).case_info(row, documents)

    def cases(self, user: UserInfo | None = None) -> list[CaseInfo]:
        """Every case with its document count: all documents for the operator (no ``user``), only
        those ``user`` may see otherwise, so a count never shows a document in review to someone
        who may not read it (nor rises with each upload)."""
        with self.db.read() as session:
            counts: dict[str, int] = {}
            for case_id, status, count in session.execute(select(DocumentRow.case_id, DocumentRow.status, func.count())
                                                          .group_by(DocumentRow.case_id, DocumentRow.status)):
                if user is None or may_see_document(user.actor, case_id, status):
                    counts[case_id] = counts.get(case_id, 0) + count
            rows = session.scalars(select(CaseRow).order_by(CaseRow.created_at)).all()
            return sorted((self._case_info(session, r, counts.get(r.id, 0)) for r in rows),
                          key=lambda c: c.name.casefold())

    def case(self, name_or_id: str) -> CaseInfo:
        """A case by its id or by its name (looked up by keyed digest, never by scanning)."""
        with self.db.read() as session:
            row = session.get(CaseRow, name_or_id) if _valid_id(name_or_id) else None
            if row is None:
                row = session.scalar(select(CaseRow).where(CaseRow.name_digest == self._case_digest(name_or_id)))
            if row is None:
                raise NotFound("no such case; `casevault case list` shows the cases")
            info = self._case_info(session, row)
        # The digest column is not authenticated; the encrypted name is. A swapped digest must
        # not send documents to another case.
        if info.id != name_or_id and normalise_case_name(info.name) != normalise_case_name(name_or_id):
            raise IntegrityFailed()
        return info

    # -- documents -----------------------------------------------------------------------------

    def ingest(self, source: BinaryIO, *, case: CaseInfo, filename: str | None, actor: str,
               kind: Kind | None = None) -> DocumentInfo:
        """Take one untrusted file into the case: stored encrypted with status in_review.

        Either everything is stored (original, extracted content, row, audit entry) or nothing
        is: on any error the blobs written so far are removed and no row is committed.
        """
        document_id = new_id()
        document_key = SecretKey.generate()
        limits = self.settings.limits
        pending: list[PendingBlob] = []
        try:
            upload = Upload(source, limits, KeyedDigest(self._keys.system["content-digest"], f"content/{case.id}"))
            original_context = Context(BlobPurpose.ORIGINAL, case.id, document_id, 1)
            original = self.blobs.write(StreamEncryptor(document_key, original_context).chunks(upload.pieces()))
            pending.append(original)
            fmt = sniff(upload.head, filename)
            digest = upload.digest()
            with self._decrypting(original.open(), original.size, document_key, original_context) as plain:
                extracted = extract(fmt, plain, limits=limits, legacy_encoding=self.settings.legacy_encoding,
                                    parsers=self.parsers, kind=kind)
            content = self._write_blob(document_key, BlobPurpose.CONTENT, case.id, document_id, 1, extracted.to_json())
            pending.append(content)
            # a name from a file system need not be UTF-8; keep its bytes, show replacements
            raw_name = (filename or "").encode("utf-8", "surrogateescape")
            title = extracted.title or (os.path.basename(raw_name.decode("utf-8", "replace")) or "untitled")
            masked, epoch = self._mask(case.id, extracted, title=title)
            masked_blob = self._write_blob(document_key, BlobPurpose.MASKED, case.id, document_id, 1, masked.to_json())
            pending.append(masked_blob)
            # Only now, after the work a new document costs: a duplicate the uploader may not see
            # must take as long to answer as a new document would (web/_api.py answers alike).
            self._refuse_duplicate(case.id, digest)
            with self.db.write() as session:
                keyring = self._keys.newest_case_keyring(session, case.id)
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
                )
                session.add(row)
                try:
                    session.flush()
                except IntegrityError:  # the same file, ingested concurrently, won the race
                    session.rollback()
                    self._refuse_duplicate(case.id, digest)
                    raise Conflict("the document could not be stored; try again") from None
                for purpose, blob in ((BlobPurpose.ORIGINAL, original), (BlobPurpose.CONTENT, content),
                                      (BlobPurpose.MASKED, masked_blob)):
                    session.add(BlobRow(document_id=document_id, purpose=purpose.value, version=1,
                                        storage_name=blob.name, stored_bytes=blob.size,
                                        key_version=document_key.version))
                session.flush()
                self.audit.append(session, actor=actor, action="document.ingest", target=document_id,
                                  details={"case": case.id, "format": extracted.format.value})
                UnitOfWork(self.store, session).enqueue_index(case.id, document_id)
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

    def _write_blob(self, key: SecretKey, purpose: BlobPurpose, case_id: str, document_id: str, version: int,
                    data: bytes) -> PendingBlob:
        return self.store.write_blob(key, purpose, case_id, document_id, version, data)

    def _mask(self, case_id: str, extracted: Extracted, decisions: dict[str, Suggestion] | None = None, *,
              title: str) -> tuple[MaskedDocument, int]:
        with self.store.read() as work:
            return work.mask(case_id, extracted, decisions, title=title)

    def _stored(self, document_id: str) -> bool:
        try:
            with self.db.read() as session:
                return session.get(DocumentRow, document_id) is not None
        except SQLAlchemyError:
            return False

    def _refuse_duplicate(self, case_id: str, digest: bytes) -> None:
        with self.db.read() as session:
            existing = session.scalar(select(DocumentRow.id).where(
                DocumentRow.case_id == case_id, DocumentRow.content_digest == digest))
        if existing:
            raise DuplicateDocument(f"this file is already in the case as document {existing}", existing)

    def record_duplicate_upload(self, document_id: str, *, actor: str) -> None:
        """Audit an upload that duplicated ``document_id`` and hand that document to the indexes
        again (they take it as it is): the uploader, who may not see it, is answered as for a new
        upload, and this is the work a new upload's answer waits for (web/_api.py)."""
        with self.db.write() as session:
            row = self._document_row(session, document_id)
            self.audit.append(session, actor=actor, action="document.ingest-duplicate", target=document_id,
                              details={"case": row.case_id})
            UnitOfWork(self.store, session).enqueue_index(row.case_id, document_id)

    @contextmanager
    def _decrypting(self, handle: BinaryIO, size: int, key: SecretKey, context: Context) -> Iterator[DecryptingReader]:
        try:
            reader = DecryptingReader(key, handle, size, context)
        except BaseException:
            handle.close()
            raise
        try:
            yield reader
        finally:
            reader.close()

    def _document_row(self, session: Session, document_id: str) -> DocumentRow:
        return UnitOfWork(self.store, session).document_row(document_id)

    def _case_keyring(self, session: Session, case_id: str, token: bytes) -> Keyring:
        return UnitOfWork(self.store, session).case_keyring(case_id, token)

    def _document_key(self, session: Session, row: DocumentRow) -> SecretKey:
        return UnitOfWork(self.store, session).document_key(row)

    def _document_info(self, session: Session, row: DocumentRow, case_names: dict[str, str]) -> DocumentInfo:
        return UnitOfWork(self.store, session).document_info(row, case_names)

    def document(self, document_id: str) -> DocumentInfo:
        with self.db.read() as session:
            return self._document_info(session, self._document_row(session, document_id), {})

    def documents(self, case_id: str | None = None) -> list[DocumentInfo]:
        with self.db.read() as session:
            query = select(DocumentRow).order_by(DocumentRow.created_at)
            if case_id is not None:
                query = query.where(DocumentRow.case_id == case_id)
            names: dict[str, str] = {}
            return [self._document_info(session, row, names) for row in session.scalars(query)]

    @staticmethod
    def _latest_blob(session: Session, document_id: str, purpose: BlobPurpose) -> BlobRow | None:
        return UnitOfWork(None, session).latest_blob(document_id, purpose)  # type: ignore[arg-type]

    def _open_blob(self, session: Session, row: DocumentRow, purpose: BlobPurpose,
                   blob: BlobRow | None = None) -> DecryptingReader:
        return UnitOfWork(self.store, session).open_blob(row, purpose, blob)

    def content(self, document_id: str, *, actor: str) -> Extracted:
        """The extracted pages or turns, in clear. The read is audited before it is returned."""
        with self.db.read() as session:
            row = self._document_row(session, document_id)
            reader = self._open_blob(session, row, BlobPurpose.CONTENT)
        with reader:
            raw = reader.read()
        self.record(actor=actor, action="document.read", target=document_id)
        return Extracted.from_json(raw)

    def open_original(self, document_id: str, *, actor: str) -> DecryptingReader:
        """A reader of the original file. Authenticated as a whole before it is handed out."""
        with self.db.read() as session:
            reader = self._open_blob(session, self._document_row(session, document_id), BlobPurpose.ORIGINAL)
        try:
            reader.verify()
            self.record(actor=actor, action="document.download", target=document_id)
        except BaseException:
            reader.close()
            raise
        reader.seek(0)
        return reader

    # -- identities and the policy view ---------------------------------------------------------

    def add_identity(self, case: CaseInfo, *, name: str, aliases: list[str] = (), label: str | None = None,  # type: ignore[assignment]
                     category: str = "person", actor: str) -> Identity:
        """Register a protected identity, then re-mask every document of its pseudonym scope
        (its case, or every archive-scope case)."""
        with self.db.write() as session:
            identity = self.identity_map.add(session, case.id, name=name, aliases=list(aliases), label=label,
                                             category=parse_category(category), actor=actor)
            self.audit.append(session, actor=actor, action="identity.add", target=identity.id,
                              details={"case": case.id, "scope": _scope_kind(identity.scope),
                                       "category": identity.category.value})
        self.remask_stale(actor=actor)
        return identity

    def edit_identity(self, case: CaseInfo, pseudonym: str, *, name: str | None = None,
                      add_aliases: list[str] = (), remove_aliases: list[str] = (),  # type: ignore[assignment]
                      label: str | None = None, actor: str) -> Identity:
        """Change an identity's real name, aliases or pseudonym, then re-mask its scope. A new
        real name keeps the old one as an alias (documents may still say it) unless it is removed."""
        if name is None and label is None and not add_aliases and not remove_aliases:
            raise InvalidInput("nothing to change: give --name, --alias, --remove-alias or --pseudonym")
        with self.db.write() as session:
            before, after = self.identity_map.edit(session, case.id, pseudonym, name=name, label=label,
                                                   add_aliases=list(add_aliases), remove_aliases=list(remove_aliases))
            changed = [what for what, differs in (("name", before.name != after.name),
                                                  ("aliases", before.aliases != after.aliases),
                                                  ("pseudonym", before.label != after.label)) if differs]
            self.audit.append(session, actor=actor, action="identity.edit", target=after.id,
                              details={"case": case.id, "scope": _scope_kind(after.scope), "changed": changed})
        self.remask_stale(actor=actor)
        return after

    def identity(self, case: CaseInfo, label: str) -> Identity:
        """The identity shown as ``label`` in a case (case-insensitive); NotFound if none."""
        with self.db.read() as session:
            return self.identity_map.by_label(session, case.id, label)

    def identities(self, case: CaseInfo) -> list[Identity]:
        """Every identity of a case with its real name: for the operator or a cleared caller."""
        with self.db.read() as session:
            return self.identity_map.identities(session, case.id)

    def identity_listing(self, case: CaseInfo, user: UserInfo | None, *, actor: str) -> list[dict[str, object]]:
        """The identities of a case as ``user`` may list them (everything for the operator):
        labels and categories; real names and aliases only for whoever may see them."""
        if user is not None and not permits(user.actor, Permission.IDENTITY_READ, case.id):
            raise NotFound("no such case; `casevault case list` shows the cases")
        rows: list[dict[str, object]] = []
        revealed = []
        grants: list[UnmaskGrant] = []
        if user is not None:
            with self.db.read() as session:
                grants = unmask.grants(session, user.id, case.id)
        now = utcnow()
        for identity in self.identities(case):
            row: dict[str, object] = {"id": identity.id, "pseudonym": identity.label, "category": identity.category.value}
            if user is None or may_see_real_name(user.actor, case.id, identity.id, grants, now):
                row |= {"name": identity.name, "aliases": list(identity.aliases)}
                revealed.append(identity.id)
            rows.append(row)
        self.record(actor=actor, action="identity.list", target=case.id,
                    details={"user": user.id if user else None, "revealed": revealed})
        return rows

    def stale_documents(self, document_ids: Iterable[str] | None = None) -> list[str]:
        """Documents (all, or those of the ids given) masked before the latest change to their
        scope's identities."""
        return self.store.stale_documents(document_ids)

    def remask_stale(self, *, actor: str) -> int:
        """Mask every stale document again under its scope's current identities; returns how many."""
        return self.store.remask_stale(actor=actor)

    def _fresh(self, document_id: str, actor: str) -> None:
        self.store.fresh(document_id, actor)

    def _remask(self, document_id: str, *, actor: str, action: str,
                decide: Callable[[dict[str, Suggestion], MaskedDocument], dict[str, object]] | None = None) -> MaskedDocument:
        return self.store.remask(document_id, actor=actor, action=action, decide=decide)

    def decide(self, document_id: str, user: UserInfo, suggestion_ids: list[str], *, accept: bool,
               identity_id: str | None = None, actor: str) -> MaskedDocument:
        """A reviewer accepts or rejects suggestions of a document in review."""
        self._reviewable(document_id, user)
        if not suggestion_ids:
            raise InvalidInput("name at least one suggestion")

        def apply(decisions: dict[str, Suggestion], previous: MaskedDocument) -> dict[str, object]:
            known = {str(r["id"]): r for u in previous.units for r in u.suggestions}
            known |= {str(r["id"]): r for r in previous.title_suggestions}
            for sid in suggestion_ids:
                record = known.get(sid)
                if record is None:
                    raise NotFound(f"no suggestion {sid} in this document; `casevault review show` lists them")
                pending = Suggestion(sid, int(record["start"]), int(record["end"]), str(record["category"]))  # type: ignore[arg-type]
                if sid in decisions:
                    raise RedactionConflict(f"suggestion {sid} was already {decisions[sid].state.value}")
                decisions[sid] = (pending.accept(user.id, identity_id=identity_id) if accept
                                  else pending.reject(user.id))
            return {"user": user.id, "accepted" if accept else "rejected": suggestion_ids}

        return self._remask(document_id, actor=actor, action="review.decide", decide=apply)

    def review_view(self, document_id: str, user: UserInfo, *, actor: str) -> ReviewView:
        """What a reviewer works from: every identity mention and every suggestion, in clear."""
        row = self._reviewable(document_id, user)
        extracted = self.content(document_id, actor=actor)
        masked = self.masked(document_id)
        identities = {i.id: i for i in self.identities(self.case(row.case_id))}
        with self.db.read() as session:
            matcher, _ = self.identity_map.matcher(session, row.case_id)
        spans: list[dict[str, object]] = []
        fields = ([(TITLE_POSITION, TITLE_FIELD, self.document(document_id).title)]
                  + [(t.index, "speaker", t.speaker or "") for t in extracted.turns]
                  + [(t.index, "text", t.text) for t in extracted.turns]
                  + [(p.number, "text", p.text) for p in extracted.pages])
        for position, field_name, text in fields:
            for m in matcher.find(text):
                identity = identities[m.identity_id]
                spans.append({"unit": position, "field": field_name, "start": m.start, "end": m.end,
                              "text": text[m.start:m.end], "identity": identity.label, "name": identity.name})
        suggestions = [dict(record, unit=u.position) for u in masked.units for record in u.suggestions]
        suggestions += [dict(record, unit=TITLE_POSITION) for record in masked.title_suggestions]
        units = tuple(sorted(((p, f, t) for p, f, t in fields if t), key=lambda u: (u[0], u[1] != "speaker")))
        return ReviewView(document_id, DocumentStatus(row.status), spans, suggestions, units)

    def add_span(self, document_id: str, user: UserInfo, *, unit: int, start: int, end: int,
                 field_name: str = "text", category: str = "other", identity_id: str | None = None,
                 actor: str) -> MaskedDocument:
        """A reviewer masks a span by hand: as an identity, or as a category such as "location".

        A span of the title is in the field "title" (its unit is ``TITLE_POSITION``, whatever is given)."""
        self._reviewable(document_id, user)
        if field_name not in ("text", "speaker", TITLE_FIELD):
            raise InvalidInput("a span is in a turn's text or its speaker, a page's text, or the title")
        if field_name == TITLE_FIELD:
            unit = TITLE_POSITION
        if not re.fullmatch(r"[a-z_]{1,20}", category):
            raise InvalidInput("a category is a short lower-case word such as location")
        sid = suggestion_id(unit, field_name, start, end)

        def apply(decisions: dict[str, Suggestion], previous: MaskedDocument) -> dict[str, object]:
            target = next((u for u in previous.units if u.position == unit), None)
            if field_name == TITLE_FIELD:
                length: int | None = len(self.document(document_id).title)
            else:
                length = None if target is None else len(self._unit_text(document_id, unit, field_name))
            if length is None or not 0 <= start < end <= length:
                raise InvalidInput(f"no text at {unit}:{start}-{end}; `casevault review show` gives the units")
            if sid in decisions:
                raise RedactionConflict(f"that span is already {decisions[sid].state.value}")
            decisions[sid] = Suggestion(sid, start, end, category).accept(user.id, identity_id=identity_id)
            return {"user": user.id, "added": sid}

        return self._remask(document_id, actor=actor, action="review.add-span", decide=apply)

    def _unit_text(self, document_id: str, position: int, field_name: str) -> str:
        with self.db.read() as session:
            with self._open_blob(session, self._document_row(session, document_id), BlobPurpose.CONTENT) as reader:
                extracted = Extracted.from_json(reader.read())
        for turn in extracted.turns:
            if turn.index == position:
                return (turn.speaker or "") if field_name == "speaker" else turn.text
        for page in extracted.pages:
            if page.number == position and field_name == "text":
                return page.text
        return ""

    def _reviewable(self, document_id: str, user: UserInfo) -> DocumentRow:
        with self.db.read() as session:
            row = session.get(DocumentRow, document_id) if _valid_id(document_id) else None
            if row is None or not may_see_document(user.actor, row.case_id, row.status):
                raise NotFound("no such document")
            decision = permits(user.actor, Permission.DOCUMENT_REVIEW, row.case_id)
            if not decision:
                raise Forbidden(decision.reason)
            if row.status != DocumentStatus.IN_REVIEW:
                raise Conflict("the document is already released")
            return row

    def release(self, document_id: str, user: UserInfo, *, actor: str) -> DocumentInfo:
        """Release a reviewed document to the investigators of its case (four eyes; once)."""
        row = self._reviewable(document_id, user)
        decision = may_release(user.actor, row.case_id, uploaded_by=row.uploaded_by, undecided=row.pending_suggestions)
        if not decision:
            raise Forbidden(f"cannot release: {decision.reason}")
        with self.db.write() as session:
            moved = session.execute(update(DocumentRow).where(
                DocumentRow.id == document_id, DocumentRow.status == DocumentStatus.IN_REVIEW.value,
                DocumentRow.pending_suggestions == 0).values(status=DocumentStatus.RELEASED.value)).rowcount
            if moved != 1:
                raise Conflict("the document was released or changed by someone else at the same time")
            self.audit.append(session, actor=actor, action="document.release", target=document_id,
                              details={"user": user.id})
            UnitOfWork(self.store, session).enqueue_index(row.case_id, document_id)
        return self.document(document_id)

    def in_review(self, user: UserInfo | None = None) -> list[DocumentInfo]:
        """Documents waiting for review: all of them, or those of the cases ``user`` reviews."""
        documents = [d for d in self.documents() if d.status is DocumentStatus.IN_REVIEW]
        if user is None:
            return documents
        return [d for d in documents if permits(user.actor, Permission.DOCUMENT_REVIEW, d.case_id)]

    def masked(self, document_id: str) -> MaskedDocument:
        with self.db.read() as session:
            reader = self._open_blob(session, self._document_row(session, document_id), BlobPurpose.MASKED)
        with reader:
            return MaskedDocument.from_json(reader.read())

    def view(self, document_id: str, user: UserInfo, *, actor: str, now: datetime | None = None) -> DocumentView:
        """The document as ``user`` may see it: pseudonym labels, or real names where allowed.

        A document the user may not see is NotFound, exactly like one that does not exist. The
        read, and every real name it reveals, is audited before the view is returned; if the
        audit cannot be written, nothing is returned.
        """
        now = now or utcnow()
        viewer = user.actor
        with self.db.read() as session:
            row = session.get(DocumentRow, document_id) if _valid_id(document_id) else None
            if row is None or not may_see_document(viewer, row.case_id, row.status):
                raise NotFound("no such document")
            case_id, status = row.case_id, row.status
        self._fresh(document_id, actor)
        masked = self.masked(document_id)
        info = self.document(document_id)
        display = self.display(case_id, user, now)
        with self.db.read() as session:
            token_key = self.identity_map.token_key(session, case_id)
        masked_title = self._masked_title(case_id, info.title, token_key, decisions_of(masked))
        revealed = display.revealed_in(masked.tokens | {t for t in display.revealing if t in masked_title})
        self.record(actor=actor, action="document.view", target=document_id,
                    details={"user": user.id, "revealed": revealed} if revealed else {"user": user.id})
        units = tuple(_view_unit(u, display) for u in masked.units)
        return DocumentView(document_id, info.case_name, info.kind, info.format, DocumentStatus(status),
                            render(masked_title, display.shown), units, masked.undecided)

    def display(self, case_id: str, user: UserInfo, now: datetime | None = None, *,
                epoch: int | None = None) -> Display:
        """How ``user`` sees the identity tokens of a case's masked text, per the policy.

        Kept per (case, user as the policy sees them: id, role, memberships, active) for the
        policy epoch ``epoch`` (read here if not given), and only for the time it holds: from
        the moment it was worked out until the first unmask grant it relies on expires. A grant
        approved or revoked, an identity added or changed, moves the epoch."""
        now = now or utcnow()
        if epoch is None:
            epoch = self.policy_epoch()
        actor = user.actor
        key = ("display", case_id, actor)
        cached = self._policy_cache.get(epoch, key)
        if cached is not None:
            display, since, until = cached  # type: ignore[misc]
            if since <= now < until:
                return display
        identities = self._identity_tokens(case_id, epoch)
        with self.db.read() as session:
            grants = unmask.grants(session, user.id, case_id)
        shown: dict[str, str] = {}
        revealing: dict[str, str] = {}
        vocabulary: list[tuple[str, str]] = []
        for identity, token in identities:
            vocabulary.append((identity.label, token))
            if may_see_real_name(actor, case_id, identity.id, grants, now):
                shown[token] = identity.name
                revealing[token] = identity.id
                vocabulary.extend((alias, token) for alias in identity.aliases)
            else:
                shown[token] = identity.label
        display = Display(shown, revealing, tuple(vocabulary))
        # the answer holds until the first grant in force now expires (a revocation moves the epoch)
        until = min((g.expires_at for g in grants if g.in_force(now)), default=datetime.max.replace(tzinfo=now.tzinfo))
        self._policy_cache.put(epoch, key, (display, now, until))
        return display

    def _identity_tokens(self, case_id: str, epoch: int) -> tuple[tuple[Identity, str], ...]:
        """The identities of a case's scope, decrypted, each with its token; kept per epoch."""
        key = ("identities", case_id)
        cached = self._policy_cache.get(epoch, key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        with self.db.read() as session:
            token_key = self.identity_map.token_key(session, case_id)
            identities = self.identity_map.identities(session, case_id)
        found = tuple((identity, pseudonym_token(token_key, identity.id)) for identity in identities)
        self._policy_cache.put(epoch, key, found)
        return found

    def _masked_title(self, case_id: str, title: str, token_key: bytes, decisions: dict[str, Suggestion]) -> str:
        """The title masked like text, under the current identities and the review's decisions:
        titles and file names can hold names too. What is undecided is masked as its category."""
        with self.db.read() as session:
            matcher, _ = self.identity_map.matcher(session, case_id)
        return mask_title(title, matcher, token_key, decisions)[0]

    # -- what the search indexes follow ----------------------------------------------------------

    def index_key(self, case_id: str) -> SecretKey:
        """The key a case's search index is encrypted under (wrapped by the case key)."""
        with self.db.read() as session:
            wrapped = session.scalar(select(CaseRow.index_key_ct).where(CaseRow.id == case_id))
            if wrapped is None:
                raise NotFound("no such case")
            return unwrap_key(self._case_keyring(session, case_id, wrapped), wrapped, _index_key_context(case_id), 1)

    def index_changes(self, after: int, limit: int = 500) -> list[IndexChange]:
        """Outbox rows after id ``after``, oldest first."""
        with self.db.read() as session:
            rows = session.execute(select(IndexOutboxRow.id, IndexOutboxRow.case_id, IndexOutboxRow.document_id,
                                          IndexOutboxRow.purge)
                                   .where(IndexOutboxRow.id > after).order_by(IndexOutboxRow.id).limit(limit))
            return [IndexChange(*row) for row in rows]

    def purge_pending(self, case_ids: list[str], after: int) -> bool:
        """Whether an outbox row after id ``after`` for one of ``case_ids`` rewrites a document's
        terms away (a re-masking): an index behind such a row may still hold the old terms."""
        with self.db.read() as session:
            return session.scalar(select(IndexOutboxRow.id).where(
                IndexOutboxRow.id > after, IndexOutboxRow.purge.is_(True),
                IndexOutboxRow.case_id.in_(case_ids)).limit(1)) is not None

    def latest_index_change(self) -> int:
        """The highest outbox id (0 when there is none)."""
        with self.db.read() as session:
            return session.scalar(select(func.max(IndexOutboxRow.id))) or 0

    def searchable(self, document_id: str) -> SearchableDocument | None:
        """The masked form of a document as an index should hold it, or None if it is gone.
        A document masked before its scope's latest identity change is masked again first, so
        no name registered since reaches an index."""
        for attempt in range(3):
            try:
                self._fresh(document_id, "search.index")
                with self.db.read() as session:
                    row = session.get(DocumentRow, document_id)
                    if row is None:
                        return None
                    blob = self._latest_blob(session, document_id, BlobPurpose.MASKED)
                    reader = self._open_blob(session, row, BlobPurpose.MASKED, blob)
                    found = (row.case_id, Kind(row.kind), DocumentStatus(row.status), blob.version, row.created_at)
                with reader:
                    masked = MaskedDocument.from_json(reader.read())
                return SearchableDocument(document_id, *found, masked)
            except (Conflict, IntegrityFailed):
                # re-masked under our feet: the superseded blob is gone; read the new one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def searchables(self, document_ids: Iterable[str], *, chunk: int = 200) -> Iterator[SearchableDocument]:
        """``searchable`` of each document that exists, in the order given, read a chunk at a
        time: one query for the stale ones, one for the rows and one for their masked blobs,
        instead of four queries per document. A stale document, or one re-masked between the
        query and the read, goes through ``searchable`` on its own (masked again first)."""
        ids = list(document_ids)
        for start in range(0, len(ids), chunk):
            part = [i for i in ids[start:start + chunk] if _valid_id(i)]
            alone = set(self.stale_documents(part)) if part else set()
            found: dict[str, SearchableDocument] = {}
            with self.db.read() as session:
                rows = {row.id: row for row in session.scalars(select(DocumentRow).where(DocumentRow.id.in_(part)))}
                blobs: dict[str, BlobRow] = {}
                for blob in session.scalars(select(BlobRow).where(BlobRow.document_id.in_(part),
                                                                  BlobRow.purpose == BlobPurpose.MASKED.value)):
                    if blob.document_id not in blobs or blob.version > blobs[blob.document_id].version:
                        blobs[blob.document_id] = blob
                for document_id, row in rows.items():
                    blob = blobs.get(document_id)
                    if document_id in alone or blob is None:
                        alone.add(document_id)
                        continue
                    try:
                        with self._open_blob(session, row, BlobPurpose.MASKED, blob) as reader:
                            masked = MaskedDocument.from_json(reader.read())
                    except IntegrityFailed:  # replaced since the query
                        alone.add(document_id)
                        continue
                    found[document_id] = SearchableDocument(document_id, row.case_id, Kind(row.kind),
                                                            DocumentStatus(row.status), blob.version,
                                                            row.created_at, masked)
            for document_id in part:
                document = self.searchable(document_id) if document_id in alone else found.get(document_id)
                if document is not None:
                    yield document

    def searchable_documents(self, case_id: str) -> list[str]:
        with self.db.read() as session:
            return list(session.scalars(select(DocumentRow.id).where(DocumentRow.case_id == case_id)
                                        .order_by(DocumentRow.created_at)))

    def document_states(self, document_ids: Iterable[str]) -> dict[str, tuple[str, DocumentStatus, int]]:
        """(case, status, masked version) of each document that exists, to re-check search hits."""
        ids = [i for i in set(document_ids) if _valid_id(i)]
        if not ids:
            return {}
        with self.db.read() as session:
            rows = session.execute(
                select(DocumentRow.id, DocumentRow.case_id, DocumentRow.status, BlobRow.version)
                .join(BlobRow, (BlobRow.document_id == DocumentRow.id) & (BlobRow.purpose == BlobPurpose.MASKED.value))
                .where(DocumentRow.id.in_(ids)))
            return {i: (c, DocumentStatus(st), v) for i, c, st, v in rows}

    def heads(self) -> tuple[int, int]:
        """(policy epoch, highest outbox id), read in one statement: what a search needs to know
        whether anything it keeps (decrypted policy state, index contents) has moved."""
        with self.db.read() as session:
            epoch, latest = session.execute(
                select(policy.epoch_query(), select(func.max(IndexOutboxRow.id)).scalar_subquery())).one()
        return int(epoch or 0), int(latest or 0)

    def policy_epoch(self) -> int:
        with self.db.read() as session:
            return int(session.scalar(select(policy.epoch_query())) or 0)

    def _case_list(self, epoch: int) -> tuple[CaseInfo, ...]:
        """Every case with its decrypted name (no document counts), kept per policy epoch."""
        cached = self._policy_cache.get(epoch, "cases")
        if cached is not None:
            return cached  # type: ignore[return-value]
        with self.db.read() as session:
            rows = session.scalars(select(CaseRow).order_by(CaseRow.created_at)).all()
            found = tuple(sorted((self._case_info(session, r) for r in rows), key=lambda c: c.name.casefold()))
        self._policy_cache.put(epoch, "cases", found)
        return found

    def visible_cases(self, user: UserInfo, *, epoch: int | None = None) -> list[tuple[CaseInfo, frozenset[DocumentStatus]]]:
        """The cases ``user`` may search, each with the document statuses they may see there.
        Their ``documents`` are not counted (0). ``epoch``: the policy epoch the caller read at
        the start of its request (read here if not given)."""
        if epoch is None:
            epoch = self.policy_epoch()
        actor = user.actor
        out = []
        for case_info in self._case_list(epoch):
            statuses = frozenset(s for s in DocumentStatus if may_see_document(actor, case_info.id, s.value))
            if statuses:
                out.append((case_info, statuses))
        return out

    # -- unmasking -------------------------------------------------------------------------------

    def request_unmask(self, user: UserInfo, case: CaseInfo, identity_label: str, justification: str, *,
                       actor: str) -> UnmaskRequest:
        """An investigator asks to see one identity's real name, saying why."""
        decision = permits(user.actor, Permission.UNMASK_REQUEST, case.id)
        if not decision:
            raise Forbidden(f"cannot request an unmask: {decision.reason}")
        identity = self.identity(case, identity_label)
        with self.db.write() as session:
            keyring = self._keys.newest_case_keyring(session, case.id)
            row = unmask.create(session, keyring, case_id=case.id, identity_id=identity.id, user_id=user.id,
                                justification=justification)
            self.audit.append(session, actor=actor, action="unmask.request", target=row.id,
                              details={"user": user.id, "identity": identity.id})
            return unmask.read(row, keyring)

    def unmask_requests(self, case: CaseInfo, user: UserInfo | None = None) -> list[UnmaskRequest]:
        """The requests of a case: all of them for its reviewers (or the operator), one's own otherwise."""
        with self.db.read() as session:
            query = select(UnmaskRequestRow).where(UnmaskRequestRow.case_id == case.id).order_by(UnmaskRequestRow.created_at)
            if user is not None and not permits(user.actor, Permission.UNMASK_DECIDE, case.id):
                if not permits(user.actor, Permission.UNMASK_REQUEST, case.id):
                    raise NotFound("no such case; `casevault case list` shows the cases")
                query = query.where(UnmaskRequestRow.requested_by == user.id)
            return [unmask.read(row, self._case_keyring(session, case.id, row.justification_ct))
                    for row in session.scalars(query)]

    def decide_unmask(self, request_id: str, user: UserInfo, *, approve: bool, valid_for: timedelta = timedelta(hours=24),
                      actor: str, now: datetime | None = None) -> UnmaskRequest:
        """Another reviewer of the case approves (for ``valid_for``) or denies a request."""
        now = now or utcnow()
        with self.db.write() as session:
            row = unmask.find(session, request_id) if _valid_id(request_id) else None
            if row is None or not permits(user.actor, Permission.DOCUMENT_READ, row.case_id):
                raise NotFound("no such unmask request")
            decision = may_decide_unmask(user.actor, row.case_id, requested_by=row.requested_by)
            if not decision:
                raise Forbidden(f"cannot decide this request: {decision.reason}")
            unmask.decide(session, request_id, approve=approve, user_id=user.id, valid_for=valid_for, now=now)
            self.audit.append(session, actor=actor, action="unmask.approve" if approve else "unmask.deny",
                              target=request_id, details={"user": user.id, "hours": valid_for.total_seconds() / 3600})
            session.refresh(row)
            return unmask.read(row, self._case_keyring(session, row.case_id, row.justification_ct))

    def revoke_unmask(self, request_id: str, user: UserInfo, *, actor: str) -> UnmaskRequest:
        """A reviewer of the case ends a grant before it expires; returns the revoked request."""
        with self.db.write() as session:
            row = unmask.find(session, request_id) if _valid_id(request_id) else None
            if row is None or not permits(user.actor, Permission.DOCUMENT_READ, row.case_id):
                raise NotFound("no such unmask request")
            decision = permits(user.actor, Permission.UNMASK_DECIDE, row.case_id)
            if not decision:
                raise Forbidden(f"cannot revoke: {decision.reason}")
            unmask.revoke(session, request_id, now=utcnow())
            self.audit.append(session, actor=actor, action="unmask.revoke", target=request_id, details={"user": user.id})
            session.refresh(row)
            return unmask.read(row, self._case_keyring(session, row.case_id, row.justification_ct))

    # -- users -----------------------------------------------------------------------------------

    def _admin(self, by: UserInfo | Operator) -> UserInfo | None:
        """None for the operator; the admin acting otherwise (Forbidden for anyone else)."""
        if isinstance(by, Operator):
            return None
        decision = permits(by.actor, Permission.USER_MANAGE)
        if not decision:
            raise Forbidden(f"not allowed: {decision.reason}")
        return by

    def add_user(self, name: str, role: str, *, cases: tuple[str, ...] = (), actor: str,
                 by: UserInfo | Operator = OPERATOR, enrolment: bool = False) -> tuple[UserInfo, str]:
        """Create a user with memberships in ``cases`` (names or ids), and return their first
        credential once. The operator (``by=OPERATOR``) gets an access key, or with ``enrolment``
        a one-time enrolment code, and the memberships hold at once. An admin (``by`` their
        UserInfo) gets only an enrolment code, and each membership waits for a reviewer of the
        case to confirm it after the user has enrolled (``confirm``)."""
        admin = self._admin(by)
        parsed_role = parse_role(role)
        case_ids = list(dict.fromkeys(self.case(c).id for c in cases))
        with self.db.write() as session:
            row = users.add_user(session, name, parsed_role, case_ids if admin is None else [])
            if admin is not None:
                for case_id in case_ids:
                    confirmations.hold(session, row.id, case_id, reason="user.add", requested_by=actor)
            if admin is None and not enrolment:
                secret = users.issue_access_key(session, row, None)[1]
            else:
                secret = enrolments.issue(session, row, by_operator=admin is None, now=utcnow())
            self.audit.append(session, actor=actor, action="user.add", target=row.id,
                              details={"role": parsed_role.value, "cases": case_ids}
                              | ({"pending": True} if admin is not None else {}))
            return users.user_info(session, row), secret

    def _with_pending(self, session: Session, row: UserRow) -> UserInfo:
        return dataclasses.replace(users.user_info(session, row), pending=confirmations.pending_cases(session, row.id))

    def users(self) -> list[UserInfo]:
        """Every user, with their confirmed and their waiting memberships."""
        with self.db.read() as session:
            return [self._with_pending(session, row) for row in session.scalars(select(UserRow).order_by(UserRow.name))]

    def user(self, name: str) -> UserInfo:
        with self.db.read() as session:
            return self._with_pending(session, users.find_user(session, name))

    def access_keys(self, name: str) -> list[users.AccessKeyInfo]:
        """The access keys of a user, newest first (prefixes and dates, never the keys)."""
        with self.db.read() as session:
            return users.access_keys(session, users.find_user(session, name))

    def issue_access_key(self, name: str, *, expires_at: datetime | None = None,
                         actor: str, by: UserInfo | Operator = OPERATOR) -> tuple[users.AccessKeyInfo, str]:
        """A new access key for user ``name``; the key itself is returned once and never kept.
        Only the operator issues keys to others: a user (an admin too) issues their own."""
        if isinstance(by, UserInfo):
            decision = permits(by.actor, Permission.ACCESS_KEY_OWN)
            if not decision:
                raise Forbidden(f"not allowed: {decision.reason}")
            if by.name != name:
                raise Forbidden("an access key is issued by its owner only; an admin resets the user's "
                                "credentials instead, and they enrol with the code")
        with self.db.write() as session:
            row, key = users.issue_access_key(session, users.find_user(session, name), expires_at)
            self.audit.append(session, actor=actor, action="access-key.issue", target=row.id,
                              details={"user": row.user_id, "prefix": row.prefix})
            return users.access_key_info(row), key

    def revoke_access_key(self, key_id: str, *, actor: str, by: UserInfo | Operator = OPERATOR) -> users.AccessKeyInfo:
        """Revoke an access key at once; revoking twice changes nothing. A user revokes their own
        keys; an admin (or the operator) anyone's."""
        with self.db.write() as session:
            row = session.get(AccessKeyRow, key_id) if _valid_id(key_id) else None
            if isinstance(by, UserInfo) and row is not None and not (
                    permits(by.actor, Permission.ACCESS_KEY_MANAGE)
                    or (row.user_id == by.id and permits(by.actor, Permission.ACCESS_KEY_OWN))):
                row = None  # someone else's key: as if there were none
            if row is None:
                raise NotFound("no such access key")
            users.revoke_access_key(session, row.id)
            self.audit.append(session, actor=actor, action="access-key.revoke", target=row.id,
                              details={"user": row.user_id})
            return users.access_key_info(row)

    def reset_credentials(self, name: str, *, actor: str, by: UserInfo | Operator = OPERATOR) -> str:
        """Revoke everything user ``name`` signs in with (password, second factor, access keys,
        sessions, an unused enrolment code) and return a new enrolment code, once. When an admin
        resets, every membership of the user waits for a reviewer's confirmation again."""
        admin = self._admin(by)
        now = utcnow()
        with self.db.write() as session:
            user = users.find_user(session, name)
            accounts.forget_credentials(session, user.id)
            users.revoke_access_keys_of(session, user.id, now)
            accounts.end_sessions_of(session, user.id)
            held = []
            if admin is not None:
                held = confirmations.hold_all(session, user.id, reason="user.reset", requested_by=actor)
            code = enrolments.issue(session, user, by_operator=admin is None, now=now)
            self.audit.append(session, actor=actor, action="user.reset", target=user.id,
                              details={"pending": held} if admin is not None else None)
        return code

    def set_role(self, name: str, role: str, *, actor: str, by: UserInfo | Operator = OPERATOR) -> UserInfo:
        """Change user ``name``'s role. When an admin changes it, every membership of the user
        waits for a reviewer's confirmation again; nobody changes their own role."""
        admin = self._admin(by)
        parsed = parse_role(role)
        if admin is not None and admin.name == name:
            raise Forbidden("you cannot change your own role; ask another admin")
        with self.db.write() as session:
            user = users.find_user(session, name)
            was = user.role
            if was != parsed.value:
                user.role = parsed.value
                if admin is not None:
                    confirmations.hold_all(session, user.id, reason="user.role", requested_by=actor)
                self.audit.append(session, actor=actor, action="user.role", target=user.id,
                                  details={"role": parsed.value, "was": was})
            return self._with_pending(session, user)

    def confirmations(self, by: UserInfo | Operator = OPERATOR) -> list[Confirmation]:
        """The memberships waiting for ``by``: those of the cases they review (a confirmed
        reviewer), never their own; every one for the operator."""
        now = utcnow()
        with self.db.read() as session:
            if isinstance(by, Operator):
                case_ids = None
            else:
                case_ids = frozenset(c for c in by.cases if permits(by.actor, Permission.MEMBERSHIP_CONFIRM, c))
            return [confirmations.Confirmation(
                p.id, p.user_id, u.name, parse_role(u.role), p.case_id, p.reason, p.requested_by, p.created_at,
                enrolments.awaiting(session, u.id, now))
                for p, u in confirmations.waiting(session, case_ids)
                if isinstance(by, Operator) or u.id != by.id]

    def confirm(self, confirmation_id: str, *, approve: bool, actor: str,
                by: UserInfo | Operator = OPERATOR) -> Confirmation:
        """A reviewer of the case (or the operator) lets a waiting membership reach the case, or
        refuses it (the membership is dropped). Four eyes: nobody confirms their own. Refused
        while the user has not redeemed an admin's enrolment code: whoever redeems it would be
        confirmed."""
        now = utcnow()
        with self.db.write() as session:
            row = session.get(PendingMembershipRow, confirmation_id) if _valid_id(confirmation_id) else None
            if row is None or (isinstance(by, UserInfo) and not (
                    permits(by.actor, Permission.MEMBERSHIP_CONFIRM, row.case_id) or row.user_id == by.id)):
                raise NotFound("no such confirmation")
            if isinstance(by, UserInfo) and row.user_id == by.id:
                raise Forbidden("nobody confirms their own membership or credentials (four eyes)")
            subject = session.get(UserRow, row.user_id)
            assert subject is not None
            found = confirmations.Confirmation(row.id, row.user_id, subject.name, parse_role(subject.role), row.case_id,
                                               row.reason, row.requested_by, row.created_at,
                                               enrolments.awaiting(session, row.user_id, now))
            if approve and found.awaiting_enrolment:
                raise Conflict(f"{subject.name} has not enrolled yet; confirm once they have redeemed their code")
            if approve:
                confirmations.grant(session, row.user_id, row.case_id)
            else:
                confirmations.drop(session, row.user_id, row.case_id)
            self.audit.append(session, actor=actor, action="membership.confirm" if approve else "membership.refuse",
                              target=row.user_id, details={"case": row.case_id, "confirmation": row.id,
                                                           "reason": row.reason})
            return found

    def enrol(self, code: str, *, password: str, totp_secret: str | None = None, totp_code: str | None = None,
              totp_required: bool = True, client: str = "api") -> tuple[UserInfo, str]:
        """Redeem an enrolment code: the holder sets the user's password (and second factor:
        required of reviewers and admins unless ``totp_required`` is off, as in the demo), their
        other credentials are revoked, and their new access key is returned, once. A code an
        admin issued leaves the user's memberships waiting for a reviewer."""
        now = utcnow()
        accounts.check_password(password)
        secret = accounts.check_totp_secret(totp_secret) if totp_secret else None
        with self.db.write() as session:
            enrolment = enrolments.find(session, code, now)
            user = session.get(UserRow, enrolment.user_id)
            if user is None or not user.active:
                raise enrolments.EnrolmentFailed("the enrolment code is not valid; ask an admin for a new one")
            if secret is None and totp_required and user.role in accounts.SECOND_FACTOR_ROLES:
                raise InvalidInput("your role needs a second factor: give an authenticator secret and a code from it")
            if secret is not None and accounts.totp_step(secret, totp_code or "", now) is None:
                raise InvalidInput("that code does not fit the secret; check the authenticator's clock and try again")
            enrolments.use(session, enrolment, now)
            accounts.forget_credentials(session, user.id)
            session.flush()
            accounts.set_password(session, user, password, now)
            if secret is not None:
                accounts.set_totp(session, user, secret, self._credentials_key(), now)
            users.revoke_access_keys_of(session, user.id, now)
            accounts.end_sessions_of(session, user.id)
            if not enrolment.by_operator:  # confirmed since the code was issued: not by its holder
                confirmations.hold_all(session, user.id, reason="user.enrol", requested_by=f"{user.name} ({client})")
            row, key = users.issue_access_key(session, user, None)
            self.audit.append(session, actor=f"{user.name} ({client})", action="user.enrol", target=user.id,
                              details={"second_factor": secret is not None, "prefix": row.prefix})
            return users.user_info(session, user), key

    def authenticate(self, access_key: str) -> UserInfo:
        """The user an access key belongs to; Unauthenticated if it is unknown, revoked or expired."""
        with self.db.read() as session:
            return users.user_info(session, users.authenticate(session, access_key))

    # -- audit and keys ------------------------------------------------------------------------

    # -- signing in to the web pages ------------------------------------------------------------

    def _credentials_key(self) -> SecretKey:
        return self._keys.system["credentials"]

    def reset_sign_in(self, name: str, *, actor: str, second_factor: bool = True) -> tuple[str, str | None]:
        """A new random password for user ``name`` and, for reviewers and admins, a new TOTP secret
        (unless ``second_factor`` is off, as in the demo); both returned once. Ends the user's
        sessions. The operator's alone (the demo, the test fixtures): it shows a password, so no
        admin may reach it; they use ``reset_credentials``."""
        password = accounts.new_password()
        with self.db.write() as session:
            user = users.find_user(session, name)
            now = utcnow()
            accounts.set_password(session, user, password, now)
            secret = None
            if second_factor and user.role in accounts.SECOND_FACTOR_ROLES:
                secret = accounts.new_totp_secret()
                accounts.set_totp(session, user, secret, self._credentials_key(), now)
            accounts.end_sessions_of(session, user.id)
            self.audit.append(session, actor=actor, action="user.reset-sign-in", target=user.id,
                              details={"second_factor": secret is not None})
        return password, secret

    def change_password(self, user: UserInfo, current: str, new: str, *, actor: str) -> None:
        """The user's own password change: the current one first."""
        accounts.check_password(new)
        with self.db.write() as session:
            row = session.get(UserRow, user.id)
            if row is None or not accounts.password_matches(session, row, current):
                raise accounts.SignInFailed("the current password is wrong")
            accounts.set_password(session, row, new, utcnow())
            self.audit.append(session, actor=actor, action="user.password", target=user.id)

    def enrol_second_factor(self, user: UserInfo, secret: str, code: str, *, actor: str) -> None:
        """Enrol a TOTP secret for the user themselves, once a code from it proves their
        authenticator holds it. Nobody enrols a second factor for someone else."""
        secret = accounts.check_totp_secret(secret)
        if accounts.totp_step(secret, code, utcnow()) is None:
            raise InvalidInput("that code does not fit the secret; check the authenticator's clock and try again")
        with self.db.write() as session:
            row = session.get(UserRow, user.id)
            if row is None:
                raise NotFound("no such user")
            accounts.set_totp(session, row, secret, self._credentials_key(), utcnow())
            self.audit.append(session, actor=actor, action="user.second-factor", target=user.id)

    def has_second_factor(self, user: UserInfo) -> bool:
        with self.db.read() as session:
            return accounts.has_totp(session, user.id)

    def sign_in(self, name: str, password: str, code: str | None, *, totp_required: bool = True,
                client: str = "web") -> accounts.SignIn:
        """A new session for a good name, password and (where needed) TOTP code; SignInFailed
        with one message otherwise. Every attempt is audited, with its reason when refused."""
        now = utcnow()
        with self.db.write() as session:
            verdict = accounts.verify(session, name, password, code, totp_required=totp_required,
                                      key=self._credentials_key(), now=now)
            if verdict.reason is None and verdict.user is not None:
                accounts.prune_sessions(session, now)
                signed = accounts.open_session(session, verdict.user, now)
                self.audit.append(session, actor=f"{name} ({client})", action="sign-in", target=verdict.user.id)
                return signed
        # refused: audited in its own transaction (the verify transaction changed nothing to keep)
        # what was typed as a name may be anything (a password typed in the wrong field): it goes
        # only into the encrypted details, and the clear actor names a user only if one exists
        known = verdict.user is not None
        self.record(actor=f"{verdict.user.name if known else 'unknown user'} ({client})",  # type: ignore[union-attr]
                    action="sign-in.refused", target=verdict.user.id if known else None,  # type: ignore[union-attr]
                    details={"reason": verdict.reason} | ({} if known else {"name": name[:100]}))
        if verdict.reason == "no second factor enrolled":
            raise accounts.SignInFailed("your role needs a second factor and none is enrolled; "
                                        "ask an admin to reset your sign-in")
        raise accounts.SignInFailed("the user name, password or code is wrong")

    def web_session(self, token: str) -> accounts.WebSession:
        """The open session of a token, with its user as they are now; SessionEnded otherwise."""
        now = utcnow()
        with self.db.read() as session:
            row, found = accounts.find_session(session, token, now)
            fresh = now - row.seen_at < accounts.SEEN_EVERY
        if not fresh:
            with self.db.write() as session:
                row = session.get(WebSessionRow, row.digest)
                if row is not None:
                    row.seen_at = now
        return found

    def sign_out(self, token: str, *, actor: str) -> None:
        """End a session on the server: its token opens nothing afterwards."""
        with self.db.write() as session:
            user_id = accounts.end_session(session, token)
            if user_id is not None:
                self.audit.append(session, actor=actor, action="sign-out", target=user_id)

    # -- memberships and accounts ----------------------------------------------------------------

    def set_membership(self, name: str, case: CaseInfo, *, member: bool, actor: str,
                       by: UserInfo | Operator = OPERATOR) -> UserInfo:
        """Add user ``name`` to ``case``, or remove them; takes effect on their next request. A
        membership an admin adds waits for a reviewer of the case (``confirm``); the operator's
        holds at once (and confirms a waiting one)."""
        admin = self._admin(by)
        with self.db.write() as session:
            user = users.find_user(session, name)
            confirmed = session.get(MembershipRow, (user.id, case.id)) is not None
            if not member:
                confirmations.drop(session, user.id, case.id)
            elif admin is None:
                confirmations.grant(session, user.id, case.id)
            elif not confirmed:
                confirmations.hold(session, user.id, case.id, reason="membership.add", requested_by=actor)
            session.flush()
            self.audit.append(session, actor=actor, action="membership.add" if member else "membership.remove",
                              target=user.id, details={"case": case.id}
                              | ({"pending": True} if member and admin is not None and not confirmed else {}))
            return self._with_pending(session, user)

    def set_active(self, name: str, *, active: bool, actor: str) -> UserInfo:
        """Enable or disable a user; a disabled user's keys and sessions stop working at once."""
        with self.db.write() as session:
            user = users.find_user(session, name)
            user.active = active
            if not active:
                accounts.end_sessions_of(session, user.id)
            self.audit.append(session, actor=actor, action="user.enable" if active else "user.disable",
                              target=user.id)
            return users.user_info(session, user)

    def record(self, *, actor: str, action: str, target: str | None = None,
               details: dict[str, object] | None = None) -> int:
        """Write one audit entry in its own transaction; AuditFailed if it cannot be written."""
        return self.store.record(actor=actor, action=action, target=target, details=details)

    def verify_audit(self) -> AuditReport:
        with self.db.read() as session:
            return self.audit.verify(session)

    def audit_entries(self, *, after: int = 0, limit: int = 100,
                      reader: UserInfo | Operator = OPERATOR) -> list[AuditEntry]:
        """Entries after position ``after``. The operator reads every detail; an admin
        (``reader``) reads who did what, when, to which object, and of a search only a keyed
        digest of its query (repeated queries correlate): never a query, a justification, a
        name or text, whatever a detail may hold (only the details in ``ADMIN_DETAILS`` pass)."""
        with self.db.read() as session:
            entries = self.audit.entries(session, after=after, limit=limit)
        if isinstance(reader, Operator):
            return entries
        self._admin(reader)
        return [dataclasses.replace(e, details=self._details_for_admins(e.details)) for e in entries]

    def case_audit(self, case: CaseInfo, reader: UserInfo, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        """The entries that name ``case`` (searches over it, identity and membership changes),
        after position ``after``, for a confirmed reviewer of the case: in full, queries
        included, when the reader reviews every case the entry names; as admins read it
        otherwise (a search over another case too keeps that case's query to its reviewers)."""
        decision = permits(reader.actor, Permission.AUDIT_READ_CASE, case.id)
        if not decision:
            raise Forbidden(f"not allowed: {decision.reason}")
        found: list[AuditEntry] = []
        with self.db.read() as session:
            while len(found) < limit and (batch := self.audit.entries(session, after=after, limit=500)):
                for entry in batch:
                    named = _cases_named(entry.details)
                    if case.id in named:
                        whole = all(permits(reader.actor, Permission.AUDIT_READ_CASE, c) for c in named)
                        found.append(entry if whole else
                                     dataclasses.replace(entry, details=self._details_for_admins(entry.details)))
                after = batch[-1].seq
        return found[:limit]

    def _details_for_admins(self, details: dict[str, object] | None) -> dict[str, object] | None:
        if details is None:
            return None
        shown = {k: v for k, v in details.items() if k in ADMIN_DETAILS}
        if isinstance(details.get("query"), str):
            digest = keyed_digest(self._keys.system["audit-details"], "audit-query", details["query"].encode())
            shown["query_digest"] = digest.hex()[:32]
        return shown

    def rotate_keys(self, *, actor: str, case: CaseInfo | None = None) -> KeyStatus:
        """Make a new version of every case key (or of ``case``'s), wrapped by the newest master
        key. New documents and justifications are encrypted under it from then on, in this
        process and in every other one sharing the database; what the older versions protect
        still decrypts, and nothing is re-read or re-encrypted (``rewrap`` moves the wrapped
        keys over later). Audited with the new versions, in the same transaction."""
        try:
            with self.db.write() as session:
                rotated = self._keys.rotate_case_keys(session, None if case is None else [case.id])
                self.audit.append(session, actor=actor, action="keys.rotate", target=case.id if case else None,
                                  details={"scope": "case" if case else "all", "case_keys": rotated,
                                           "master_version": self._keys.master_version})
        except IntegrityError:  # another rotation took the same version numbers first
            raise Conflict("the keys were being rotated by someone else at the same time; "
                           "`casevault keys status` shows the versions now") from None
        self._keys.forget_cases(rotated)
        return self.key_status()

    def rewrap(self, *, actor: str, case: CaseInfo | None = None) -> KeyStatus:
        """Move everything a case key protects to its newest version: each document key, the
        search index key, the case name and the unmask justifications are decrypted and
        encrypted again in memory, one case per transaction. No blob is read: the document keys
        themselves do not change. Afterwards no ciphertext names an older case key version."""
        with self.db.read() as session:
            case_ids = [case.id] if case else list(session.scalars(select(CaseRow.id).order_by(CaseRow.created_at)))
        for case_id in case_ids:
            with self.db.write() as session:
                keyring = self._keys.newest_case_keyring(session, case_id)
                newest = keyring.primary.version
                documents = 0
                for row in session.scalars(select(DocumentRow).where(DocumentRow.case_id == case_id,
                                                                     DocumentRow.case_key_version != newest)):
                    context = document_key_context(case_id, row.id)
                    row.key_ct = wrap_key(keyring, unwrap_key(keyring, row.key_ct, context, 1), context)
                    row.case_key_version = newest
                    documents += 1
                case_row = session.get(CaseRow, case_id)
                assert case_row is not None
                if token_version(case_row.name_ct) != newest:
                    case_row.name_ct = keyring.rotate(case_row.name_ct, Context("case-name", case_id=case_id))
                if token_version(case_row.index_key_ct) != newest:
                    index_key = unwrap_key(keyring, case_row.index_key_ct, _index_key_context(case_id), 1)
                    case_row.index_key_ct = wrap_key(keyring, index_key, _index_key_context(case_id))
                justifications = unmask.rewrap(session, keyring, case_id)
                session.flush()
                self.audit.append(session, actor=actor, action="keys.rewrap", target=case_id,
                                  details={"case_key_version": newest, "documents": documents,
                                           "justifications": justifications})
        return self.key_status()

    def key_status(self) -> KeyStatus:
        with self.db.read() as session:
            system: dict[str, list[int]] = {}
            for purpose, version in session.execute(
                    select(SystemKeyVersion.purpose, SystemKeyVersion.version).order_by(SystemKeyVersion.version)):
                system.setdefault(purpose, []).append(version)
            return KeyStatus(
                master_versions=KeyStore.master_versions(session),
                system_keys=system,
                case_key_versions=KeyStore.case_key_versions(session),
                documents_by_case_key_version=dict(session.execute(
                    select(DocumentRow.case_key_version, func.count()).group_by(DocumentRow.case_key_version)).all()),
                blobs_by_key_version=dict(session.execute(
                    select(BlobRow.key_version, func.count()).group_by(BlobRow.key_version)).all()),
            )

