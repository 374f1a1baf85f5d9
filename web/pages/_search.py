"""Search: a query is posted once, kept under an opaque id, and its results page is that id.

``POST /search`` stores the query as the person's own search record (encrypted, ``vault.searches``)
and answers 303 to ``GET /search/{id}``, which runs it: Back, reload and a bookmark fetch that page
again without posting anything, and neither the query nor the case sits in a URL, a history or an
access log (paging and sorting are parameters on the id). Only the owner opens an id; for anyone
else it does not exist (404). A query the language refuses, or a search that fails, is shown on
the search page itself with the query kept in the box. Saved searches (``/searches``) are records
given a name, run again on demand, with the count of documents found since their last run.

A results page lists documents (``Search.grouped``), each once with its hits beneath, paged by
documents; a filter of the query shows as a chip that makes the same search without it (posting
the filter's number, never the query). A hit links to its document with the search's id
(``web.pages._hits``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from redaction import Permission
from search import Search, SearchError, Sort, query_filters, without_filter
from vault import SearchRecord, UserInfo, Vault, WebSession
from vault.errors import Conflict, InvalidInput, NotFound
from web._pages import actor, render, see_other
from web.deps import PostedForm, Require, SearchDep, SignedIn, VaultDep, require, visible_case
from web.errors import answer_of

router = APIRouter()
REFUSAL = "not allowed: searching is for investigators and reviewers"
Searcher = Annotated[UserInfo, Require(Permission.SEARCH, REFUSAL)]
SORTS = {Sort.RELEVANCE: "most relevant first", Sort.NEWEST: "newest first", Sort.OLDEST: "oldest first"}
PER_PAGE = 10  # documents a page: a results page lists documents, each with its hits beneath
FACETS = {"kind": "Kind", "year": "Year (document date)", "upload_year": "Year uploaded", "speaker": "Speaker"}  # a facet's heading as a person reads it
EXPIRED = "This search has expired: searches are kept for a day unless you save them. Search again below."


def _page(request: Request, vault: Vault, session: WebSession, *, status: int = 200, q: str = "",
          case_id: str = "", sort: str = Sort.RELEVANCE, record: SearchRecord | None = None,
          results: object = None, error: str | None = None, notice: str | None = None,
          save_error: str | None = None, name: str = "") -> HTMLResponse:
    user = session.user
    cases = [c for c in vault.cases() if c.id in user.cases]
    return render(request, "search.html", session, status, q=q, case_id=case_id, cases=cases, results=results,
                  sort=sort, sorts=SORTS, per_page=PER_PAGE, record=record, error=error, notice=notice,
                  save_error=save_error, name=name, facet_names=FACETS, active=query_filters(q))


def _owned(vault: Vault, session: WebSession, search_id: str) -> SearchRecord:
    """The caller's search; 404 for anyone else's (whatever their role), before any permission
    check, so an id answers alike for every stranger; then 403 for an owner who may no longer search."""
    record = vault.searches.get(search_id, session.user)
    require(session.user, Permission.SEARCH, refusal=REFUSAL)
    return record


def _results_page(request: Request, vault: Vault, engine: Search, session: WebSession, record: SearchRecord, *,
                  page: int = 1, sort: str = Sort.RELEVANCE, status: int = 200, **extra: str | None) -> HTMLResponse:
    values = {"q": record.query, "case_id": record.case_id or "", "sort": sort, "record": record}
    if record.expired:
        return _page(request, vault, session, status=410, notice=EXPIRED, **values)  # type: ignore[arg-type]
    try:
        case = visible_case(vault, session.user, record.case_id, by_id=True) if record.case_id else None
        results = engine.grouped(session.user, record.query, actor=actor(session.user), case=case, page=page,
                                 sort=sort, per_page=PER_PAGE)
    except (SearchError, InvalidInput, NotFound) as error:  # shown beside the query, which stays in the box
        answer = answer_of(error)
        return _page(request, vault, session, status=answer.status if answer else 400,
                     error=answer.message if answer else str(error), **values)  # type: ignore[arg-type]
    return _page(request, vault, session, status=status, results=results, **values, **extra)  # type: ignore[arg-type]


@router.get("/search")
def search_form(request: Request, vault: VaultDep, session: SignedIn, _user: Searcher) -> HTMLResponse:
    return _page(request, vault, session)


@router.post("/search")
def search(vault: VaultDep, session: SignedIn, form: PostedForm, user: Searcher) -> RedirectResponse:
    """Keep the query as the caller's search and send the browser to its page (a reload posts nothing)."""
    values = {k: str(v) for k, v in form.items()}
    query = values.get("q", "").strip()
    facet = values.get("facet", "").strip()
    if facet:  # a facet link narrows the query
        query = f"{query} {facet}".strip()
    if not query:
        return see_other("/search")
    case_id = values.get("case", "")
    if case_id:
        visible_case(vault, user, case_id, by_id=True)
    sort = Sort.named(values.get("sort") or Sort.RELEVANCE)
    record = vault.searches.create(user, query, case_id or None)
    return see_other(f"/search/{record.id}" + ("" if sort == Sort.RELEVANCE else f"?sort={sort}"))


