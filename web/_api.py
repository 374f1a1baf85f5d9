"""The JSON API under /api/v1, for integrations and scripts.

A caller is a user, authenticated by an access key (``Authorization: Bearer cvk_...``). Each route
makes one visibility check for its resource, and what the caller may not see answers 404 exactly
like what does not exist; what they may see but not change answers 403 with the policy's reason.
The vault enforces the policy again beneath (reads, reveals, review, release, unmask), and
audits. Errors become status codes in web/_errors.py only.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from redaction import Permission, may_see_case, may_see_document
from vault import CaseInfo, DocumentInfo, DocumentStatus, UserInfo, Vault
from vault.errors import DuplicateDocument, InvalidInput
from web import _json
from web._input import MAX_POSITION, plain_text
from web._upload import Upload, read_upload
from web.deps import CurrentUser, Require, require, visible_case, visible_document

router = APIRouter(prefix="/api/v1", dependencies=[Depends(plain_text)])

User = CurrentUser


def _services(request: Request) -> Any:
    return request.app.state.services


def _vault(request: Request) -> Vault:
    return _services(request).vault


def _actor(user: UserInfo) -> str:
    return f"{user.name} (api)"


# -- health and cases ---------------------------------------------------------------------------

@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the vault is open."""
    return {"status": "ok"}


class CaseIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    archive_scope: bool = False


def _case_json(case: CaseInfo) -> dict[str, object]:
    return {"id": case.id, "name": case.name, "archive_scope": case.archive_scope, "documents": case.documents}


@router.get("/cases")
def list_cases(request: Request, user: User) -> list[dict[str, object]]:
    """The cases the caller belongs to (every case for an admin), each counting the documents
    the caller may see."""
    cases = _vault(request).cases(user)
    return [_case_json(c) for c in cases if may_see_case(user.actor, c.id)]


@router.post("/cases", status_code=201)
def create_case(request: Request, user: User, body: CaseIn) -> dict[str, object]:
    require(user, Permission.CASE_MANAGE)
    return _case_json(_vault(request).create_case(body.name, actor=_actor(user), archive_scope=body.archive_scope))


# -- documents ----------------------------------------------------------------------------------

@router.post("/documents", status_code=201)
async def upload_document(request: Request, user: User) -> dict[str, object]:
    """Multipart fields ``file`` and ``case``; the document enters review. Answers like
    ``casevault ingest --json``: ``{"id", "kind", "status"}``."""
    vault = _vault(request)
    upload = await read_upload(request, vault.settings.limits.max_file_bytes)
    case_name = upload.fields.get("case")
    if not case_name:
        raise InvalidInput("say which case the document belongs to, in the field 'case'")
    case = await run_in_threadpool(visible_case, vault, user, case_name)
    require(user, Permission.DOCUMENT_UPLOAD, case.id)
    document = await run_in_threadpool(ingest_upload, vault, user, case, upload)
    return {"id": document.id, "kind": document.kind.value, "status": document.status.value}


def ingest_upload(vault: Vault, user: UserInfo, case: CaseInfo, upload: Upload) -> DocumentInfo:
    """Ingest an upload as ``user``. A duplicate of a document they may see is a 409; a duplicate
    of one they may not see (in review) answers as their own new upload would, in review and
    unreadable to them, so that the answer is no oracle for what waits in review. The file is
    not stored twice: the reviewers already have it."""
    try:
        return vault.ingest(upload.file, case=case, filename=upload.filename,
                            actor=user.id)  # the uploader: four eyes compare it
    except DuplicateDocument as duplicate:
        existing = vault.document(duplicate.existing_id)
        if may_see_document(user.actor, existing.case_id, existing.status.value):
            raise DuplicateDocument("this file is already in the case", "") from None
        vault.record_duplicate_upload(existing.id, actor=user.id)
        return dataclasses.replace(existing, status=DocumentStatus.IN_REVIEW)


