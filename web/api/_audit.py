"""The audit log: entries for admins (query digests, never queries), a case's entries in full
for its reviewers, the hash chain's verification, and the signed export to keep off the host."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse

from redaction import Permission
from vault import UserInfo
from web import _json
from web._export import export_response
from web._input import MAX_POSITION
from web.api._models import ACCESS_KEY, AuditEntryOut, AuditReportOut, errors
from web.api._names import PREFIX, actor
from web.deps import CurrentUser, Require, VaultDep, VisibleCase, require

router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])


@router.get("/audit", responses=errors(403), response_model=list[AuditEntryOut])
def audit_entries(vault: VaultDep, user: Annotated[UserInfo, Require(Permission.AUDIT_READ)],
                  after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, object]]:
    """Audit entries after position ``after``: who, what, when, which object, and details that
    hold no query (a keyed digest instead), justification or name."""
    return [_json.audit_entry_json(e) for e in vault.audit_entries(after=after, limit=limit, reader=user)]


@router.get("/cases/{case}/audit", responses=errors(403, 404), response_model=list[AuditEntryOut])
def case_audit(vault: VaultDep, user: CurrentUser, case: VisibleCase,
               after: Annotated[int, Query(ge=0, le=2**62)] = 0,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, object]]:
    """The case's audit entries for its reviewers, search queries included (admins read digests)."""
    require(user, Permission.AUDIT_READ_CASE, case.id)
    return [_json.audit_entry_json(e) for e in vault.case_audit(case, user, after=after, limit=limit)]


@router.get("/audit/verify", response_model=None, responses={
    200: {"model": AuditReportOut, "description": "the chain is intact"},
    409: {"model": AuditReportOut, "description": "the chain breaks at ``first_broken``"}, **errors(403)})
def audit_verify(vault: VaultDep, user: Annotated[UserInfo, Require(Permission.AUDIT_VERIFY)]) -> JSONResponse:
    """Walk the hash chain; 200 when intact, 409 naming the first broken position."""
    report = vault.verify_audit()
    return JSONResponse(_json.audit_report_json(report), status_code=200 if report.intact else 409)


@router.get("/audit/export", response_class=StreamingResponse, responses={
    200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
          "description": "the signed export, JSON lines: `casevault audit verify --file` checks it"},
    **errors(403, 409)})
def audit_export(vault: VaultDep, user: Annotated[UserInfo, Require(Permission.AUDIT_EXPORT)]) -> StreamingResponse:
    """The audit log's signed off-host copy (who, what, which object, when; never details),
    audited as ``audit.export``; 409 when the chain is broken (nothing is exported)."""
    return export_response(vault.export_audit(actor=actor(user), reader=user))

