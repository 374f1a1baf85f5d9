"""Administration: users, their memberships and access keys, encryption keys (the audit log is in ``_audit``).
Admins manage access, never content: what they grant waits for a reviewer of the case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from redaction import Permission, Role
from vault import UserInfo
from vault.errors import Forbidden, InvalidInput
from web._forms import require_confirmed
from web._pages import actor, render, see_other
from web.deps import OneTimeFormsDep, PostedForm, Require, SignedIn, VaultDep, visible_case

router = APIRouter()
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
def admin_add_user(request: Request, vault: VaultDep, session: SignedIn, values: PostedForm, forms: OneTimeFormsDep,
                   admin: UserManager) -> HTMLResponse:
    """The one-time code is shown in this answer only (never stored in clear, never in a URL or a
    cookie, never cached); a reload sends the form's spent token and is refused."""
    forms.spend(session, "user.add", str(values.get("once") or ""))
    added, code = vault.add_user(str(values.get("name", "")).strip(), str(values.get("role", "")),
                                 cases=tuple(map(str, values.getlist("cases"))), actor=actor(admin), by=admin)
    return render(request, "admin_secrets.html", session, subject=added.name, access_key=None, enrolment_code=code,
                  status=201)


@router.get("/admin/users/{name}")
def admin_user(request: Request, vault: VaultDep, session: SignedIn, _admin: UserManager, name: str) -> HTMLResponse:
    subject = vault.user(name)
    cases = vault.cases()
    return render(request, "admin_user.html", session, subject=subject, cases=cases,
                  keys=vault.access_keys(name), now=datetime.now(UTC), notice=request.query_params.get("notice"),
                  roles=[r.value for r in Role])


@router.post("/admin/users/{name}/memberships")
def admin_membership(vault: VaultDep, values: PostedForm, admin: UserManager, name: str) -> RedirectResponse:
    case = visible_case(vault, admin, str(values.get("case", "")), by_id=True)
    member = values.get("member") == "1"
    if not member:
        require_confirmed(values, f"{name} loses this case")
    vault.set_membership(name, case, member=member, actor=actor(admin), by=admin)
    return see_other(f"/admin/users/{quote(name, safe='')}?notice=" + ("member-added" if member else "member-removed"))


@router.post("/admin/users/{name}/role")
def admin_role(vault: VaultDep, values: PostedForm, admin: UserManager, name: str) -> RedirectResponse:
    vault.set_role(name, str(values.get("role", "")), actor=actor(admin), by=admin)
    return see_other(f"/admin/users/{quote(name, safe='')}?notice=role")


@router.post("/admin/users/{name}/active")
def admin_active(vault: VaultDep, values: PostedForm, admin: UserManager, name: str) -> RedirectResponse:
    if name == admin.name:
        raise Forbidden("you cannot disable yourself; ask another admin")
    active = values.get("active") == "1"
    if not active:
        require_confirmed(values, f"disabling {name} ends their sessions and refuses their access keys")
    vault.set_active(name, active=active, actor=actor(admin))
    return see_other(f"/admin/users/{quote(name, safe='')}?notice=" + ("enabled" if active else "disabled"))


@router.post("/admin/users/{name}/reset-sign-in")
def admin_reset_sign_in(request: Request, vault: VaultDep, session: SignedIn, values: PostedForm,
                        forms: OneTimeFormsDep, admin: UserManager, name: str) -> HTMLResponse:
    """A new enrolment code, shown in this answer only; a reload is refused (the form's token is spent)."""
    require_confirmed(values, f"resetting {name}'s credentials ends their password, second factor and access keys")
    forms.spend(session, "user.reset", str(values.get("once") or ""))
    code = vault.reset_credentials(name, actor=actor(admin), by=admin)
    return render(request, "admin_secrets.html", session, subject=name, access_key=None, enrolment_code=code)


