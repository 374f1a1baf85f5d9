"""Crypto-shredding: destroying a case by destroying its keys.

Every ciphertext of a case (document keys, titles, file names, the case name, the search index
key, unmask justifications) hangs under the case key versions, and a case with its own pseudonym
scope keeps its real names under that scope's keys. ``destroy_case`` deletes, in ONE transaction,
every case key version, the scope's keys and identities (when the scope is the case's own; an
archive-scope case leaves the shared identities to the other cases), the documents and their blob
rows, memberships (confirmed and waiting), unmask requests and the case's pending outbox rows, and
appends the ``case.destroy`` audit entry (target: the case id, never its name; details: counts).
An outbox row for the case tells every node's search follower to drop the case's index.

Just before the commit the list of the case's blob files is written (and fsynced) under
``.shredding/``; after the commit the files and the list are deleted. A crash between the commit
and that deletion leaves files nobody can decrypt (their keys are gone); the next ``Vault.open``
deletes those the list names and no row does (a list whose destroy never committed names files
rows still name: they stay). A follower removes the index directory of a case that no longer
exists when it next opens or follows. A new case may take the destroyed case's name:
it gets a new id, new keys and a new index directory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError

from vault._identities import ARCHIVE_SCOPE
from vault._models import (
    BlobRow,
    CaseKeyRetiredRow,
    CaseKeyVersion,
    CaseRow,
    DocumentRow,
    IdentityRow,
    IndexOutboxRow,
    MembershipRow,
    PendingMembershipRow,
    PseudonymScopeRow,
    ScopeKeyVersion,
    UnmaskRequestRow,
)
from vault._store import Store
from vault._views import CaseInfo
from vault.errors import Conflict, NotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CaseContents:
    """What destroying a case removes, counted (the CLI shows it before asking for --yes)."""

    documents: int
    blobs: int
    identities: int  # 0 for an archive-scope case: the shared identities stay
    memberships: int
    pending_memberships: int
    unmask_requests: int
    case_keys: int
    own_scope: bool

    def details(self) -> dict[str, object]:
        """The audit entry's details: counts and the kind of scope, never a name."""
        return {"documents": self.documents, "blobs": self.blobs, "identities": self.identities,
                "memberships": self.memberships, "pending": self.pending_memberships,
                "unmask_requests": self.unmask_requests, "case_keys": self.case_keys,
                "scope": "case" if self.own_scope else "archive"}


def _count(session, query: Select) -> int:  # type: ignore[no-untyped-def,type-arg]
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


class Shredding:
    """Destroying a case: its keys first, so what any copy holds of it can no longer be read."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def case_contents(self, case: CaseInfo) -> CaseContents:
        with self.store.read() as work:
            return self._contents(work.session, case.id)

    def _contents(self, session, case_id: str) -> CaseContents:  # type: ignore[no-untyped-def]
        scope = session.scalar(select(CaseRow.scope).where(CaseRow.id == case_id))
        if scope is None:
            raise NotFound("no such case; `casevault case list` shows the cases")
        documents = select(DocumentRow.id).where(DocumentRow.case_id == case_id)
        own_scope = scope != ARCHIVE_SCOPE
        return CaseContents(
            documents=_count(session, documents),
            blobs=_count(session, select(BlobRow.id).where(BlobRow.document_id.in_(documents))),
            identities=_count(session, select(IdentityRow.id).where(IdentityRow.scope == case_id)) if own_scope else 0,
            memberships=_count(session, select(MembershipRow.user_id).where(MembershipRow.case_id == case_id)),
            pending_memberships=_count(session, select(PendingMembershipRow.id)
                                       .where(PendingMembershipRow.case_id == case_id)),
            unmask_requests=_count(session, select(UnmaskRequestRow.id).where(UnmaskRequestRow.case_id == case_id)),
            case_keys=_count(session, select(CaseKeyVersion.version).where(CaseKeyVersion.case_id == case_id)),
            own_scope=own_scope,
        )

    def destroy_case(self, case: CaseInfo, *, actor: str) -> CaseContents:
        """Destroy ``case``: its keys and every row of it in one transaction, audited as
        ``case.destroy`` (target: the case id); then its blob files. Returns what was removed."""
        case_id = case.id
        try:
            contents, files, note = self._destroy_rows(case_id, actor)
        except IntegrityError:  # a document or membership came in meanwhile (PostgreSQL: a foreign key)
            raise Conflict("the case changed while it was being destroyed; nothing was destroyed, "
                           "run the destroy again") from None
        self.store.keys.forget_case(case_id, own_scope=contents.own_scope)
        self.store.identity_map.forget()
        try:
            for name in files:
                self.store.blobs.delete(name)
            note.unlink()
        except OSError as error:  # unreadable anyway; the next open deletes what the note lists
            log.warning("a blob file of a destroyed case could not be removed (%s); "
                        "the next open removes it", type(error).__name__)
        return contents

    def _destroy_rows(self, case_id: str, actor: str) -> tuple[CaseContents, list[str], Path]:
        """The transaction: the case's keys and rows, the audit entry, the outbox signal, and the
        list of the blob files it orphans (written just before the commit)."""
        with self.store.write() as work:
            session = work.session
            contents = self._contents(session, case_id)
            documents = select(DocumentRow.id).where(DocumentRow.case_id == case_id)
            files = list(session.scalars(select(BlobRow.storage_name).where(BlobRow.document_id.in_(documents))))
            # the keys first: whatever the statements below miss is unreadable without them
            session.execute(delete(CaseKeyVersion).where(CaseKeyVersion.case_id == case_id))
            session.execute(delete(CaseKeyRetiredRow).where(CaseKeyRetiredRow.case_id == case_id))
            if contents.own_scope:
                session.execute(delete(ScopeKeyVersion).where(ScopeKeyVersion.scope == case_id))
            session.execute(delete(UnmaskRequestRow).where(UnmaskRequestRow.case_id == case_id))
            session.execute(delete(BlobRow).where(BlobRow.document_id.in_(documents)))
            session.execute(delete(DocumentRow).where(DocumentRow.case_id == case_id))
            session.execute(delete(MembershipRow).where(MembershipRow.case_id == case_id))
            session.execute(delete(PendingMembershipRow).where(PendingMembershipRow.case_id == case_id))
            session.execute(delete(CaseRow).where(CaseRow.id == case_id))
            if contents.own_scope:
                session.execute(delete(IdentityRow).where(IdentityRow.scope == case_id))
                session.execute(delete(PseudonymScopeRow).where(PseudonymScopeRow.id == case_id))
            work.audit(actor=actor, action="case.destroy", target=case_id, details=contents.details())
            # after the audit append (outbox ids in commit order): every follower drops the index.
            # The case's earlier rows go only now: SQLite hands out max(id) + 1, and the highest
            # id must never fall, or a follower that saw it would miss what comes next.
            signal = work.enqueue_index(case_id, case_id, purge=True)
            session.execute(delete(IndexOutboxRow).where(IndexOutboxRow.case_id == case_id,
                                                         IndexOutboxRow.id < signal))
            note = self.store.blobs.note_shredding(case_id, files)  # last: a failure above leaves none
        return contents, files, note
