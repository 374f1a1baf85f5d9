"""The document browser: a person's cases, and a case's documents as they may see them, with
filters, sorting and paging; the documents waiting for review are listed apart for those who
review them. Which documents show is the vault's answer (``vault._browsing``, the policy row by
row); a case the person may not know is a 404 like one that does not exist (``VisibleCaseById``)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from redaction import Permission, may_see_case, may_see_document, permits
from vault import CaseDocuments, DocumentFilter, DocumentSort, DocumentStatus, Kind
from web._pages import actor, render
from web.deps import SignedIn, VaultDep, VisibleCaseById

router = APIRouter()
# No free-text filter: what a person types (a reviewer would type a real name) would sit in the
# address, its history and a proxy's log; filters here are choices from fixed lists.
FILTERS = ("kind", "status", "uploader", "sort", "order")
SORTS = {DocumentSort.DATE: "Date", DocumentSort.TITLE: "Title", DocumentSort.KIND: "Kind",
         DocumentSort.STATUS: "Status", DocumentSort.UPLOADER: "Uploader"}


@router.get("/cases")
def case_index(request: Request, vault: VaultDep, session: SignedIn) -> HTMLResponse:
    """The cases this person may know, each with the number of documents they may see."""
    user = session.user
    cases = [c for c in vault.cases(user) if may_see_case(user.actor, c.id)]
    return render(request, "cases.html", session, cases=cases)


@router.get("/cases/{case_id}")
def case_documents(request: Request, vault: VaultDep, session: SignedIn, case: VisibleCaseById) -> HTMLResponse:
    user = session.user
    given = {name: request.query_params.get(name, "") for name in (*FILTERS, "page")}
    where = DocumentFilter.parse(kind=given["kind"], status=given["status"], uploader=given["uploader"],
                                 sort=given["sort"], order=given["order"], page=given["page"])
    listing = CaseDocuments(vault.store).listing(case, user, where, actor=actor(user))
    reviews = bool(permits(user.actor, Permission.DOCUMENT_REVIEW, case.id))
    kept = {name: value for name, value in given.items() if value and name != "page"}

    def link(**changes: object) -> str:
        """This listing's address with ``changes`` (a new sort starts again at page 1)."""
        query = {**kept, **{k: str(v) for k, v in changes.items() if v}}
        return f"/cases/{case.id}" + (f"?{urlencode(query)}" if query else "")

    def sort_link(sort: DocumentSort) -> str:
        same = where.sort is sort
        order = ("asc" if where.descending else "desc") if same else ("desc" if sort is DocumentSort.DATE else "asc")
        return link(sort=sort.value, order=order)

    return render(request, "case_documents.html", session, case=case, listing=listing, where=where, given=given,
                  queue=listing.queue if reviews else (), reviews=reviews, kinds=list(Kind),
                  statuses=[s for s in DocumentStatus if may_see_document(user.actor, case.id, s.value)],
                  sorts=SORTS, sort_link=sort_link, link=link,
                  may_read=bool(permits(user.actor, Permission.DOCUMENT_READ, case.id)),
                  manages=bool(permits(user.actor, Permission.CASE_MANAGE)))

