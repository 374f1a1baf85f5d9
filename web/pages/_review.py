"""Review: the queue, a document's text with its suggestions and spans, decisions (one by one, or
a group of one text and category at once), spans by hand, and release (by another reviewer than
the uploader).

A long document is shown a page of units at a time (a 2 MB transcript is 30,000 turns), with its
undecided suggestions grouped beside it ("Agent · person ×6,000"), not listed one by one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from redaction import Category, Permission
from vault import UserInfo
from vault.errors import InvalidInput
from web._forms import require_confirmed
from web._pages import actor, render, see_other
from web.pages._review_fixes import Look, Mark, fixes_context, marks_by_unit
from web.deps import PostedForm, Require, SignedIn, VaultDep

router = APIRouter()
Reviewer = Annotated[UserInfo, Require(Permission.DOCUMENT_REVIEW, "only reviewers review documents")]
UNITS_PER_PAGE = 200  # turns or pages of text drawn at once
GROUPS_SHOWN = 200  # the largest groups; the rest come up as these are decided
CATEGORIES = [c.value for c in Category]


def _page_number(value: object) -> int:
    try:
        number = int(str(value or 1))
    except ValueError:
        raise InvalidInput("a page is a number from 1") from None
    if not 1 <= number <= 10**6:
        raise InvalidInput("a page is a number from 1")
    return number


@router.get("/review")
def review_queue(request: Request, vault: VaultDep, session: SignedIn, user: Reviewer) -> HTMLResponse:
    return render(request, "review_queue.html", session, documents=vault.in_review(user))


def _review_segments(text: str, spans: list[Mark]) -> list[tuple[Look | None, str]]:
    """The text in pieces, each marked piece with how it looks (``marks_by_unit``), the rest plain."""
    out: list[tuple[Look | None, str]] = []
    position = 0
    for start, end, kind in sorted(spans):
        if start < position:
            continue  # overlapping marks: the first wins on the page
        out += [(None, text[position:start]), (kind, text[start:end])]
        position = end
    out.append((None, text[position:]))
    return [s for s in out if s[1]]


@router.get("/review/{document_id}")
def review_page(request: Request, vault: VaultDep, session: SignedIn, document_id: str) -> HTMLResponse:
    user = session.user
    page = _page_number(request.query_params.get("page"))
    window = slice((page - 1) * UNITS_PER_PAGE, page * UNITS_PER_PAGE)
    review = vault.review_view(document_id, user, actor=actor(user), window=window)
    info = vault.document(document_id)
    identities = vault.identities(vault.case(info.case_id))
    ordered = [(p, f) for p, f, _ in review.units]
    pages = max(1, -(-len(ordered) // UNITS_PER_PAGE))
    if page > pages:
        return see_other(f"/review/{document_id}?page={pages}")  # type: ignore[return-value]
    shown = ordered[window]
    wanted = set(shown)
    texts = {(p, f): t for p, f, t in review.units if (p, f) in wanted}
    marks = marks_by_unit(review, {i.id: i.label for i in identities})
    spans_by_unit = {unit: marks[unit] for unit in wanted if unit in marks}
    units = [{"position": position, "field": field_name,
              "segments": _review_segments(texts[(position, field_name)], spans_by_unit.get((position, field_name), []))}
             for position, field_name in shown]
    pending = [s for s in review.suggestions if s["state"] == "pending"]
    groups = vault.review_groups.groups(review.suggestions)
    shown_groups = groups[:GROUPS_SHOWN]
    anchors = {g.key for g in shown_groups}
    index = {unit: i for i, unit in enumerate(ordered)}
    first_page = {str(s["id"]): index.get((s["unit"], s["field"]), 0) // UNITS_PER_PAGE + 1
                  for s in review.suggestions if s["id"] in anchors}
    decided: dict[tuple[str, str, str], int] = {}
    for s in review.suggestions:
        if s["state"] != "pending":
            decided[(str(s["text"]), str(s["category"]), str(s["state"]))] = \
                decided.get((str(s["text"]), str(s["category"]), str(s["state"])), 0) + 1
    return render(request, "review.html", session, info=info, units=units, page=page, pages=pages,
                  pending=[s for s in pending if (s["unit"], s["field"]) in wanted], pending_count=len(pending),
                  groups=shown_groups, first_page=first_page, group_count=len(groups), decided=sorted(decided.items()),
                  categories=CATEGORIES, identities=[(i.id, i.label, i.name) for i in identities],
                  may_release=not pending, own_upload=info.uploaded_by == user.id,
                  notice=DATE_NOTICES.get(request.query_params.get("notice", "")),
                  **fixes_context(request, vault, review, info.case_id))


DATE_NOTICES = {"date-set": "The document date was saved.", "date-cleared": "The document date was cleared."}


@router.post("/review/{document_id}/date")
def review_set_date(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    """Set the document's own date, or clear it with the field left empty (or "Clear")."""
    day = "" if values.get("clear") else str(values.get("date") or "")
    document = vault.dates.set(document_id, user, day, actor=actor(user))
    return see_other(f"/review/{document_id}?notice=" + ("date-set" if document.document_date else "date-cleared"))


