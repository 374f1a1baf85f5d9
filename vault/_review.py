"""Review: a reviewer decides the suggestions of a document in review, masks spans by hand, and
releases it to the investigators of its case (four eyes). Every decision is a new version of the
document's masked form (``Store.remask``)."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from redaction import Permission, Suggestion, may_release, permits
from vault import _integrity as integrity
from vault._ingest._model import Extracted
from vault._masking import NOT_IDENTITY, TITLE_FIELD, TITLE_POSITION, MaskedDocument, suggestion_id
from vault._models import DocumentRow
from vault._store import Store, UnitOfWork
from vault._users import UserInfo
from vault._views import DocumentInfo, DocumentStatus, ReviewView
from vault.errors import Conflict, Forbidden, InvalidInput, NotFound, RedactionConflict


def _unit_text(extracted: Extracted, position: int, field_name: str) -> str:
    for turn in extracted.turns:
        if turn.index == position:
            return (turn.speaker or "") if field_name == "speaker" else turn.text
    for page in extracted.pages:
        if page.number == position and field_name == "text":
            return page.text
    return ""


class Review:
    """What a reviewer does to a document in review."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _reviewable(work: UnitOfWork, document_id: str, user: UserInfo, *, released: bool = False) -> DocumentRow:
        """The document, if ``user`` reviews its case and it is in review (or, with ``released``,
        released: a reviewer reads a released document's verbatim text to decide to reopen it)."""
        row = work.visible_document(document_id, user.actor)
        decision = permits(user.actor, Permission.DOCUMENT_REVIEW, row.case_id)
        if not decision:
            raise Forbidden(decision.reason)
        if row.status != DocumentStatus.IN_REVIEW and not (released and row.status == DocumentStatus.RELEASED):
            raise Conflict("the document is already released")
        return row

    def _check_reviewable(self, document_id: str, user: UserInfo) -> DocumentRow:
        with self.store.read() as work:
            return self._reviewable(work, document_id, user)

    def decide(self, document_id: str, user: UserInfo, suggestion_ids: list[str], *, accept: bool,
               identity_id: str | None = None, actor: str) -> MaskedDocument:
        """A reviewer accepts or rejects suggestions of a document in review."""
        self._check_reviewable(document_id, user)
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

        return self.store.remask(document_id, actor=actor, action="review.decide", decide=apply)

    def review_view(self, document_id: str, user: UserInfo, *, actor: str, window: slice | None = None) -> ReviewView:
        """What a reviewer works from: every identity mention and every suggestion, in clear, of a
        document in review or released. Read in one snapshot; the read of the text in clear is
        audited before it is returned.

        ``window`` slices the units (in the order of ``ReviewView.units``) whose identity mentions
        are looked for: a page of a long document needs its own, not the 30,000 turns' mentions."""
        with self.store.read() as work:
            row = self._reviewable(work, document_id, user, released=True)
            status = DocumentStatus(row.status)
            extracted = work.extracted(row)
            masked = work.masked(row)
            title = work.title(row, work.document_key(row))
            identities = {i.id: i for i in self.store.identity_map.identities(work.session, row.case_id)}
            matcher, _ = self.store.identity_map.matcher(work.session, row.case_id)
        self.store.record(actor=actor, action="document.read", target=document_id)
        spans: list[dict[str, object]] = []
        fields = ([(TITLE_POSITION, TITLE_FIELD, title)]
                  + [(t.index, "speaker", t.speaker or "") for t in extracted.turns]
                  + [(t.index, "text", t.text) for t in extracted.turns]
                  + [(p.number, "text", p.text) for p in extracted.pages])
        excepted = {(int(r["start"]), int(r["end"]), r["identity_id"], u, str(r["field"]))  # type: ignore[call-overload]
                    for u, records in [(u.position, u.suggestions) for u in masked.units]
                    + [(TITLE_POSITION, masked.title_suggestions)]
                    for r in records if r["category"] == NOT_IDENTITY}
        units = tuple(sorted(((p, f, t) for p, f, t in fields if t), key=lambda u: (u[0], u[1] != "speaker")))
        for position, field_name, text in (fields if window is None else units[window]):
            for m in matcher.find(text):
                identity = identities[m.identity_id]
                spans.append({"unit": position, "field": field_name, "start": m.start, "end": m.end,
                              "text": text[m.start:m.end], "identity": identity.label, "name": identity.name,
                              "identity_id": m.identity_id, "excepted": any(
                                  s <= m.start and m.end <= e and i == m.identity_id and (u, f) == (position, field_name)
                                  for s, e, i, u, f in excepted)})
        suggestions = [dict(record, unit=u.position) for u in masked.units for record in u.suggestions]
        suggestions += [dict(record, unit=TITLE_POSITION) for record in masked.title_suggestions]
        return ReviewView(document_id, status, spans, suggestions, units)

    def add_span(self, document_id: str, user: UserInfo, *, unit: int, start: int, end: int,
                 field_name: str = "text", category: str = "other", identity_id: str | None = None,
                 actor: str) -> MaskedDocument:
        """A reviewer masks a span by hand: as an identity, or as a category such as "location".

        A span of the title is in the field "title" (its unit is ``TITLE_POSITION``, whatever is given)."""
        self._check_reviewable(document_id, user)
        if field_name not in ("text", "speaker", TITLE_FIELD):
            raise InvalidInput("a span is in a turn's text or its speaker, a page's text, or the title")
        if field_name == TITLE_FIELD:
            unit = TITLE_POSITION
        if not re.fullmatch(r"[a-z_]{1,20}", category):
            raise InvalidInput("a category is a short lower-case word such as location")
        sid = suggestion_id(unit, field_name, start, end)

        def apply(decisions: dict[str, Suggestion], previous: MaskedDocument) -> dict[str, object]:
            target = next((u for u in previous.units if u.position == unit), None)
            length: int | None = None
            if field_name == TITLE_FIELD or target is not None:
                with self.store.read() as work:
                    row = work.document_row(document_id)
                    if field_name == TITLE_FIELD:
                        length = len(work.title(row, work.document_key(row)))
                    else:
                        length = len(_unit_text(work.extracted(row), unit, field_name))
            if length is None or not 0 <= start < end <= length:
                raise InvalidInput(f"no text at {unit}:{start}-{end}; `casevault review show` gives the units")
            if sid in decisions:
                raise RedactionConflict(f"that span is already {decisions[sid].state.value}")
            decisions[sid] = Suggestion(sid, start, end, category).accept(user.id, identity_id=identity_id)
            return {"user": user.id, "added": sid}

        return self.store.remask(document_id, actor=actor, action="review.add-span", decide=apply)

    def in_review(self, user: UserInfo | None = None) -> list[DocumentInfo]:
        """Documents waiting for review: all of them, or those of the cases ``user`` reviews."""
        with self.store.read() as work:
            rows = work.session.scalars(select(DocumentRow).where(DocumentRow.status == DocumentStatus.IN_REVIEW.value)
                                        .order_by(DocumentRow.created_at))
            names: dict[str, str] = {}
            return [work.document_info(row, names) for row in rows
                    if user is None or permits(user.actor, Permission.DOCUMENT_REVIEW, row.case_id)]

    def release(self, document_id: str, user: UserInfo, *, actor: str) -> DocumentInfo:
        """Release a reviewed document to the investigators of its case (four eyes; once)."""
        row = self._check_reviewable(document_id, user)
        decision = may_release(user.actor, row.case_id, uploaded_by=row.uploaded_by, undecided=row.pending_suggestions)
        if not decision:
            raise Forbidden(f"cannot release: {decision.reason}")
        with self.store.write() as work:
            moved = work.session.execute(update(DocumentRow).where(
                DocumentRow.id == document_id, DocumentRow.status == DocumentStatus.IN_REVIEW.value,
                DocumentRow.pending_suggestions == 0).values(
                status=DocumentStatus.RELEASED.value,
                mac=integrity.mac_after(work.session, row, status=DocumentStatus.RELEASED.value))).rowcount
            if moved != 1:
                raise Conflict("the document was released or changed by someone else at the same time")
            work.audit(actor=actor, action="document.release", target=document_id, details={"user": user.id})
            work.enqueue_index(row.case_id, document_id)
            return work.document_info(work.document_row(document_id), {})
