"""Administration of cases: create one, and add or remove its members. Admins manage access,
never content: a membership an admin adds waits for a reviewer of the case to confirm it
(``vault._confirmations``); the page says so, and lists who waits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from redaction import Permission
from vault import UserInfo
from web._forms import require_confirmed
from web._pages import actor, render, see_other
from web.deps import OneTimeFormsDep, PostedForm, Require, SignedIn, VaultDep, visible_case

router = APIRouter()
CaseManager = Annotated[UserInfo, Require(Permission.CASE_MANAGE)]
UserManager = Annotated[UserInfo, Require(Permission.USER_MANAGE)]

NOTICES = {
    "case-created": "The case is created, with its own key. Add its members below: each one reaches the case once a "
                    "reviewer of the case confirms it (the operator confirms the first reviewer: "
                    "`casevault user confirm`).",
    "member-added": "The membership is made; it reaches content once a reviewer of the case confirms it.",
    "member-removed": "The membership is removed; it ends at the user's next request.",
}


@router.get("/admin/cases")
def admin_cases(request: Request, vault: VaultDep, session: SignedIn, admin: CaseManager) -> HTMLResponse:
    people, cases = vault.users(), vault.cases(admin)
    members = {c.id: sum(1 for u in people if c.id in u.cases) for c in cases}
    waiting = {c.id: sum(1 for u in people if c.id in u.pending) for c in cases}
    return render(request, "admin_cases.html", session, cases=cases, members=members, waiting=waiting)


@router.post("/admin/cases")
def admin_create_case(vault: VaultDep, session: SignedIn, values: PostedForm, forms: OneTimeFormsDep,
                      admin: CaseManager) -> RedirectResponse:
    """A new case; once per form (a resent form is refused rather than answered "exists already")."""
    forms.spend(session, "case.create", str(values.get("once") or ""))
    created = vault.create_case(str(values.get("name", "")), actor=actor(admin),
                                archive_scope=values.get("archive_scope") == "1")
    return see_other(f"/admin/cases/{created.id}?notice=case-created")


@router.get("/admin/cases/{case_id}")
def admin_case(request: Request, vault: VaultDep, session: SignedIn, admin: UserManager, case_id: str) -> HTMLResponse:
    case = visible_case(vault, admin, case_id, by_id=True)
    people = vault.users()
    return render(request, "admin_case.html", session, case=case,
                  members=[u for u in people if case.id in u.cases], waiting=[u for u in people if case.id in u.pending],
                  others=[u for u in people if case.id not in u.cases and case.id not in u.pending],
                  notice=NOTICES.get(request.query_params.get("notice", "")))


@router.post("/admin/cases/{case_id}/memberships")
def admin_case_membership(vault: VaultDep, values: PostedForm, admin: UserManager, case_id: str) -> RedirectResponse:
    """Add a user to the case (waiting for a reviewer's confirmation) or remove them (asked first)."""
    case = visible_case(vault, admin, case_id, by_id=True)
    name = str(values.get("user", ""))
    member = values.get("member") == "1"
    if not member:
        require_confirmed(values, f"{name} loses this case")
    vault.set_membership(name, case, member=member, actor=actor(admin), by=admin)
    return see_other(f"/admin/cases/{case.id}?notice=" + ("member-added" if member else "member-removed"))
