"""The pages: server-rendered Jinja2 over the same vault and search as the JSON API.

A person signs in with a password (and a TOTP code for reviewers and admins); the browser then
holds a session cookie (web/_sessions.py). Every state change is a POST form that carries the
session's CSRF token. Templates receive view models that are already redacted by the policy
(``DocumentView``, search hits, labels), never database rows; Jinja2 escapes everything. Pages
link by ids, never by case names or queries, so no name or query sits in a URL, a history or a
log. No page holds inline script: the two small scripts (upload progress, selecting a span) are
files under /static, and the CSP allows nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
import pyotp
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from redaction import Permission, Role, holds, permits
from search import Sort
from vault import CaseInfo, Kind, SignInFailed, UserInfo, Vault, WebSession
from vault.errors import Forbidden, InvalidInput
from web import _sessions
from web._api import ingest_upload
from web._input import MAX_POSITION, check_text, plain_text
from web.deps import SignedIn, posted_form, require, visible_case, visible_document
from web._upload import read_upload

HERE = Path(__file__).parent
templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                                   autoescape=True, undefined=jinja2.StrictUndefined))
router = APIRouter(include_in_schema=False, dependencies=[Depends(plain_text)])

AUDIT_PAGE = 50


def _vault(request: Request) -> Vault:
    return request.app.state.services.vault


def _actor(user: UserInfo) -> str:
    return f"{user.name} (web)"


def _clock(ms: int | None) -> str:
    if ms is None:
        return ""
    seconds = ms // 1000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


templates.env.filters["clock"] = _clock


def _segments(text: str, marks: tuple[tuple[int, int, bool], ...]) -> list[tuple[str, str]]:
    """Text cut into ("text" | "label" | "name", piece) so a page can show pseudonyms as labels."""
    out, position = [], 0
    for start, end, real in marks:
        out += [("text", text[position:start]), ("name" if real else "label", text[start:end])]
        position = end
    out.append(("text", text[position:]))
    return [s for s in out if s[1]]


# what a person is offered, by what their role carries (the pages check again, per case)
NAV = (
    (Permission.SEARCH, "Search", "/search"),
    (Permission.DOCUMENT_UPLOAD, "Upload", "/upload"),
    (Permission.DOCUMENT_REVIEW, "Review", "/review"),
    (Permission.MEMBERSHIP_CONFIRM, "Confirmations", "/confirmations"),
    (Permission.IDENTITY_READ, "Unmask requests", "/unmask"),
    (Permission.USER_MANAGE, "Users", "/admin/users"),
    (Permission.KEY_STATUS, "Keys", "/admin/keys"),
    (Permission.AUDIT_READ, "Audit log", "/admin/audit"),
)


def render(request: Request, template: str, session: WebSession | None, status: int = 200,
           **context: Any) -> HTMLResponse:
    user = session.user if session else None
    nav = [] if user is None else [(label, path) for permission, label, path in NAV if holds(user.actor, permission)]
    if user is not None:
        nav.append(("Account", "/account"))
    return templates.TemplateResponse(request, template, {"user": user, "csrf": session.csrf if session else "",
                                                          "nav": nav, **context}, status_code=status)


async def _form(request: Request, session: WebSession) -> FormData:
    return await posted_form(request, session)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _member_cases(vault: Vault, user: UserInfo) -> list[CaseInfo]:
    return [c for c in vault.cases() if c.id in user.cases]


def _case_by_id(vault: Vault, user: UserInfo, case_id: str) -> CaseInfo:
    return visible_case(vault, user, case_id, by_id=True)


# -- signing in ---------------------------------------------------------------------------------

@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    names = request.app.state.cookies
    token = _sessions.new_sign_in_token()
    response = render(request, "login.html", None, sign_in_token=token, error=None, name="",
                      second_factor=request.app.state.settings.second_factor)
    _sessions.set_cookie(response, names, names.sign_in, token, _sessions.SIGN_IN_COOKIE_SECONDS)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form(max_fields=10, max_files=0)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    for field_name, value in values.items():  # a NUL in a name would reach the database (a 500 on PostgreSQL)
        check_text(field_name, value)
    _sessions.check_sign_in_token(request, values.get("sign_in_token"))
    name = values.get("name", "").strip().lower()[:100]
    address = _sessions.request_client(request)
    throttle: _sessions.Throttle = request.app.state.throttle
    throttle.check(name, address)
    settings = request.app.state.settings
    try:
        signed = await run_in_threadpool(_vault(request).sign_in, name, values.get("password", ""),
                                         values.get("code"), totp_required=settings.second_factor)
    except SignInFailed as error:
        throttle.failed(name, address)
        names = request.app.state.cookies
        token = _sessions.new_sign_in_token()
        response = render(request, "login.html", None, 401, sign_in_token=token, error=str(error), name=name,
                          second_factor=settings.second_factor)
        _sessions.set_cookie(response, names, names.sign_in, token, _sessions.SIGN_IN_COOKIE_SECONDS)
        return response
    throttle.succeeded(name, address)
    names = request.app.state.cookies
    response = _see_other("/")
    old = request.cookies.get(names.session)
    if old:  # a session that was open in this browser ends: the new one has a new id
        await run_in_threadpool(_vault(request).sign_out, old, actor=f"{name} (web)")
    _sessions.set_cookie(response, names, names.session, signed.token, None)
    _sessions.clear_cookie(response, names, names.sign_in)
    return response


@router.post("/logout")
async def logout(request: Request, session: SignedIn) -> Response:
    await _form(request, session)
    names = request.app.state.cookies
    _vault(request).sign_out(request.cookies.get(names.session, ""), actor=_actor(session.user))
    response = _see_other("/login")
    _sessions.clear_cookie(response, names, names.session)
    return response


@router.get("/")
def home(session: SignedIn) -> RedirectResponse:
    return _see_other("/admin/users" if holds(session.user.actor, Permission.USER_MANAGE) else "/search")


# -- search and reading -------------------------------------------------------------------------

SORTS = {Sort.RELEVANCE: "most relevant first", Sort.NEWEST: "newest first", Sort.OLDEST: "oldest first"}


def _search_page(request: Request, session: WebSession, values: dict[str, str]) -> HTMLResponse:
    user = session.user
    require(user, Permission.SEARCH, refusal="not allowed: searching is for investigators and reviewers")
    vault = _vault(request)
    cases = _member_cases(vault, user)
    query = values.get("q", "").strip()
    case_id = values.get("case", "")
    sort = Sort.named(values.get("sort", Sort.RELEVANCE))
    try:
        page = int(values.get("page", "1"))
    except ValueError:
        raise InvalidInput("page is a number") from None
    results = None
    if query:
        case = _case_by_id(vault, user, case_id) if case_id else None
        results = request.app.state.services.search.search(user, query, actor=_actor(user), case=case, page=page,
                                                            sort=sort)
    return render(request, "search.html", session, q=query, case_id=case_id, cases=cases, results=results,
                  sort=sort, sorts=SORTS, page=page, per_page=10)


@router.get("/search")
def search_form(request: Request, session: SignedIn) -> HTMLResponse:
    return _search_page(request, session, {})


@router.post("/search")
async def search(request: Request, session: SignedIn) -> HTMLResponse:
    """Queries are posted, so they sit in no URL, history or access log."""
    values = {k: str(v) for k, v in (await _form(request, session)).items()}
    facet = values.get("facet")
    if facet:  # a facet link narrows the query
        values["q"] = f"{values.get('q', '')} {facet}".strip()
        values["page"] = "1"
    return await run_in_threadpool(_search_page, request, session, values)


@router.get("/documents/{document_id}")
def document_page(request: Request, session: SignedIn, document_id: str) -> HTMLResponse:
    vault = _vault(request)
    user = session.user
    view = vault.view(document_id, user, actor=_actor(user))
    info = vault.document(document_id)
    units = [{"position": u.position, "speaker": u.speaker, "start": _clock(u.start_ms),
              "segments": _segments(u.text, u.marks)} for u in view.units]
    labels = sorted({text for u in units for kind, text in u["segments"] if kind == "label"})
    may_request = bool(permits(user.actor, Permission.UNMASK_REQUEST, info.case_id))
    return render(request, "document.html", session, view=view, units=units, transcript=view.kind is Kind.TRANSCRIPT,
                  labels=labels, may_request=may_request, case_id=info.case_id,
                  notice=request.query_params.get("notice"))


@router.post("/documents/{document_id}/unmask")
async def request_unmask(request: Request, session: SignedIn, document_id: str) -> RedirectResponse:
    values = await _form(request, session)
    vault = _vault(request)
    user = session.user
    info = visible_document(vault, user, document_id)
    vault.request_unmask(user, vault.case(info.case_id), values.get("identity", ""), values.get("justification", ""),
                         actor=_actor(user))
    return _see_other(f"/documents/{document_id}?" + urlencode({"notice": "requested"}))


# -- upload -------------------------------------------------------------------------------------

@router.get("/upload")
def upload_form(request: Request, session: SignedIn) -> HTMLResponse:
    cases = [c for c in _member_cases(_vault(request), session.user)
             if permits(session.user.actor, Permission.DOCUMENT_UPLOAD, c.id)]
    if not cases:
        raise Forbidden("not allowed: you may upload to none of your cases")
    return render(request, "upload.html", session, cases=cases,
                  limit_mib=_vault(request).settings.limits.max_file_bytes // (1024 * 1024))


@router.post("/upload")
async def upload(request: Request, session: SignedIn) -> RedirectResponse:
    """Parsed from the stream and cut at the size limit (413), like the API's upload."""
    _sessions.check_same_site(request)
    vault = _vault(request)
    received = await read_upload(request, vault.settings.limits.max_file_bytes)
    _sessions.check_csrf(request, session, received.fields.get("csrf"))
    case = _case_by_id(vault, session.user, received.fields.get("case", ""))
    if not permits(session.user.actor, Permission.DOCUMENT_UPLOAD, case.id):
        raise Forbidden("not allowed to upload to this case")
    document = await run_in_threadpool(ingest_upload, vault, session.user, case, received)
    reviews = permits(session.user.actor, Permission.DOCUMENT_REVIEW, case.id)
    target = "/review/" + document.id if reviews else "/uploaded/" + document.id
    return _see_other(target)


