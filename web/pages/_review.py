"""Review: the queue, a document's text with its suggestions and spans, decisions, spans by
hand, and release (by another reviewer than the uploader)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from redaction import Permission
from vault import UserInfo
from vault.errors import InvalidInput
from web._pages import actor, render, see_other
from web.deps import PostedForm, Require, SignedIn, VaultDep

router = APIRouter()
Reviewer = Annotated[UserInfo, Require(Permission.DOCUMENT_REVIEW, "only reviewers review documents")]


@router.get("/review")
def review_queue(request: Request, vault: VaultDep, session: SignedIn, user: Reviewer) -> HTMLResponse:
    return render(request, "review_queue.html", session, documents=vault.in_review(user))


def _review_segments(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    out, position = [], 0
    for start, end, kind in sorted(spans):
        if start < position:
            continue  # overlapping marks: the first wins on the page
        out += [("", text[position:start]), (kind, text[start:end])]
        position = end
    out.append(("", text[position:]))
    return [s for s in out if s[1]]


@router.get("/review/{document_id}")
def review_page(request: Request, vault: VaultDep, session: SignedIn, document_id: str) -> HTMLResponse:
    user = session.user
    review = vault.review_view(document_id, user, actor=actor(user))
    info = vault.document(document_id)
    identities = vault.identities(vault.case(info.case_id))
    texts = {(p, f): t for p, f, t in review.units}
    spans_by_unit: dict[tuple[int, str], list[tuple[int, int, str]]] = {}
    for span in review.spans:
        spans_by_unit.setdefault((span["unit"], span["field"]), []).append(
            (span["start"], span["end"], f"identity {span['identity']}"))
    for suggestion in review.suggestions:
        if suggestion["state"] in ("pending", "accepted"):
            spans_by_unit.setdefault((suggestion["unit"], suggestion["field"]), []).append(
                (suggestion["start"], suggestion["end"], f"{suggestion['state']} {suggestion['category']}"))
    units = []
    for (position, field_name), text in sorted(texts.items()):
        units.append({"position": position, "field": field_name,
                      "segments": _review_segments(text, spans_by_unit.get((position, field_name), []))})
    pending = [s for s in review.suggestions if s["state"] == "pending"]
    decided = [s for s in review.suggestions if s["state"] != "pending"]
    return render(request, "review.html", session, info=info, units=units, pending=pending, decided=decided,
                  identities=[(i.id, i.label, i.name) for i in identities], may_release=not pending,
                  own_upload=info.uploaded_by == user.id,
                  notice=DATE_NOTICES.get(request.query_params.get("notice", "")))


DATE_NOTICES = {"date-set": "The document date was saved.", "date-cleared": "The document date was cleared."}


@router.post("/review/{document_id}/date")
def review_set_date(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    """Set the document's own date, or clear it with the field left empty (or "Clear")."""
    day = "" if values.get("clear") else str(values.get("date") or "")
    document = vault.dates.set(document_id, user, day, actor=actor(user))
    return see_other(f"/review/{document_id}?notice=" + ("date-set" if document.document_date else "date-cleared"))


@router.post("/review/{document_id}/decisions")
def review_decide(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    accept = [k.removeprefix("s:") for k, v in values.items() if k.startswith("s:") and v == "accept"]
    reject = [k.removeprefix("s:") for k, v in values.items() if k.startswith("s:") and v == "reject"]
    identity_id = str(values.get("identity") or "") or None
    if identity_id is not None:
        info = vault.document(document_id)
        if identity_id not in {i.id for i in vault.identities(vault.case(info.case_id))}:
            raise InvalidInput("link to an identity of this case")
    if not accept and not reject:
        raise InvalidInput("choose accept or reject for at least one suggestion")
    if accept:
        vault.decide(document_id, user, accept, accept=True, identity_id=identity_id, actor=actor(user))
    if reject:
        vault.decide(document_id, user, reject, accept=False, actor=actor(user))
    return see_other(f"/review/{document_id}")


@router.post("/review/{document_id}/spans")
def review_add_span(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    try:
        unit, start, end = int(values.get("unit", "")), int(values.get("start", "")), int(values.get("end", ""))
    except ValueError:
        raise InvalidInput("select the text to mask first") from None
    identity_id = str(values.get("identity") or "") or None
    vault.add_span(document_id, user, unit=unit, start=start, end=end,
                   field_name=str(values.get("field", "text")), category=str(values.get("category") or "other"),
                   identity_id=identity_id, actor=actor(user))
    return see_other(f"/review/{document_id}")


@router.post("/review/{document_id}/release")
def review_release(vault: VaultDep, _form: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    vault.release(document_id, user, actor=actor(user))
    return see_other("/review")