@router.get("/documents/{document_id}")
def get_document(request: Request, user: User, document_id: str) -> dict[str, object]:
    """The policy view: pseudonyms, or real names where the policy allows (audited)."""
    return _json.view_json(_vault(request).view(document_id, user, actor=_actor(user)))


def _attachment(filename: str) -> str:
    """A Content-Disposition that no file name can break: an ASCII fallback and RFC 5987."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in ascii_name).strip(" .") or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/documents/{document_id}/original")
def download_original(request: Request, user: User, document_id: str) -> StreamingResponse:
    """The original file as uploaded, for the case's reviewers (audited)."""
    vault = _vault(request)
    info = visible_document(vault, user, document_id)
    require(user, Permission.DOCUMENT_DOWNLOAD_ORIGINAL, info.case_id)
    reader = vault.open_original(document_id, actor=_actor(user))

    def chunks() -> Any:
        try:
            while block := reader.read(64 * 1024):
                yield block
        finally:
            reader.close()

    return StreamingResponse(chunks(), media_type="application/octet-stream",
                             headers={"Content-Disposition": _attachment(info.filename)})


# -- search -------------------------------------------------------------------------------------

class SearchIn(BaseModel):
    q: str = Field(max_length=4096)
    case: str | None = None
    page: int = 1
    sort: str = Field(default="relevance", max_length=40)  # the search names the sorts there are


@router.post("/search")
def search(request: Request, user: User, body: SearchIn) -> dict[str, object]:
    """Search what the caller may see (POST, so queries stay out of access logs). Answers like
    ``casevault search --json``."""
    services = _services(request)
    case = visible_case(services.vault, user, body.case) if body.case else None
    if case is not None:
        require(user, Permission.SEARCH, case.id)
    else:  # admins have no case of their own to search; a member of none gets an empty answer
        require(user, Permission.SEARCH, refusal="not allowed: searching is for investigators and reviewers")
    return services.search.search(user, body.q, actor=_actor(user), case=case, page=body.page,
                                  sort=body.sort).to_json()


# -- review -------------------------------------------------------------------------------------

class DecisionsIn(BaseModel):
    accept: list[str] = Field(default_factory=list, max_length=1000)
    reject: list[str] = Field(default_factory=list, max_length=1000)
    identity: str | None = None  # the pseudonym the accepted suggestions are linked to


@router.get("/review")
def review_queue(request: Request,
                 user: Annotated[UserInfo, Require(Permission.DOCUMENT_REVIEW, "only reviewers have a review queue")],
                 ) -> list[dict[str, object]]:
    """Documents waiting for the caller's review."""
    return _json.review_queue_json(_vault(request).in_review(user))


@router.get("/documents/{document_id}/review")
def review_document(request: Request, user: User, document_id: str) -> dict[str, object]:
    return _json.review_json(_vault(request).review_view(document_id, user, actor=_actor(user)))


@router.post("/documents/{document_id}/decisions")
def decide(request: Request, user: User, document_id: str, body: DecisionsIn) -> dict[str, object]:
    """Accept and reject suggestions; accepted ones may be linked to an identity's pseudonym."""
    vault = _vault(request)
    info = visible_document(vault, user, document_id)
    identity_id = vault.identity(vault.case(info.case_id), body.identity).id if body.identity else None
    masked = None
    if body.accept:
        masked = vault.decide(document_id, user, body.accept, accept=True, identity_id=identity_id, actor=_actor(user))
    if body.reject:
        masked = vault.decide(document_id, user, body.reject, accept=False, actor=_actor(user))
    if masked is None:
        raise InvalidInput("list suggestion ids to accept or reject")
    return {"id": document_id, "undecided": masked.undecided}


class SpanIn(BaseModel):
    unit: int = Field(default=0, ge=-1, le=2**31 - 1)  # the page number or turn index; any for the title
    field: Literal["text", "speaker", "title"] = "text"
    start: int = Field(ge=0, le=2**31 - 1)
    end: int = Field(gt=0, le=2**31 - 1)
    category: str = Field(default="other", max_length=20)
    identity: str | None = None  # the pseudonym the span is masked as, instead of its category


