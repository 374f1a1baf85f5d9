"""A reviewer's fixes to the masking: one mention of a registered alias that is not its identity
(a clerk named "Hadrien Mercadier" is not H, whose alias is "Hadrien"), and a released document
reopened for review.

An exception is a review decision like any other (``vault._masking.NOT_IDENTITY``): it lives in
the document's encrypted masked form, names the identity and the span only, is carried over by
every re-masking, and leaves that one mention verbatim and no other. A re-masking read before it
cannot write over it (``Store.remask`` moves the version only from the one it read).
"""

from __future__ import annotations

from sqlalchemy import update

from redaction import Permission, Suggestion, SuggestionState, permits
from vault import _integrity as integrity
from vault._masking import NOT_IDENTITY, TITLE_FIELD, TITLE_POSITION, MaskedDocument, exception_id
from vault._models import DocumentRow
from vault._review import Review, _unit_text
from vault._store import Store
from vault._users import UserInfo
from vault._views import DocumentInfo, DocumentStatus
from vault.errors import Conflict, Forbidden, InvalidInput, RedactionConflict


class Corrections:
    """What a reviewer does when the masking itself is wrong."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def not_this_identity(self, document_id: str, user: UserInfo, *, unit: int, start: int, end: int,
                          identity_id: str, field_name: str = "text", actor: str) -> MaskedDocument:
        """Leave one mention of ``identity_id`` at ``unit``/``field_name``/``start``-``end`` verbatim:
        it must be, exactly, a mention the masking finds there today."""
        Review(self.store)._check_reviewable(document_id, user)
        if field_name not in ("text", "speaker", TITLE_FIELD):
            raise InvalidInput("a mention is in a turn's text or its speaker, a page's text, or the title")
        if field_name == TITLE_FIELD:
            unit = TITLE_POSITION
        sid = exception_id(unit, field_name, start, end, identity_id)

        def apply(decisions: dict[str, Suggestion], _previous: MaskedDocument) -> dict[str, object]:
            with self.store.read() as work:
                row = work.document_row(document_id)
                text = (work.title(row, work.document_key(row)) if field_name == TITLE_FIELD
                        else _unit_text(work.extracted(row), unit, field_name))
                matcher, _ = self.store.identity_map.matcher(work.session, row.case_id)
            if not any((m.start, m.end, m.identity_id) == (start, end, identity_id) for m in matcher.find(text)):
                raise InvalidInput(f"no mention of that identity at {unit}:{start}-{end}; the review page lists them")
            if sid in decisions:
                raise RedactionConflict("that mention is already marked as not this identity")
            decisions[sid] = Suggestion(sid, start, end, NOT_IDENTITY, SuggestionState.REJECTED, identity_id, user.id)
            return {"user": user.id, "not_identity": sid}

        return self.store.remask(document_id, actor=actor, action="review.not-identity", decide=apply)

    def reopen(self, document_id: str, user: UserInfo, *, actor: str) -> DocumentInfo:
        """Put a released document back in review: its released form leaves the investigators'
        search and view until a reviewer (not its uploader) releases it again."""
        with self.store.write() as work:
            row = work.visible_document(document_id, user.actor)
            decision = permits(user.actor, Permission.DOCUMENT_REVIEW, row.case_id)
            if not decision:
                raise Forbidden(decision.reason)
            if row.status != DocumentStatus.RELEASED:
                raise Conflict("the document is not released: it is already in review")
            moved = work.session.execute(update(DocumentRow).where(
                DocumentRow.id == document_id, DocumentRow.status == DocumentStatus.RELEASED.value).values(
                status=DocumentStatus.IN_REVIEW.value,
                mac=integrity.mac_after(work.session, row, status=DocumentStatus.IN_REVIEW.value))).rowcount
            if moved != 1:
                raise Conflict("the document was reopened or changed by someone else at the same time")
            work.audit(actor=actor, action="document.reopen", target=document_id, details={"user": user.id})
            work.enqueue_index(row.case_id, document_id, purge=True)
            return work.document_info(work.document_row(document_id), {})