@router.get("/search/{search_id}")
def search_results(request: Request, vault: VaultDep, engine: SearchDep, session: SignedIn, search_id: str,
                   page: int = 1, sort: str = Sort.RELEVANCE) -> HTMLResponse:
    record = _owned(vault, session, search_id)
    return _results_page(request, vault, engine, session, record, page=page, sort=sort)


@router.post("/search/{search_id}/remove")
def remove_filter(vault: VaultDep, session: SignedIn, form: PostedForm, search_id: str) -> RedirectResponse:
    """The same search without one of its filters (named by its number: the query stays on the
    server), kept as a new search of the caller's."""
    record = _owned(vault, session, search_id)
    try:
        number = int(str(form.get("filter", "")))
    except ValueError:
        raise InvalidInput("filter is the number of one of the search's filters") from None
    query = without_filter(record.query, number)
    sort = Sort.named(str(form.get("sort") or Sort.RELEVANCE))
    if not query:
        return see_other("/search")
    narrowed = vault.searches.create(session.user, query, record.case_id)
    return see_other(f"/search/{narrowed.id}" + ("" if sort == Sort.RELEVANCE else f"?sort={sort}"))


def _documents(vault: Vault, engine: Search, user: UserInfo, record: SearchRecord) -> list[str]:
    case = visible_case(vault, user, record.case_id, by_id=True) if record.case_id else None
    return engine.documents(user, record.query, actor=actor(user), case=case)


@router.post("/search/{search_id}/save")
def save_search(request: Request, vault: VaultDep, engine: SearchDep, session: SignedIn, form: PostedForm,
                search_id: str) -> Response:
    """Name the search and keep it; what it finds now is what later runs count new hits against."""
    record = _owned(vault, session, search_id)
    name = str(form.get("name") or "")
    if record.expired:
        return _results_page(request, vault, engine, session, record)
    try:
        record = vault.searches.save(record.id, session.user, name, actor=actor(session.user))
    except (InvalidInput, Conflict) as error:  # shown beside the name, which stays in its box
        return _results_page(request, vault, engine, session, record, status=400, save_error=str(error), name=name)
    try:
        vault.searches.ran(record.id, session.user, _documents(vault, engine, session.user, record))
    except (SearchError, InvalidInput, NotFound):
        pass  # saved all the same; its first run counts everything as new
    return see_other("/searches")


@router.get("/searches")
def saved_searches(request: Request, vault: VaultDep, engine: SearchDep, session: SignedIn,
                   user: Searcher) -> HTMLResponse:
    """The caller's saved searches, each with the documents it finds that it did not at its last run."""
    rows = []
    for record in vault.searches.saved(user):
        try:
            found = _documents(vault, engine, user, record)
            new: int | None = len(set(found) - (record.seen or frozenset()))
        except (SearchError, InvalidInput, NotFound):
            new = None  # it cannot run now (a case gone, a rule changed): its page says why
        rows.append((record, new))
    return render(request, "searches.html", session, searches=rows)


@router.post("/searches/{search_id}/run")
def run_saved(vault: VaultDep, engine: SearchDep, session: SignedIn, _form: PostedForm,
              search_id: str) -> RedirectResponse:
    """Run a saved search: what it finds now becomes what the next count starts from."""
    record = _owned(vault, session, search_id)
    try:
        vault.searches.ran(record.id, session.user, _documents(vault, engine, session.user, record))
    except (SearchError, InvalidInput, NotFound):
        pass  # its page shows why it cannot run
    return see_other(f"/search/{record.id}")


@router.post("/searches/{search_id}/delete")
def delete_search(vault: VaultDep, session: SignedIn, _form: PostedForm, search_id: str) -> RedirectResponse:
    record = _owned(vault, session, search_id)
    vault.searches.delete(record.id, session.user, actor=actor(session.user))
    return see_other("/searches")