@router.post("/documents/{document_id}/spans", status_code=201)
def add_span(request: Request, user: User, document_id: str, body: SpanIn) -> dict[str, object]:
    """Mask a span by hand: of a page's text, a turn's text or speaker, or the title."""
    vault = _vault(request)
    info = visible_document(vault, user, document_id)
    identity_id = vault.identity(vault.case(info.case_id), body.identity).id if body.identity else None
    masked = vault.add_span(document_id, user, unit=body.unit, start=body.start, end=body.end, field_name=body.field,
                            category=body.category, identity_id=identity_id, actor=_actor(user))
    return {"id": document_id, "undecided": masked.undecided}


@router.post("/documents/{document_id}/release")
def release(request: Request, user: User, document_id: str) -> dict[str, object]:
    """Release to the case's investigators: another reviewer than the uploader, nothing undecided."""
    info = _vault(request).release(document_id, user, actor=_actor(user))
    return {"id": info.id, "status": info.status.value}


# -- identities and unmask requests ---------------------------------------------------------------

class UnmaskIn(BaseModel):
    identity: str = Field(min_length=1, max_length=200)  # the pseudonym
    justification: str = Field(max_length=2000)


class UnmaskDecisionIn(BaseModel):
    approve: bool
    hours: float = Field(default=24, gt=0, le=30 * 24)


@router.get("/cases/{case}/identities")
def identities(request: Request, user: User, case: str) -> list[dict[str, object]]:
    """Pseudonyms and categories; real names and aliases only where the policy allows (audited)."""
    vault = _vault(request)
    case_info = visible_case(vault, user, case)
    require(user, Permission.IDENTITY_READ, case_info.id)
    return vault.identity_listing(case_info, user, actor=_actor(user))


def _labels(vault: Vault, case: CaseInfo) -> dict[str, str]:
    return {i.id: i.label for i in vault.identities(case)}


@router.post("/cases/{case}/unmask-requests", status_code=201)
def request_unmask(request: Request, user: User, case: str, body: UnmaskIn) -> dict[str, object]:
    vault = _vault(request)
    case_info = visible_case(vault, user, case)
    made = vault.request_unmask(user, case_info, body.identity, body.justification, actor=_actor(user))
    return _json.unmask_json(made, _labels(vault, case_info))


@router.get("/cases/{case}/unmask-requests")
def unmask_requests(request: Request, user: User, case: str) -> list[dict[str, object]]:
    """All requests of the case for its reviewers; one's own for an investigator."""
    vault = _vault(request)
    case_info = visible_case(vault, user, case)
    require(user, Permission.IDENTITY_READ, case_info.id)
    labels = _labels(vault, case_info)
    return [_json.unmask_json(r, labels) for r in vault.unmask_requests(case_info, user)]


@router.post("/unmask-requests/{request_id}/decision")
def decide_unmask(request: Request, user: User, request_id: str, body: UnmaskDecisionIn) -> dict[str, object]:
    """Another reviewer of the case approves (for ``hours``) or denies."""
    vault = _vault(request)
    decided = vault.decide_unmask(request_id, user, approve=body.approve, valid_for=timedelta(hours=body.hours),
                                  actor=_actor(user))
    return _json.unmask_json(decided, _labels(vault, vault.case(decided.case_id)))


@router.post("/unmask-requests/{request_id}/revoke")
def revoke_unmask(request: Request, user: User, request_id: str) -> dict[str, object]:
    """A reviewer of the case ends a grant before it expires; the name is masked again for its
    holder at their next request."""
    vault = _vault(request)
    revoked = vault.revoke_unmask(request_id, user, actor=_actor(user))
    return _json.unmask_json(revoked, _labels(vault, vault.case(revoked.case_id)))


# -- users and access keys ------------------------------------------------------------------------

class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=63)
    role: str
    cases: list[str] = Field(default_factory=list, max_length=1000)


class AccessKeyIn(BaseModel):
    expires_in_days: float | None = Field(default=None, gt=0, le=3650)


