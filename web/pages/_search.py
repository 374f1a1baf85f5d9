"""Search: queries are posted, so they sit in no URL, history or access log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from redaction import Permission
from search import Search, Sort
from vault import UserInfo, Vault, WebSession
from vault.errors import InvalidInput
from web._pages import actor, render
from web.deps import PostedForm, Require, SearchDep, SignedIn, VaultDep, visible_case

router = APIRouter()
Searcher = Annotated[UserInfo, Require(Permission.SEARCH, "not allowed: searching is for investigators and reviewers")]
SORTS = {Sort.RELEVANCE: "most relevant first", Sort.NEWEST: "newest first", Sort.OLDEST: "oldest first"}


def _search_page(request: Request, vault: Vault, engine: Search, session: WebSession,
                 values: dict[str, str]) -> HTMLResponse:
    user = session.user
    cases = [c for c in vault.cases() if c.id in user.cases]
    query = values.get("q", "").strip()
    case_id = values.get("case", "")
    sort = Sort.named(values.get("sort", Sort.RELEVANCE))
    try:
        page = int(values.get("page", "1"))
    except ValueError:
        raise InvalidInput("page is a number") from None
    results = None
    if query:
        case = visible_case(vault, user, case_id, by_id=True) if case_id else None
        results = engine.search(user, query, actor=actor(user), case=case, page=page, sort=sort)
    return render(request, "search.html", session, q=query, case_id=case_id, cases=cases, results=results,
                  sort=sort, sorts=SORTS, page=page, per_page=10)


@router.get("/search")
def search_form(request: Request, vault: VaultDep, engine: SearchDep, session: SignedIn,
                _user: Searcher) -> HTMLResponse:
    return _search_page(request, vault, engine, session, {})


@router.post("/search")
def search(request: Request, vault: VaultDep, engine: SearchDep, session: SignedIn, form: PostedForm,
           _user: Searcher) -> HTMLResponse:
    """Queries are posted, so they sit in no URL, history or access log."""
    values = {k: str(v) for k, v in form.items()}
    facet = values.get("facet")
    if facet:  # a facet link narrows the query
        values["q"] = f"{values.get('q', '')} {facet}".strip()
        values["page"] = "1"
    return _search_page(request, vault, engine, session, values)
