"""Reading a document (pseudonyms shown as labels), asking for a name to be unmasked, and
uploading (parsed from the stream and cut at the size limit, like the API's upload)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from redaction import Permission, permits
from search import Search, Sort
from vault import Kind, Vault, WebSession
from vault.errors import Conflict, Forbidden, InvalidInput
from web import _sessions
from web._pages import actor, clock, render, see_other
from web._upload import ingest_upload, read_upload
from web.deps import CurrentUser, PostedForm, SearchDep, SignedIn, VaultDep, VisibleDocument, visible_case
from web.errors import answer_of
from web.pages._hits import ANCHOR, navigation, owned_search

router = APIRouter()


Segment = tuple[str, str, int]  # ("text" | "label" | "name", piece, its hit number or 0)


def _segments(text: str, marks: tuple[tuple[int, int, bool], ...], spans: tuple[tuple[int, int], ...] = (),
              first: int = 1) -> list[Segment]:
    """Text cut into ("text" | "label" | "name", piece, hit) so a page can show pseudonyms as
    labels and the search's words (``spans``, numbered from ``first``) as hits. A span is either
    the whole of a mark or lies between marks (``search._highlight``)."""
    numbered = {span: n for n, span in enumerate(spans, first)}
    out: list[Segment] = []
    position = 0

    def plain(upto: int) -> None:
        nonlocal position
        for (start, end), number in numbered.items():
            if position <= start and end <= upto:
                out.extend((("text", text[position:start], 0), ("text", text[start:end], number)))
                position = end
        out.append(("text", text[position:upto], 0))
        position = upto

    for start, end, real in marks:
        plain(start)
        out.append(("name" if real else "label", text[start:end], numbered.get((start, end), 0)))
        position = end
    plain(len(text))
    return [s for s in out if s[1]]


def _document_page(request: Request, vault: Vault, session: WebSession, document_id: str, *, status: int = 200,
                   unmask_error: str | None = None, identity: str = "", justification: str = "",
                   engine: Search | None = None, search_id: str | None = None, unit: int | None = None,
                   hit: int | None = None, page: int = 1, sort: str = Sort.RELEVANCE) -> HTMLResponse:
    user = session.user
    record = owned_search(vault, user, search_id, page=page, sort=sort) if search_id is not None else None
    view = vault.view(document_id, user, actor=actor(user))
    info = vault.document(document_id)
    found = navigation(vault, engine, user, view, info.case_id, record, unit=unit, hit=hit, page=page, sort=sort) \
        if engine is not None and record is not None else None
    units, number = [], 1
    for u in view.units:
        spans = found.highlights.units.get(u.position, ()) if found else ()
        units.append({"position": u.position, "speaker": u.speaker, "start": clock(u.start_ms),
                      "segments": _segments(u.text, u.marks, spans, number)})
        number += len(spans)
    labels = sorted({text for u in units for kind, text, _ in u["segments"] if kind == "label"})
    may_request = bool(permits(user.actor, Permission.UNMASK_REQUEST, info.case_id))
    return render(request, "document.html", session, status, view=view, units=units,
                  transcript=view.kind is Kind.TRANSCRIPT, labels=labels, may_request=may_request,
                  case_id=info.case_id, notice=request.query_params.get("notice"), unmask_error=unmask_error,
                  identity=identity, justification=justification, found=found, anchor=ANCHOR,
                  may_review=bool(permits(user.actor, Permission.DOCUMENT_REVIEW, info.case_id)))


@router.get("/documents/{document_id}")
def document_page(request: Request, vault: VaultDep, engine: SearchDep, session: SignedIn, document_id: str,
                  search: str | None = None, unit: int | None = None, hit: int | None = None, page: int = 1,
                  sort: str = Sort.RELEVANCE) -> HTMLResponse:
    """A document; opened from a search (``search``: its id), with the search's words
    highlighted and a way through its hits (``web.pages._hits``)."""
    return _document_page(request, vault, session, document_id, engine=engine, search_id=search, unit=unit,
                          hit=hit, page=page, sort=sort)


@router.post("/documents/{document_id}/unmask")
def request_unmask(request: Request, vault: VaultDep, session: SignedIn, values: PostedForm,
                   document: VisibleDocument) -> Response:
    """Ask for a name; a request the vault refuses (a justification too short or a placeholder,
    one already waiting) is shown on the document with what was typed kept in the form."""
    user = session.user
    identity, justification = str(values.get("identity", "")), str(values.get("justification", ""))
    try:
        vault.request_unmask(user, vault.case(document.case_id), identity, justification, actor=actor(user))
    except (InvalidInput, Conflict) as error:
        answer = answer_of(error)
        return _document_page(request, vault, session, document.id, status=answer.status if answer else 400,
                              unmask_error=str(error), identity=identity, justification=justification)
    return see_other(f"/documents/{document.id}?" + urlencode({"notice": "requested"}))


def upload_page(request: Request, vault: Vault, session: WebSession, template: str) -> HTMLResponse:
    """An upload form (a document, or a call with its audio) listing the cases one may upload to."""
    cases = [c for c in vault.cases() if c.id in session.user.cases
             and permits(session.user.actor, Permission.DOCUMENT_UPLOAD, c.id)]
    if not cases:
        raise Forbidden("not allowed: you may upload to none of your cases")
    return render(request, template, session, cases=cases,
                  limit_mib=vault.settings.limits.max_file_bytes // (1024 * 1024))


@router.get("/upload")
def upload_form(request: Request, vault: VaultDep, session: SignedIn) -> HTMLResponse:
    return upload_page(request, vault, session, "upload.html")


@router.post("/upload")
async def upload(request: Request, vault: VaultDep, session: SignedIn, user: CurrentUser) -> RedirectResponse:
    """Parsed from the stream and cut at the size limit (413), like the API's upload. Async to
    read the stream as it arrives; the vault's work goes to the thread pool."""
    _sessions.check_same_site(request)
    received = await read_upload(request, vault.settings.limits.max_file_bytes)
    _sessions.check_csrf(request, session, received.fields.get("csrf"))
    case = await run_in_threadpool(visible_case, vault, user, received.fields.get("case", ""), by_id=True)
    if not permits(user.actor, Permission.DOCUMENT_UPLOAD, case.id):
        raise Forbidden("not allowed to upload to this case")
    document = await run_in_threadpool(ingest_upload, vault, user, case, received)
    reviews = permits(user.actor, Permission.DOCUMENT_REVIEW, case.id)
    return see_other(("/review/" if reviews else "/uploaded/") + document.id)


@router.get("/uploaded/{document_id}")
def uploaded(request: Request, session: SignedIn, document_id: str) -> HTMLResponse:
    """An investigator's upload waits for review; they may not read it yet, only know it arrived."""
    return render(request, "uploaded.html", session, document_id=document_id)