def _case_names(vault: Vault) -> dict[str, str]:
    return {c.id: c.name for c in vault.cases()}


@router.get("/users")
def users(request: Request, user: User) -> list[dict[str, object]]:
    require(user, Permission.USER_MANAGE)
    vault = _vault(request)
    names = _case_names(vault)
    return [_json.user_json(u, names) for u in vault.users()]


@router.post("/users", status_code=201)
def add_user(request: Request, user: User, body: UserIn) -> dict[str, object]:
    """A new user; the answer holds their one-time enrolment code (for them: they redeem it at
    /enrol to set their own credentials). Their memberships wait for a reviewer of each case."""
    require(user, Permission.USER_MANAGE)
    vault = _vault(request)
    added, code = vault.add_user(body.name, body.role, cases=tuple(body.cases), actor=_actor(user), by=user)
    return _json.user_json(added, _case_names(vault)) | {"enrolment_code": code}


class RoleIn(BaseModel):
    role: str = Field(max_length=40)


@router.put("/users/{name}/role")
def set_role(request: Request, user: User, name: str, body: RoleIn) -> dict[str, object]:
    """Change a user's role; their memberships wait for a reviewer's confirmation again."""
    require(user, Permission.USER_MANAGE)
    vault = _vault(request)
    return _json.user_json(vault.set_role(name, body.role, actor=_actor(user), by=user), _case_names(vault))


@router.post("/users/{name}/reset")
def reset_credentials(request: Request, user: User, name: str) -> dict[str, object]:
    """Revoke the user's password, second factor, keys and sessions; the answer holds a new
    enrolment code for them. Their memberships wait for a reviewer's confirmation again."""
    require(user, Permission.USER_MANAGE)
    return {"name": name, "enrolment_code": _vault(request).reset_credentials(name, actor=_actor(user), by=user)}


@router.put("/users/{name}/cases/{case}")
def add_membership(request: Request, user: User, name: str, case: str) -> dict[str, object]:
    """Make user ``name`` a member of ``case``; takes effect at their next request."""
    require(user, Permission.USER_MANAGE)
    vault = _vault(request)
    changed = vault.set_membership(name, visible_case(vault, user, case), member=True, actor=_actor(user), by=user)
    return _json.user_json(changed, _case_names(vault))


@router.delete("/users/{name}/cases/{case}")
def remove_membership(request: Request, user: User, name: str, case: str) -> dict[str, object]:
    """Take user ``name`` out of ``case``; their next request no longer sees it."""
    require(user, Permission.USER_MANAGE)
    vault = _vault(request)
    changed = vault.set_membership(name, visible_case(vault, user, case), member=False, actor=_actor(user), by=user)
    return _json.user_json(changed, _case_names(vault))


@router.get("/users/{name}/access-keys")
def access_keys(request: Request, user: User, name: str) -> list[dict[str, object]]:
    """A user's keys (prefixes and dates): one's own, or anyone's for an admin."""
    require(user, Permission.ACCESS_KEY_OWN if name == user.name else Permission.ACCESS_KEY_MANAGE)
    return [_json.access_key_json(k) for k in _vault(request).access_keys(name)]


@router.post("/users/{name}/access-keys", status_code=201)
def issue_access_key(request: Request, user: User, name: str, body: AccessKeyIn) -> dict[str, object]:
    """A new access key for the caller themselves, shown once in this answer (nobody issues a
    key for someone else: 403)."""
    expires = datetime.now(UTC) + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    info, key = _vault(request).issue_access_key(name, expires_at=expires, actor=_actor(user), by=user)
    return _json.access_key_json(info) | {"access_key": key}


@router.delete("/access-keys/{key_id}")
def revoke_access_key(request: Request, user: User, key_id: str) -> dict[str, object]:
    """Revoke a key at once (one's own, or anyone's for an admin); its next request is refused."""
    return _json.access_key_json(_vault(request).revoke_access_key(key_id, actor=_actor(user), by=user))


