"""What routes depend on, for the JSON API and the pages alike: who calls, what they may see,
what they may do.

- ``CurrentUser``: the caller. Under /api/ the holder of an access key (``Authorization: Bearer
  cvk_...``, else 401); on a page the person of the session cookie (else to the sign-in page).
- ``Require(Permission.X)``: the caller, if their role carries the permission (else 403 with the
  policy's reason); a case permission is then checked in its case with ``require``.
- ``VisibleCase`` and ``VisibleDocument``: the case or document of the path, if the caller may
  see it; else 404, exactly as for one that does not exist (one check per resource, from the
  policy in ``redaction``).
- ``PostedForm`` and ``SignInForm``: a page's posted form, read (asynchronously) and checked
  against the session's CSRF token or the sign-in cookie, so the handler itself can be a plain
  ``def`` that runs in the thread pool.

Nothing here decides by role: the permission table does (``redaction.permits``, ``holds``,
``may_see_case``, ``may_see_document``).
"""

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from redaction import Permission, holds, may_see_case, may_see_document, permits
from search import Search
from vault import (
    CaseInfo,
    DocumentInfo,
    ServerBackups,
    SessionEnded,
    Settings,
    Unauthenticated,
    UserInfo,
    Vault,
    WebSession,
)
from vault.errors import Forbidden, NotFound
from web import _forms, _sessions
from web._input import check_text

NO_CASE = "no such case"
NO_DOCUMENT = "no such document"
MAX_FORM_FIELDS = 2100  # a review form may list many suggestions
MAX_SIGN_IN_FIELDS = 10
_BEARER = "Bearer "


# the app's own objects (web/_app.py puts them on app.state); async: nothing here blocks

def vault_of(request: Request) -> Vault:
    return request.app.state.services.vault  # type: ignore[no-any-return]


async def _vault(request: Request) -> Vault:
    return vault_of(request)


async def _search(request: Request) -> Search:
    return request.app.state.services.search  # type: ignore[no-any-return]


async def _backups(request: Request) -> ServerBackups:
    return request.app.state.services.backups  # type: ignore[no-any-return]


async def _forms_of(request: Request) -> _forms.OneTimeForms:
    return request.app.state.forms  # type: ignore[no-any-return]


async def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


VaultDep = Annotated[Vault, Depends(_vault)]
SearchDep = Annotated[Search, Depends(_search)]
SettingsDep = Annotated[Settings, Depends(_settings)]
BackupsDep = Annotated[ServerBackups, Depends(_backups)]
OneTimeFormsDep = Annotated[_forms.OneTimeForms, Depends(_forms_of)]


# -- who calls ----------------------------------------------------------------------------------

def key_holder(request: Request) -> UserInfo:
    """The user of the request's access key; 401 for a missing, unknown, revoked or expired key."""
    header = request.headers.get("authorization", "")
    if not header.startswith(_BEARER):
        raise Unauthenticated("send an access key as 'Authorization: Bearer cvk_...'")
    return vault_of(request).authenticate(header[len(_BEARER):].strip())


def page_session(request: Request) -> WebSession:
    """The signed-in session of the request's cookie; SessionEnded (a redirect to sign-in) if none.
    Looked up once per request, however many dependencies ask."""
    found: WebSession | None = getattr(request.state, "web_session", None)
    if found is None:
        names: _sessions.CookieNames = request.app.state.cookies
        token = request.cookies.get(names.session)
        if not token:
            raise SessionEnded("sign in to continue")
        found = request.state.web_session = vault_of(request).web_session(token)
    return found


SignedIn = Annotated[WebSession, Depends(page_session)]


def current_user(request: Request) -> UserInfo:
    """The caller: by access key under /api/ (never a cookie there), by session cookie on a page
    (never a key there)."""
    if request.url.path.startswith("/api/"):
        return key_holder(request)
    return page_session(request).user


CurrentUser = Annotated[UserInfo, Depends(current_user)]


# -- what they may do ---------------------------------------------------------------------------