@router.post("/admin/users/{name}/access-keys")
def admin_issue_key(request: Request, vault: VaultDep, session: SignedIn, values: PostedForm, forms: OneTimeFormsDep,
                    admin: KeyManager, name: str) -> HTMLResponse:
    """The new key, shown in this answer only; a reload is refused (the form's token is spent)."""
    days = str(values.get("days", "")).strip()
    try:
        valid_days = float(days) if days else None
    except ValueError:
        valid_days = -1.0
    if valid_days is not None and not 0 < valid_days <= 3650:  # as the API: past it, a date overflows
        raise InvalidInput("give the days as a number above 0 and at most 3650, "
                           "or leave it empty for a key that does not expire")
    forms.spend(session, "key.issue", str(values.get("once") or ""))
    expires = datetime.now(UTC) + timedelta(days=valid_days) if valid_days is not None else None
    _, key = vault.issue_access_key(name, expires_at=expires, actor=actor(admin), by=admin)
    return render(request, "admin_secrets.html", session, subject=name, access_key=key, enrolment_code=None,
                  status=201)


@router.post("/admin/access-keys/{key_id}/revoke")
def admin_revoke_key(vault: VaultDep, values: PostedForm, admin: KeyManager, key_id: str) -> RedirectResponse:
    require_confirmed(values, "a revoked key cannot be used again")
    vault.revoke_access_key(key_id, actor=actor(admin), by=admin)
    owner = str(values.get("user", ""))
    return see_other(f"/admin/users/{quote(owner, safe='')}?notice=revoked" if owner else "/admin/users")


KEY_NOTICES = {
    "case-keys-rotated": "Every case key has a new version: new documents are encrypted under it, and what older "
                         "versions protect still decrypts. `casevault keys rewrap` moves document keys to the newest "
                         "version.",
    "master-rotated": "A new master key version is made: every system, case and scope key is wrapped by it. Older "
                      "versions can now be retired.",
    "master-resumed": "The interrupted rewrap is finished: every system, case and scope key is wrapped by the newest "
                      "master key version. Older versions can now be retired.",
    "master-retired": "The master key version is retired: its key is destroyed, and anything still naming it can no "
                      "longer be opened.",
}
KeyRotator = Annotated[UserInfo, Require(Permission.KEY_ROTATE)]


@router.get("/admin/keys")
def admin_keys(request: Request, vault: VaultDep, session: SignedIn,
               _admin: Annotated[UserInfo, Require(Permission.KEY_STATUS)]) -> HTMLResponse:
    return render(request, "admin_keys.html", session, key_status=vault.key_status(),
                  notice=KEY_NOTICES.get(request.query_params.get("notice", "")))


@router.post("/admin/keys/rotate")
def admin_rotate_keys(vault: VaultDep, session: SignedIn, values: PostedForm, forms: OneTimeFormsDep,
                      admin: KeyRotator) -> RedirectResponse:
    """A new version of every case key; what older versions protect still decrypts. Once per form:
    a resent form is refused rather than rotating again."""
    require_confirmed(values, "every case key gets a new version")
    forms.spend(session, "keys.rotate", str(values.get("once") or ""))
    vault.rotate_keys(actor=actor(admin))
    return see_other("/admin/keys?notice=case-keys-rotated")


@router.post("/admin/keys/master/rotate")
def admin_rotate_master(vault: VaultDep, session: SignedIn, values: PostedForm, forms: OneTimeFormsDep,
                        admin: KeyRotator) -> RedirectResponse:
    """A new master key version, every key rewrapped under it (or an interrupted rewrap finished)."""
    require_confirmed(values, "a new master key version wraps every key")
    forms.spend(session, "keys.master.rotate", str(values.get("once") or ""))
    _, resumed = vault.rotate_master(actor=actor(admin))
    return see_other("/admin/keys?notice=" + ("master-resumed" if resumed else "master-rotated"))


@router.post("/admin/keys/master/retire")
def admin_retire_master(vault: VaultDep, values: PostedForm, admin: KeyRotator) -> RedirectResponse:
    """Retire an older master key version (refused while any key depends on it, and once retired)."""
    try:
        version = int(str(values.get("version", "")))
    except ValueError:
        version = 0
    if not 1 <= version < 2**31:  # a 32-bit column
        raise InvalidInput("choose a master key version to retire")
    require_confirmed(values, f"retiring master key v{version} destroys it")
    vault.retire_master(version, actor=actor(admin))
    return see_other("/admin/keys?notice=master-retired")
