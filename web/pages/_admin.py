"""Administration: users, their memberships and access keys, encryption keys, the audit log.
Admins manage access, never content: what they grant waits for a reviewer of the case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from redaction import Permission, Role
from vault import UserInfo
from vault.errors import Forbidden, InvalidInput
from web._export import export_response
from web._input import MAX_POSITION
from web._pages import actor, render, see_other
from web.deps import PostedForm, Require, SignedIn, VaultDep, visible_case

router = APIRouter()
AUDIT_PAGE = 50
UserManager = Annotated[UserInfo, Require(Permission.USER_MANAGE)]
KeyManager = Annotated[UserInfo, Require(Permission.ACCESS_KEY_MANAGE)]


@router.get("/admin/users")
def admin_users(request: Request, vault: VaultDep, session: SignedIn, _admin: UserManager) -> HTMLResponse:
    cases = vault.cases()
    names = {c.id: c.name for c in cases}
    rows = [(u, sorted(names.get(c, "?") for c in u.cases)) for u in vault.users()]
    return render(request, "admin_users.html", session, users=rows, cases=cases,
                  roles=[r.value for r in Role])


@router.post("/admin/users")
def admin_add_user(request: Request, vault: VaultDep, session: SignedIn, values: PostedForm,
                   admin: UserManager) -> HTMLResponse:
    added, code = vault.add_user(str(values.get("name", "")).strip(), str(values.get("role", "")),
                                 cases=tuple(map(str, values.getlist("cases"))), actor=actor(admin), by=admin)
    return render(request, "admin_secrets.html", session, subject=added.name, access_key=None, enrolment_code=code,
                  status=201)


@router.get("/admin/users/{name}")
def admin_user(request: Request, vault: VaultDep, session: SignedIn, _admin: UserManager, name: str) -> HTMLResponse:
    subject = vault.user(name)
    cases = vault.cases()
    return render(request, "admin_user.html", session, subject=subject, cases=cases,
                  keys=vault.access_keys(name), now=datetime.now(UTC), notice=request.query_params.get("notice"))


@router.post("/admin/users/{name}/memberships")
def admin_membership(vault: VaultDep, values: PostedForm, admin: UserManager, name: str) -> RedirectResponse:
    case = visible_case(vault, admin, str(values.get("case", "")), by_id=True)
    vault.set_membership(name, case, member=values.get("member") == "1", actor=actor(admin), by=admin)
    return see_other(f"/admin/users/{name}")


@router.post("/admin/users/{name}/role")
def admin_role(vault: VaultDep, values: PostedForm, admin: UserManager, name: str) -> RedirectResponse:
    vault.set_role(name, str(values.get("role", "")), actor=actor(admin), by=admin)
    return see_other(f"/admin/users/{name}")


@router.post("/admin/users/{name}/active")
def admin_active(vault: VaultDep, values: PostedForm, admin: UserManager, name: str) -> RedirectResponse:
    if name == admin.name:
        raise Forbidden("you cannot disable yourself; ask another admin")
    vault.set_active(name, active=values.get("active") == "1", actor=actor(admin))
    return see_other(f"/admin/users/{name}")


@router.post("/admin/users/{name}/reset-sign-in")
def admin_reset_sign_in(request: Request, vault: VaultDep, session: SignedIn, _form: PostedForm,
                        admin: UserManager, name: str) -> HTMLResponse:
    code = vault.reset_credentials(name, actor=actor(admin), by=admin)
    return render(request, "admin_secrets.html", session, subject=name, access_key=None, enrolment_code=code)


@router.post("/admin/users/{name}/access-keys")
def admin_issue_key(request: Request, vault: VaultDep, session: SignedIn, values: PostedForm,
                    admin: KeyManager, name: str) -> HTMLResponse:
    days = str(values.get("days", "")).strip()
    try:
        valid_days = float(days) if days else None
    except ValueError:
        valid_days = -1.0
    if valid_days is not None and not 0 < valid_days <= 3650:  # as the API: past it, a date overflows
        raise InvalidInput("give the days as a number above 0 and at most 3650, "
                           "or leave it empty for a key that does not expire")
    expires = datetime.now(UTC) + timedelta(days=valid_days) if valid_days is not None else None
    _, key = vault.issue_access_key(name, expires_at=expires, actor=actor(admin), by=admin)
    return render(request, "admin_secrets.html", session, subject=name, access_key=key, enrolment_code=None,
                  status=201)


@router.post("/admin/access-keys/{key_id}/revoke")
def admin_revoke_key(vault: VaultDep, values: PostedForm, admin: KeyManager, key_id: str) -> RedirectResponse:
    vault.revoke_access_key(key_id, actor=actor(admin), by=admin)
    owner = str(values.get("user", ""))
    return see_other(f"/admin/users/{quote(owner, safe='')}?notice=revoked" if owner else "/admin/users")


@router.get("/admin/keys")
def admin_keys(request: Request, vault: VaultDep, session: SignedIn,
               _admin: Annotated[UserInfo, Require(Permission.KEY_STATUS)]) -> HTMLResponse:
    return render(request, "admin_keys.html", session, key_status=vault.key_status(), notice=None)


@router.post("/admin/keys/rotate")
def admin_rotate_keys(request: Request, vault: VaultDep, session: SignedIn, _form: PostedForm,
                      admin: Annotated[UserInfo, Require(Permission.KEY_ROTATE)]) -> HTMLResponse:
    """A new version of every case key; what older versions protect still decrypts."""
    status = vault.rotate_keys(actor=actor(admin))
    return render(request, "admin_keys.html", session, key_status=status,
                  notice="Every case key has a new version: new documents are encrypted under it, and what older "
                         "versions protect still decrypts. `casevault keys rewrap` moves document keys to the newest "
                         "version.")


@router.post("/admin/keys/master/rotate")
def admin_rotate_master(request: Request, vault: VaultDep, session: SignedIn, _form: PostedForm,
                        admin: Annotated[UserInfo, Require(Permission.KEY_ROTATE)]) -> HTMLResponse:
    """A new master key version, every key rewrapped under it (or an interrupted rewrap finished)."""
    version, resumed = vault.rotate_master(actor=actor(admin))
    done = "The interrupted rewrap is finished" if resumed else f"Master key v{version} is made"
    return render(request, "admin_keys.html", session, key_status=vault.key_status(),
                  notice=f"{done}: every system, case and scope key is wrapped by v{version}. Older versions can "
                         "now be retired.")


@router.post("/admin/keys/master/retire")
def admin_retire_master(request: Request, vault: VaultDep, session: SignedIn, values: PostedForm,
                        admin: Annotated[UserInfo, Require(Permission.KEY_ROTATE)]) -> HTMLResponse:
    """Retire an older master key version (refused while any key depends on it)."""
    try:
        version = int(str(values.get("version", "")))
    except ValueError:
        version = 0
    if not 1 <= version < 2**31:  # a 32-bit column
        raise InvalidInput("choose a master key version to retire")
    status = vault.retire_master(version, actor=actor(admin))
    return render(request, "admin_keys.html", session, key_status=status,
                  notice=f"Master key v{version} is retired: its key is destroyed, and anything still naming it "
                         "can no longer be opened.")


@router.get("/admin/audit")
def admin_audit(request: Request, vault: VaultDep, session: SignedIn,
                reader: Annotated[UserInfo, Require(Permission.AUDIT_READ)], after: int = 0) -> HTMLResponse:
    if not 0 <= after <= MAX_POSITION:
        raise InvalidInput("after is a position, 0 or more")
    entries = vault.audit_entries(after=after, limit=AUDIT_PAGE, reader=reader)
    return render(request, "admin_audit.html", session, entries=entries, after=after, page=AUDIT_PAGE,
                  report=None)


@router.post("/admin/audit/verify")
def admin_audit_verify(request: Request, vault: VaultDep, session: SignedIn, _form: PostedForm,
                       reader: Annotated[UserInfo, Require(Permission.AUDIT_VERIFY)]) -> HTMLResponse:
    report = vault.verify_audit()
    entries = vault.audit_entries(after=0, limit=AUDIT_PAGE, reader=reader)
    return render(request, "admin_audit.html", session, entries=entries, after=0, page=AUDIT_PAGE, report=report,
                  status=200 if report.intact else 409)


@router.post("/admin/audit/export")
def admin_audit_export(vault: VaultDep, _form: PostedForm,
                       admin: Annotated[UserInfo, Require(Permission.AUDIT_EXPORT)]) -> StreamingResponse:
    """Download the signed export (audited as ``audit.export``); the fingerprint to check it
    against is on /admin/keys."""
    return export_response(vault.export_audit(actor=actor(admin), reader=admin))