def require(user: UserInfo, permission: Permission, case_id: str | None = None, *, refusal: str | None = None) -> None:
    """Forbidden (403) unless ``user`` holds ``permission`` (in ``case_id`` for a case permission;
    with no case, whether their role carries it at all). The message is the policy's reason, or
    ``refusal`` where a route says it in its own words."""
    decision = permits(user.actor, permission, case_id) if case_id is not None else holds(user.actor, permission)
    if not decision:
        raise Forbidden(refusal or f"not allowed: {decision.reason}")  # type: ignore[union-attr]


class _Requirement:
    def __init__(self, permission: Permission, refusal: str | None) -> None:
        self.permission = permission
        self.refusal = refusal

    async def __call__(self, user: CurrentUser) -> UserInfo:  # pure: no need for the thread pool
        require(user, self.permission, refusal=self.refusal)
        return user


def Require(permission: Permission, refusal: str | None = None) -> Any:  # noqa: N802 (a marker, like Depends)
    """``Annotated[UserInfo, Require(Permission.X)]``: the caller, if their role carries ``X``."""
    return Depends(_Requirement(permission, refusal))


# -- what they may see --------------------------------------------------------------------------

def visible_case(vault: Vault, user: UserInfo, name_or_id: str, *, by_id: bool = False) -> CaseInfo:
    """The case (by name or id; by id only with ``by_id``), if ``user`` may know it exists; 404
    otherwise, the same answer as for a case that does not exist."""
    try:
        case = vault.case(name_or_id)
    except NotFound:
        raise NotFound(NO_CASE) from None
    if (by_id and case.id != name_or_id) or not may_see_case(user.actor, case.id):
        raise NotFound(NO_CASE)
    return case


def visible_document(vault: Vault, user: UserInfo, document_id: str) -> DocumentInfo:
    """The document, if ``user`` may see it; 404 otherwise, as for one that does not exist."""
    try:
        info = vault.document(document_id)
    except NotFound:
        raise NotFound(NO_DOCUMENT) from None
    if not may_see_document(user.actor, info.case_id, info.status.value):
        raise NotFound(NO_DOCUMENT)
    return info


def _case_of_path(vault: VaultDep, user: CurrentUser, case: str) -> CaseInfo:
    return visible_case(vault, user, case)


def _case_of_page_path(vault: VaultDep, user: CurrentUser, case_id: str) -> CaseInfo:
    return visible_case(vault, user, case_id, by_id=True)  # pages link by id, never by name


def _document_of_path(vault: VaultDep, user: CurrentUser, document_id: str) -> DocumentInfo:
    return visible_document(vault, user, document_id)


VisibleCase = Annotated[CaseInfo, Depends(_case_of_path)]  # the API's /cases/{case}: a name or an id
VisibleCaseById = Annotated[CaseInfo, Depends(_case_of_page_path)]  # a page's /cases/{case_id}
VisibleDocument = Annotated[DocumentInfo, Depends(_document_of_path)]


# -- what pages post ----------------------------------------------------------------------------

async def posted_form(request: Request, session: SignedIn) -> FormData:
    """The posted form (text fields only: files are refused), after the CSRF check."""
    form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    _sessions.check_csrf(request, session, str(form.get("csrf") or ""))
    for name, value in form.multi_items():
        check_text(name, str(value))
    return form


PostedForm = Annotated[FormData, Depends(posted_form)]


async def _sign_in_fields(request: Request) -> dict[str, str]:
    form = await request.form(max_fields=MAX_SIGN_IN_FIELDS, max_files=0)
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def sign_in_form(request: Request) -> dict[str, str]:
    """The sign-in form's text fields, carrying the token of the sign-in cookie."""
    values = await _sign_in_fields(request)
    for field_name, value in values.items():  # a NUL in a name would reach the database (a 500 on PostgreSQL)
        check_text(field_name, value)
    _sessions.check_sign_in_token(request, values.get("sign_in_token"))
    return values


async def enrol_form(request: Request) -> dict[str, str]:
    """The enrolment form's text fields, carrying the token of the sign-in cookie."""
    values = await _sign_in_fields(request)
    _sessions.check_sign_in_token(request, values.get("sign_in_token"))
    return values


SignInForm = Annotated[dict[str, str], Depends(sign_in_form)]
EnrolForm = Annotated[dict[str, str], Depends(enrol_form)]
