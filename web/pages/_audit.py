"""The audit log for admins: newest first, filtered by who, what and when, the chain's head, a
verification of the whole chain, and exports: the filtered entries as CSV or JSON, and the signed
copy for safekeeping off the host. Admins read who did what to which object, never a query, a
justification or a name (``Vault.audit_listing`` keeps the details to ids, counts and fixed words):
a person acting or acted upon is shown by user name, a case by a neutral label and its id."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from redaction import Permission
from vault import AuditEntry, AuditFilter, UserInfo, Vault
from vault.errors import InvalidInput
from web._export import export_response
from web._input import MAX_POSITION
from web._pages import actor, render, see_other
from web.deps import PostedForm, Require, SignedIn, VaultDep

router = APIRouter()
AUDIT_PAGE = 50
MAX_EXPORT = 100_000  # entries in one CSV or JSON export: narrow the filter for more
Reader = Annotated[UserInfo, Require(Permission.AUDIT_READ)]
Exporter = Annotated[UserInfo, Require(Permission.AUDIT_EXPORT)]
FIELDS = ("actor", "action", "since", "until")
COLUMNS = ("seq", "at", "actor", "action", "target", "target_name", "details")


def _day(values: dict[str, str], field: str) -> date | None:
    text = values.get(field, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"give {field} as a date, YYYY-MM-DD") from None


def _filter(values: dict[str, str]) -> AuditFilter:
    """The filter a form or a query string names; ``until`` is a whole day, included."""
    since, until = _day(values, "since"), _day(values, "until")
    if since and until and until < since:
        raise InvalidInput("the range ends before it begins")
    return AuditFilter(actor=values.get("actor", "").strip()[:200] or None,
                       action=values.get("action", "").strip()[:60] or None,
                       since=datetime.combine(since, time(), UTC) if since else None,
                       until=datetime.combine(until, time(), UTC) + timedelta(days=1) if until else None)


def _names(vault: Vault) -> dict[str, str]:
    """What an admin may call an id: a user by name; a case by a neutral label (not its name)."""
    return {u.id: u.name for u in vault.users()} | {c.id: f"case {c.id[:8]}" for c in vault.cases()}


def _row(entry: AuditEntry, names: dict[str, str]) -> dict[str, object]:
    return {"seq": entry.seq, "at": entry.at.strftime("%Y-%m-%d %H:%M:%S"), "actor": entry.actor,
            "action": entry.action, "target": entry.target or "",
            "target_name": names.get(entry.target or "", ""), "details": entry.details or {}}


@router.get("/admin/audit")
def admin_audit(request: Request, vault: VaultDep, session: SignedIn, reader: Reader,
                before: int | None = None) -> HTMLResponse:
    if before is not None and not 1 <= before <= MAX_POSITION:
        raise InvalidInput("before is a position, 1 or more")
    chosen = {f: request.query_params.get(f, "") for f in FIELDS}
    listing = vault.audit_listing(_filter(chosen), before=before, limit=AUDIT_PAGE, reader=reader)
    names = _names(vault)
    query = urlencode({k: v for k, v in chosen.items() if v})
    verified = request.query_params.get("verified")
    return render(request, "admin_audit.html", session, rows=[_row(e, names) for e in listing.entries],
                  listing=listing, chosen=chosen, query=query, page=AUDIT_PAGE, before=before,
                  users=sorted(u.name for u in vault.users()),
                  verified=verified if verified in ("intact", "broken") else None,
                  verified_at=request.query_params.get("at", ""))


@router.post("/admin/audit/verify")
def admin_audit_verify(vault: VaultDep, _form: PostedForm,
                       _reader: Annotated[UserInfo, Require(Permission.AUDIT_VERIFY)]) -> RedirectResponse:
    """Walk the whole chain; the page then says whether it holds (where it breaks, if it does)."""
    report = vault.verify_audit()
    found = {"verified": "intact"} if report.intact else {"verified": "broken", "at": str(report.first_broken)}
    return see_other("/admin/audit?" + urlencode(found))


def _entries(vault: Vault, where: AuditFilter, reader: UserInfo) -> list[AuditEntry]:
    listing = vault.audit_listing(where, limit=MAX_EXPORT + 1, reader=reader)
    if len(listing.entries) > MAX_EXPORT:
        raise InvalidInput(f"more than {MAX_EXPORT:,} entries match: narrow the filter (a shorter date range)")
    return listing.entries


def _download(body: str, media_type: str, name: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/admin/audit/entries.csv")
def admin_audit_csv(vault: VaultDep, values: PostedForm, admin: Exporter) -> Response:
    """The filtered entries as CSV, newest first (audited as ``audit.export`` before it leaves)."""
    entries = _entries(vault, _filter({f: str(values.get(f) or "") for f in FIELDS}), admin)
    names = _names(vault)
    vault.record(actor=actor(admin), action="audit.export", details={"format": "csv"})
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    for entry in entries:
        row = _row(entry, names)
        # a cell a spreadsheet would read as a formula is quoted as text
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@\t\r" else v)
                         for k, v in (row | {"details": json.dumps(row["details"], sort_keys=True)}).items()})
    return _download(out.getvalue(), "text/csv; charset=utf-8", "casevault-audit.csv")


@router.post("/admin/audit/entries.json")
def admin_audit_json(vault: VaultDep, values: PostedForm, admin: Exporter) -> Response:
    """The filtered entries as JSON, newest first (audited as ``audit.export`` before it leaves)."""
    entries = _entries(vault, _filter({f: str(values.get(f) or "") for f in FIELDS}), admin)
    names = _names(vault)
    vault.record(actor=actor(admin), action="audit.export", details={"format": "json"})
    body = json.dumps([_row(e, names) | {"at": e.at.isoformat()} for e in entries], indent=1)
    return _download(body, "application/json", "casevault-audit.json")


@router.post("/admin/audit/export")
def admin_audit_export(vault: VaultDep, _form: PostedForm, admin: Exporter) -> StreamingResponse:
    """Download the signed export (audited as ``audit.export``); the fingerprint to check it
    against is on /admin/keys."""
    return export_response(vault.export_audit(actor=actor(admin), reader=admin))