@router.get("/uploaded/{document_id}")
def uploaded(request: Request, session: SignedIn, document_id: str) -> HTMLResponse:
    """An investigator's upload waits for review; they may not read it yet, only know it arrived."""
    return render(request, "uploaded.html", session, document_id=document_id)


# -- review -------------------------------------------------------------------------------------

def _reviewer(session: WebSession) -> UserInfo:
    require(session.user, Permission.DOCUMENT_REVIEW, refusal="only reviewers review documents")
    return session.user


@router.get("/review")
def review_queue(request: Request, session: SignedIn) -> HTMLResponse:
    user = _reviewer(session)
    return render(request, "review_queue.html", session, documents=_vault(request).in_review(user))


@router.get("/review/{document_id}")
def review_page(request: Request, session: SignedIn, document_id: str) -> HTMLResponse:
    vault = _vault(request)
    user = session.user
    review = vault.review_view(document_id, user, actor=_actor(user))
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
                  own_upload=info.uploaded_by == user.id)


def _review_segments(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    out, position = [], 0
    for start, end, kind in sorted(spans):
        if start < position:
            continue  # overlapping marks: the first wins on the page
        out += [("", text[position:start]), (kind, text[start:end])]
        position = end
    out.append(("", text[position:]))
    return [s for s in out if s[1]]


@router.post("/review/{document_id}/decisions")
async def review_decide(request: Request, session: SignedIn, document_id: str) -> RedirectResponse:
    values = await _form(request, session)
    user = _reviewer(session)
    vault = _vault(request)
    accept = [k.removeprefix("s:") for k, v in values.items() if k.startswith("s:") and v == "accept"]
    reject = [k.removeprefix("s:") for k, v in values.items() if k.startswith("s:") and v == "reject"]
    identity_id = values.get("identity") or None
    if identity_id is not None:
        info = vault.document(document_id)
        if identity_id not in {i.id for i in vault.identities(vault.case(info.case_id))}:
            raise InvalidInput("link to an identity of this case")
    if not accept and not reject:
        raise InvalidInput("choose accept or reject for at least one suggestion")
    if accept:
        vault.decide(document_id, user, accept, accept=True, identity_id=identity_id, actor=_actor(user))
    if reject:
        vault.decide(document_id, user, reject, accept=False, actor=_actor(user))
    return _see_other(f"/review/{document_id}")


@router.post("/review/{document_id}/spans")
async def review_add_span(request: Request, session: SignedIn, document_id: str) -> RedirectResponse:
    values = await _form(request, session)
    user = _reviewer(session)
    try:
        unit, start, end = int(values.get("unit", "")), int(values.get("start", "")), int(values.get("end", ""))
    except ValueError:
        raise InvalidInput("select the text to mask first") from None
    identity_id = values.get("identity") or None
    _vault(request).add_span(document_id, user, unit=unit, start=start, end=end,
                             field_name=values.get("field", "text"), category=values.get("category") or "other",
                             identity_id=identity_id, actor=_actor(user))
    return _see_other(f"/review/{document_id}")


@router.post("/review/{document_id}/release")
async def review_release(request: Request, session: SignedIn, document_id: str) -> RedirectResponse:
    await _form(request, session)
    user = _reviewer(session)
    _vault(request).release(document_id, user, actor=_actor(user))
    return _see_other("/review")


# -- identities and unmask requests ---------------------------------------------------------------

@router.get("/cases/{case_id}/identities")
def identities_page(request: Request, session: SignedIn, case_id: str) -> HTMLResponse:
    vault = _vault(request)
    case = _case_by_id(vault, session.user, case_id)
    if not permits(session.user.actor, Permission.IDENTITY_READ, case.id):
        raise Forbidden("not allowed: identities are for the case's investigators and reviewers")
    rows = vault.identity_listing(case, session.user, actor=_actor(session.user))
    return render(request, "identities.html", session, case=case, rows=rows)


@router.get("/unmask")
def unmask_page(request: Request, session: SignedIn) -> HTMLResponse:
    vault = _vault(request)
    user = session.user
    require(user, Permission.IDENTITY_READ, refusal="not allowed: unmask requests are for investigators and reviewers")
    cases = _member_cases(vault, user)
    users = {u.id: u.name for u in vault.users()}
    rows = []
    for case in cases:
        labels = {i.id: i.label for i in vault.identities(case)}
        for r in vault.unmask_requests(case, user):
            rows.append({"id": r.id, "case": case, "identity": labels.get(r.identity_id, "?"),
                         "by": users.get(r.requested_by, "?"), "own": r.requested_by == user.id,
                         "justification": r.justification, "state": r.state.value, "expires_at": r.expires_at,
                         "created_at": r.created_at})
    rows.sort(key=lambda r: (r["state"] != "pending", r["created_at"]), reverse=False)
    return render(request, "unmask.html", session, rows=rows, reviewer=bool(holds(user.actor, Permission.UNMASK_DECIDE)),
                  cases=cases)


@router.post("/unmask/{request_id}/decision")
async def unmask_decide(request: Request, session: SignedIn, request_id: str) -> RedirectResponse:
    values = await _form(request, session)
    try:
        hours = float(values.get("hours") or 24)
    except ValueError:
        raise InvalidInput("give the hours as a number") from None
    if not 0 < hours <= 30 * 24:
        raise InvalidInput("a grant lasts from a few minutes to 30 days (720 hours)")
    approve = values.get("approve") == "1"
    _vault(request).decide_unmask(request_id, session.user, approve=approve, valid_for=timedelta(hours=hours),
                                  actor=_actor(session.user))
    return _see_other("/unmask")


@router.post("/unmask/{request_id}/revoke")
async def unmask_revoke(request: Request, session: SignedIn, request_id: str) -> RedirectResponse:
    await _form(request, session)
    _vault(request).revoke_unmask(request_id, session.user, actor=_actor(session.user))
    return _see_other("/unmask")


# -- confirmations and enrolment ------------------------------------------------------------------

@router.get("/confirmations")
def confirmations_page(request: Request, session: SignedIn) -> HTMLResponse:
    """Memberships waiting for this reviewer: admins grant access, reviewers let it reach content."""
    user = _reviewer(session)
    vault = _vault(request)
    names = {c.id: c.name for c in vault.cases()}
    return render(request, "confirmations.html", session, rows=vault.confirmations(user), case_names=names,
                  notice=request.query_params.get("notice"))


@router.post("/confirmations/{confirmation_id}")
async def confirm(request: Request, session: SignedIn, confirmation_id: str) -> RedirectResponse:
    values = await _form(request, session)
    user = _reviewer(session)
    approve = values.get("approve") == "1"
    _vault(request).confirm(confirmation_id, approve=approve, actor=_actor(user), by=user)
    return _see_other("/confirmations?notice=" + ("confirmed" if approve else "refused"))


def _enrol_page(request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
    names = request.app.state.cookies
    token = _sessions.new_sign_in_token()
    secret = pyotp.random_base32()
    response = render(request, "enrol.html", None, status, sign_in_token=token, error=error, secret=secret,
                      uri=pyotp.TOTP(secret).provisioning_uri(name="casevault user", issuer_name="casevault"),
                      second_factor=request.app.state.settings.second_factor)
    _sessions.set_cookie(response, names, names.sign_in, token, _sessions.SIGN_IN_COOKIE_SECONDS)
    return response


@router.get("/enrol")
def enrol_page(request: Request) -> HTMLResponse:
    """Where a new (or reset) user redeems their enrolment code: nobody else chooses their secrets."""
    return _enrol_page(request)


@router.post("/enrol")
async def enrol(request: Request) -> HTMLResponse:
    form = await request.form(max_fields=10, max_files=0)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    _sessions.check_sign_in_token(request, values.get("sign_in_token"))
    if values.get("password") != values.get("repeat"):
        return _enrol_page(request, 400, "the password and its repetition differ")
    code = values.get("code") or None
    try:
        enrolled, key = await run_in_threadpool(
            _vault(request).enrol, values.get("enrolment_code", "").strip(), password=values.get("password", ""),
            totp_secret=values.get("secret") if code else None, totp_code=code,
            totp_required=request.app.state.settings.second_factor, client="web")
    except InvalidInput as error:
        return _enrol_page(request, 400, str(error))
    response = render(request, "enrolled.html", None, 201, name=enrolled.name, access_key=key)
    _sessions.clear_cookie(response, request.app.state.cookies, request.app.state.cookies.sign_in)
    return response


# -- account and second factor ------------------------------------------------------------------

@router.get("/account")
def account(request: Request, session: SignedIn) -> HTMLResponse:
    return render(request, "account.html", session, second_factor=_vault(request).has_second_factor(session.user),
                  notice=request.query_params.get("notice"))


@router.post("/account/password")
async def change_password(request: Request, session: SignedIn) -> RedirectResponse:
    values = await _form(request, session)
    if values.get("new") != values.get("repeat"):
        raise InvalidInput("the new password and its repetition differ")
    await run_in_threadpool(_vault(request).change_password, session.user, values.get("current", ""),
                            values.get("new", ""), actor=_actor(session.user))
    return _see_other("/account?notice=password")


def _own(session: WebSession, name: str) -> None:
    if name != session.user.name:
        raise Forbidden("a second factor is enrolled by its owner, signed in as themselves")


@router.get("/users/{name}/second-factor")
def second_factor_page(request: Request, session: SignedIn, name: str) -> HTMLResponse:
    _own(session, name)
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name="casevault")
    return render(request, "second_factor.html", session, secret=secret, uri=uri)


@router.post("/users/{name}/second-factor")
async def enrol_second_factor(request: Request, session: SignedIn, name: str) -> RedirectResponse:
    values = await _form(request, session)
    _own(session, name)
    _vault(request).enrol_second_factor(session.user, values.get("secret", ""), values.get("code", ""),
                                        actor=_actor(session.user))
    return _see_other("/account?notice=second-factor")


# -- administration -----------------------------------------------------------------------------

def _admin(session: WebSession, permission: Permission) -> UserInfo:
    require(session.user, permission)
    return session.user


@router.get("/admin/users")
def admin_users(request: Request, session: SignedIn) -> HTMLResponse:
    _admin(session, Permission.USER_MANAGE)
    vault = _vault(request)
    cases = vault.cases()
    names = {c.id: c.name for c in cases}
    rows = [(u, sorted(names.get(c, "?") for c in u.cases)) for u in vault.users()]
    return render(request, "admin_users.html", session, users=rows, cases=cases,
                  roles=[r.value for r in Role])


@router.post("/admin/users")
async def admin_add_user(request: Request, session: SignedIn) -> HTMLResponse:
    values = await _form(request, session)
    admin = _admin(session, Permission.USER_MANAGE)
    vault = _vault(request)
    added, code = vault.add_user(values.get("name", "").strip(), values.get("role", ""),
                                 cases=tuple(map(str, values.getlist("cases"))), actor=_actor(admin), by=admin)
    return render(request, "admin_secrets.html", session, subject=added.name, access_key=None, enrolment_code=code,
                  status=201)


@router.get("/admin/users/{name}")
def admin_user(request: Request, session: SignedIn, name: str) -> HTMLResponse:
    _admin(session, Permission.USER_MANAGE)
    vault = _vault(request)
    subject = vault.user(name)
    cases = vault.cases()
    return render(request, "admin_user.html", session, subject=subject, cases=cases,
                  keys=vault.access_keys(name), now=datetime.now(UTC), notice=request.query_params.get("notice"))


@router.post("/admin/users/{name}/memberships")
async def admin_membership(request: Request, session: SignedIn, name: str) -> RedirectResponse:
    values = await _form(request, session)
    admin = _admin(session, Permission.USER_MANAGE)
    vault = _vault(request)
    case = _case_by_id(vault, admin, values.get("case", ""))
    vault.set_membership(name, case, member=values.get("member") == "1", actor=_actor(admin), by=admin)
    return _see_other(f"/admin/users/{name}")


@router.post("/admin/users/{name}/role")
async def admin_role(request: Request, session: SignedIn, name: str) -> RedirectResponse:
    values = await _form(request, session)
    admin = _admin(session, Permission.USER_MANAGE)
    _vault(request).set_role(name, values.get("role", ""), actor=_actor(admin), by=admin)
    return _see_other(f"/admin/users/{name}")


@router.post("/admin/users/{name}/active")
async def admin_active(request: Request, session: SignedIn, name: str) -> RedirectResponse:
    values = await _form(request, session)
    admin = _admin(session, Permission.USER_MANAGE)
    if name == admin.name:
        raise Forbidden("you cannot disable yourself; ask another admin")
    _vault(request).set_active(name, active=values.get("active") == "1", actor=_actor(admin))
    return _see_other(f"/admin/users/{name}")


@router.post("/admin/users/{name}/reset-sign-in")
async def admin_reset_sign_in(request: Request, session: SignedIn, name: str) -> HTMLResponse:
    await _form(request, session)
    admin = _admin(session, Permission.USER_MANAGE)
    code = _vault(request).reset_credentials(name, actor=_actor(admin), by=admin)
    return render(request, "admin_secrets.html", session, subject=name, access_key=None, enrolment_code=code)


@router.post("/admin/users/{name}/access-keys")
async def admin_issue_key(request: Request, session: SignedIn, name: str) -> HTMLResponse:
    values = await _form(request, session)
    admin = _admin(session, Permission.ACCESS_KEY_MANAGE)
    days = values.get("days", "").strip()
    try:
        valid_days = float(days) if days else None
    except ValueError:
        valid_days = -1.0
    if valid_days is not None and not 0 < valid_days <= 3650:  # as the API: past it, a date overflows
        raise InvalidInput("give the days as a number above 0 and at most 3650, "
                           "or leave it empty for a key that does not expire")
    expires = datetime.now(UTC) + timedelta(days=valid_days) if valid_days is not None else None
    _, key = _vault(request).issue_access_key(name, expires_at=expires, actor=_actor(admin), by=admin)
    return render(request, "admin_secrets.html", session, subject=name, access_key=key, enrolment_code=None,
                  status=201)


@router.post("/admin/access-keys/{key_id}/revoke")
async def admin_revoke_key(request: Request, session: SignedIn, key_id: str) -> RedirectResponse:
    values = await _form(request, session)
    admin = _admin(session, Permission.ACCESS_KEY_MANAGE)
    vault = _vault(request)
    vault.revoke_access_key(key_id, actor=_actor(admin), by=admin)
    owner = values.get("user", "")
    return _see_other(f"/admin/users/{quote(owner, safe='')}?notice=revoked" if owner else "/admin/users")


@router.get("/admin/keys")
def admin_keys(request: Request, session: SignedIn) -> HTMLResponse:
    _admin(session, Permission.KEY_STATUS)
    return render(request, "admin_keys.html", session, key_status=_vault(request).key_status(), rotated=False)


@router.post("/admin/keys/rotate")
async def admin_rotate_keys(request: Request, session: SignedIn) -> HTMLResponse:
    """A new version of every case key; what older versions protect still decrypts."""
    await _form(request, session)
    admin = _admin(session, Permission.KEY_ROTATE)
    status = await run_in_threadpool(_vault(request).rotate_keys, actor=_actor(admin))
    return render(request, "admin_keys.html", session, key_status=status, rotated=True)


@router.get("/admin/audit")
def admin_audit(request: Request, session: SignedIn, after: int = 0) -> HTMLResponse:
    _admin(session, Permission.AUDIT_READ)
    if not 0 <= after <= MAX_POSITION:
        raise InvalidInput("after is a position, 0 or more")
    entries = _vault(request).audit_entries(after=after, limit=AUDIT_PAGE, reader=session.user)
    return render(request, "admin_audit.html", session, entries=entries, after=after, page=AUDIT_PAGE,
                  report=None)


@router.post("/admin/audit/verify")
async def admin_audit_verify(request: Request, session: SignedIn) -> HTMLResponse:
    await _form(request, session)
    _admin(session, Permission.AUDIT_VERIFY)
    report = await run_in_threadpool(_vault(request).verify_audit)
    entries = _vault(request).audit_entries(after=0, limit=AUDIT_PAGE, reader=session.user)
    return render(request, "admin_audit.html", session, entries=entries, after=0, page=AUDIT_PAGE, report=report,
                  status=200 if report.intact else 409)