# -- confirmations and enrolment ------------------------------------------------------------------

class ConfirmationIn(BaseModel):
    approve: bool


@router.get("/confirmations")
def confirmations(request: Request, user: Annotated[UserInfo, Require(
        Permission.MEMBERSHIP_CONFIRM, "only reviewers confirm memberships, those of the cases they review")],
        ) -> list[dict[str, object]]:
    """Memberships waiting for the caller: those of the cases they review, never their own."""
    vault = _vault(request)
    return [_json.confirmation_json(c, _case_names(vault)) for c in vault.confirmations(user)]


@router.post("/confirmations/{confirmation_id}")
def confirm(request: Request, user: User, confirmation_id: str, body: ConfirmationIn) -> dict[str, object]:
    """Let a waiting membership reach its case, or refuse it (four eyes: never one's own)."""
    vault = _vault(request)
    done = vault.confirm(confirmation_id, approve=body.approve, actor=_actor(user), by=user)
    return _json.confirmation_json(done, _case_names(vault)) | {"state": "confirmed" if body.approve else "refused"}


class EnrolIn(BaseModel):
    code: str = Field(max_length=200)
    password: str = Field(max_length=1024)
    totp_secret: str | None = Field(default=None, max_length=128)
    totp_code: str | None = Field(default=None, max_length=12)


@router.post("/enrol")
def enrol(request: Request, body: EnrolIn) -> dict[str, object]:
    """Redeem an enrolment code (no access key needed): set one's own password and second
    factor; the answer holds one's own new access key, shown once."""
    settings = request.app.state.settings
    enrolled, key = _vault(request).enrol(body.code, password=body.password, totp_secret=body.totp_secret,
                                          totp_code=body.totp_code, totp_required=settings.second_factor)
    return {"name": enrolled.name, "role": enrolled.role.value, "access_key": key}


# -- keys and audit -----------------------------------------------------------------------------

@router.get("/keys")
def key_status(request: Request, user: User) -> dict[str, object]:
    """Key versions and what each protects; never key material."""
    require(user, Permission.KEY_STATUS)
    return _json.key_status_json(_vault(request).key_status())


class RotateIn(BaseModel):
    case: str | None = None  # one case (name or id); every case when omitted


@router.post("/keys/rotate")
def rotate_keys(request: Request, user: User, body: RotateIn | None = None) -> dict[str, object]:
    """A new version of every case key (or of one case's); answers the key status. Documents
    under older versions still read; new ones use the new version (audited)."""
    require(user, Permission.KEY_ROTATE)
    vault = _vault(request)
    case = visible_case(vault, user, body.case) if body and body.case else None
    return _json.key_status_json(vault.rotate_keys(actor=_actor(user), case=case))


@router.get("/audit")
def audit_entries(request: Request, user: User, after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, object]]:
    """Audit entries after position ``after``: who, what, when, which object, and details that
    hold no query (a keyed digest instead), justification or name."""
    require(user, Permission.AUDIT_READ)
    return [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "target": e.target,
             "details": e.details} for e in _vault(request).audit_entries(after=after, limit=limit, reader=user)]


@router.get("/cases/{case}/audit")
def case_audit(request: Request, user: User, case: str, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, object]]:
    """The case's audit entries for its reviewers, search queries included (admins read digests)."""
    vault = _vault(request)
    case_info = visible_case(vault, user, case)
    require(user, Permission.AUDIT_READ_CASE, case_info.id)
    return [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "target": e.target,
             "details": e.details} for e in vault.case_audit(case_info, user, after=after, limit=limit)]


@router.get("/audit/verify")
def audit_verify(request: Request, user: User) -> JSONResponse:
    """Walk the hash chain; 200 when intact, 409 naming the first broken position."""
    require(user, Permission.AUDIT_VERIFY)
    report = _vault(request).verify_audit()
    body = {"intact": report.intact, "entries": report.entries, "first_broken": report.first_broken,
            "reason": report.reason}
    return JSONResponse(body, status_code=200 if report.intact else 409)
