"""The API's contract: a pydantic model for every JSON body it answers, and the errors each
route declares, so that the OpenAPI document describes what the routes really send.

The models mirror ``web._json`` key for key, in the same order, and forbid other keys: a body
that drifts from its model fails its route's tests instead of documenting a shape it no longer
has. Keys that only some answers carry (a transcript's ``turns``, a name the policy shows) are
optional, and their routes leave out what was not set.
"""

from __future__ import annotations

from typing import Any

from fastapi import Security
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict

# Declares the access key in the OpenAPI document; it decides nothing (auto_error=False):
# ``web.deps.key_holder`` authenticates the key.
ACCESS_KEY = Security(HTTPBearer(auto_error=False, scheme_name="accessKey", bearerFormat="cvk_...",
                                 description="an access key: 'Authorization: Bearer cvk_...'"))


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(Body):
    """Every failure of the API: a code a program can test, a message a person can act on."""

    error: str
    message: str


_MEANINGS = {
    400: "the request fits its schema, but the domain refuses what it says (a rule of the query language, a span "
         "outside its text, text that is not plain, an upload's missing field)",
    401: "no access key, or one that is unknown, revoked or expired (enrolment: such a code)",
    403: "the caller may see this but not do it (the policy's reason)",
    404: "no such resource, or one the caller may not see",
    409: "the state refuses it (decided already, exists already, four eyes)",
    413: "the upload is larger than the limit",
    415: "the file's type is not one the vault reads",
    416: "the byte range asked for (HTTP Range) does not fit the file, or asks for more than one range",
    422: "the request does not fit its schema (a missing field, a wrong type, a value out of bounds), or an "
         "uploaded file cannot be read as its type",
    503: "the server cannot answer now (busy, locked, or stored data that needs an operator)",
}


def errors(*statuses: int, keyed: bool = True) -> dict[int | str, dict[str, Any]]:
    """The error answers of a route: ``statuses``, and those that every route may give (text that
    is not plain, 400), every route with a body or a key (422, 503), and every keyed route (401)."""
    every = {400, 401, 422, 503} if keyed else {400}
    return {s: {"model": ErrorOut, "description": _MEANINGS[s]} for s in sorted(every | set(statuses))}


class HealthOut(Body):
    status: str


class CaseOut(Body):
    id: str
    name: str
    archive_scope: bool
    documents: int


class DocumentStateOut(Body):
    id: str
    kind: str
    status: str


class ReleasedOut(Body):
    id: str
    status: str


class UndecidedOut(Body):
    id: str
    undecided: int


class TurnOut(Body):
    speaker: str | None
    start: float | None
    end: float | None
    text: str


class PageOut(Body):
    number: int
    text: str


class DocumentViewOut(Body):
    """A document as the policy shows it: a transcript has ``turns``, anything else ``pages``."""

    id: str
    case: str
    kind: str
    format: str
    status: str
    title: str
    text: str
    turns: list[TurnOut] | None = None
    pages: list[PageOut] | None = None


class QueuedOut(Body):
    id: str
    case: str
    kind: str
    undecided: int


class SuggestionOut(Body):
    id: str
    category: str
    text: str
    start: int
    end: int
    unit: int
    field: str
    state: str


class ReviewOut(Body):
    spans: list[dict[str, Any]]
    suggestions: list[SuggestionOut]
    title: str | None


class UnmaskOut(Body):
    id: str
    identity: str
    state: str
    justification: str
    expires_at: str | None


class IdentityOut(Body):
    """An identity of a case; ``name`` and ``aliases`` only where the policy shows them."""

    id: str
    pseudonym: str
    category: str
    name: str | None = None
    aliases: list[str] | None = None


class WrapsOut(Body):
    system_keys: int
    case_keys: int
    scope_keys: int


class MasterKeyOut(Body):
    """A master key version, wrapped by the root key: what it still wraps, whether retired."""

    version: int
    created_at: str
    retired: bool
    retired_at: str | None
    wraps: WrapsOut


class PassphraseSealOut(Body):
    kdf: str
    memory_kib: int
    iterations: int
    lanes: int


class SharesSealOut(Body):
    threshold: int
    shares: int


class SealOut(Body):
    """How the root key is sealed: a passphrase, shares (any ``threshold`` of ``shares``), or both."""

    passphrase: PassphraseSealOut | None
    shares: SharesSealOut | None


class SealStatusOut(Body):
    """A server's seal: sealed or not, shares given so far of the ``threshold`` (of ``shares``)
    its newest split needs, and whether a passphrase also unseals it. Never a share."""

    sealed: bool
    shares_given: int
    threshold: int | None
    shares: int | None
    passphrase: bool


class CaseKeyVersionOut(Body):
    version: int
    cases: int
    retired_cases: int
    retired: bool
    documents: int
    blobs: int
    justifications: int
    case_names: int
    index_keys: int


class KeyStatusOut(Body):
    seal: SealOut
    master_key: list[MasterKeyOut]
    system_keys: dict[str, list[int]]
    case_keys_by_version: dict[int, int]
    documents_by_case_key_version: dict[int, int]
    blobs_by_key_version: dict[int, int]
    audit_public_key: str  # hex; audit exports are signed with it
    audit_key_fingerprint: str
    case_key_versions: list[CaseKeyVersionOut]


class UserOut(Body):
    id: str
    name: str
    role: str
    active: bool
    cases: list[str]
    pending_cases: list[str]


class NewUserOut(UserOut):
    enrolment_code: str


class ResetOut(Body):
    name: str
    enrolment_code: str


class EnrolledOut(Body):
    name: str
    role: str
    access_key: str


class ConfirmationOut(Body):
    id: str
    user: str
    role: str
    case: str
    reason: str
    requested_by: str
    requested_at: str
    awaiting_enrolment: bool


class ConfirmationDecidedOut(ConfirmationOut):
    state: str


class AccessKeyOut(Body):
    id: str
    prefix: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None


class IssuedKeyOut(AccessKeyOut):
    access_key: str


class AuditEntryOut(Body):
    seq: int
    at: str
    actor: str
    action: str
    target: str | None
    details: dict[str, Any] | None


class AuditReportOut(Body):
    intact: bool
    entries: int
    first_broken: int | None
    reason: str | None


class BackupRunOut(Body):
    """A backup the server started: ``running``, ``finished`` or ``failed``."""

    name: str
    state: str
    started_at: str
    started_by: str
    done_bytes: int
    total_bytes: int
    finished_at: str | None
    documents: int | None
    message: str | None


class StoredBackupOut(Body):
    """An archive in the server's backup directory (``release`` and ``documents`` are null when its
    manifest cannot be read)."""

    name: str
    size: int
    created_at: str
    release: str | None
    documents: int | None


class BackupsOut(Body):
    latest: BackupRunOut | None
    backups: list[StoredBackupOut]


class SnippetOut(Body):
    text: str
    highlights: list[list[int]]


class HitOut(Body):
    id: str
    kind: str
    case: str
    score: float
    location: dict[str, Any]
    snippets: list[SnippetOut]


class SearchOut(Body):
    total: int
    page: int
    hits: list[HitOut]
    facets: dict[str, dict[str, int]]


# the upload is read from the stream by hand (web._upload), so its body is declared here
UPLOAD: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "case"],
    "properties": {"file": {"type": "string", "format": "binary"},
                   "case": {"type": "string", "description": "the case's name or id"}}}}}}}