@router.post("/review/{document_id}/decisions")
def review_decide(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    back = f"/review/{document_id}?page={_page_number(values.get('page'))}"  # checked before anything is done
    accept = [k.removeprefix("s:") for k, v in values.items() if k.startswith("s:") and v == "accept"]
    reject = [k.removeprefix("s:") for k, v in values.items() if k.startswith("s:") and v == "reject"]
    identity_id = _identity_of_case(vault, document_id, values)
    if not accept and not reject:
        raise InvalidInput("choose accept or reject for at least one suggestion")
    if accept:
        vault.decide(document_id, user, accept, accept=True, identity_id=identity_id, actor=actor(user))
    if reject:
        vault.decide(document_id, user, reject, accept=False, actor=actor(user))
    return see_other(back)


@router.post("/review/{document_id}/groups")
def review_decide_group(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    """Accept (optionally as an identity) or reject every undecided suggestion of one text and
    category: a rejection is destructive at scale, so it asks "I understand" first."""
    back = f"/review/{document_id}?page={_page_number(values.get('page'))}"  # checked before anything is done
    decision, group = values.get("decision"), str(values.get("group") or "")
    if decision not in ("accept", "reject") or not group:
        raise InvalidInput("choose a group of suggestions and accept or reject it")
    if decision == "reject":
        require_confirmed(values, "every suggestion of the group is rejected and stays visible to investigators")
    identity_id = _identity_of_case(vault, document_id, values) if decision == "accept" else None
    vault.review_groups.decide(document_id, user, group, accept=decision == "accept", identity_id=identity_id,
                               actor=actor(user))
    return see_other(back)


def _identity_of_case(vault: VaultDep, document_id: str, values: PostedForm) -> str | None:
    identity_id = str(values.get("identity") or "") or None
    if identity_id is not None:
        info = vault.document(document_id)
        if identity_id not in {i.id for i in vault.identities(vault.case(info.case_id))}:
            raise InvalidInput("link to an identity of this case")
    return identity_id


@router.post("/review/{document_id}/spans")
def review_add_span(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    back = f"/review/{document_id}?page={_page_number(values.get('page'))}"  # checked before anything is done
    try:
        unit, start, end = int(values.get("unit", "")), int(values.get("start", "")), int(values.get("end", ""))
    except ValueError:
        raise InvalidInput("select the text to mask first") from None
    identity_id = str(values.get("identity") or "") or None
    vault.add_span(document_id, user, unit=unit, start=start, end=end,
                   field_name=str(values.get("field", "text")), category=str(values.get("category") or "other"),
                   identity_id=identity_id, actor=actor(user))
    return see_other(back)


@router.post("/review/{document_id}/release")
def review_release(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    require_confirmed(values, "the document goes to the case's investigators")
    vault.release(document_id, user, actor=actor(user))
    return see_other("/review")
