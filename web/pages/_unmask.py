"""A case's identities, and unmask requests: an investigator asks (from a document), another
reviewer of the case decides, and may revoke a grant before it expires."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from redaction import Permission, holds
from vault import UserInfo
from vault.errors import InvalidInput
from web._pages import actor, render, see_other
from web.deps import PostedForm, Require, SignedIn, VaultDep, VisibleCaseById, require

router = APIRouter()


@router.get("/cases/{case_id}/identities")
def identities_page(request: Request, vault: VaultDep, session: SignedIn, case: VisibleCaseById) -> HTMLResponse:
    require(session.user, Permission.IDENTITY_READ, case.id,
            refusal="not allowed: identities are for the case's investigators and reviewers")
    rows = vault.identity_listing(case, session.user, actor=actor(session.user))
    return render(request, "identities.html", session, case=case, rows=rows)


@router.get("/unmask")
def unmask_page(request: Request, vault: VaultDep, session: SignedIn, user: Annotated[UserInfo, Require(
        Permission.IDENTITY_READ, "not allowed: unmask requests are for investigators and reviewers")],
        ) -> HTMLResponse:
    cases = [c for c in vault.cases() if c.id in user.cases]
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
def unmask_decide(vault: VaultDep, session: SignedIn, values: PostedForm, request_id: str) -> RedirectResponse:
    try:
        hours = float(values.get("hours") or 24)
    except ValueError:
        raise InvalidInput("give the hours as a number") from None
    if not 0 < hours <= 30 * 24:
        raise InvalidInput("a grant lasts from a few minutes to 30 days (720 hours)")
    approve = values.get("approve") == "1"
    vault.decide_unmask(request_id, session.user, approve=approve, valid_for=timedelta(hours=hours),
                        actor=actor(session.user))
    return see_other("/unmask")


@router.post("/unmask/{request_id}/revoke")
def unmask_revoke(vault: VaultDep, session: SignedIn, _form: PostedForm, request_id: str) -> RedirectResponse:
    vault.revoke_unmask(request_id, session.user, actor=actor(session.user))
    return see_other("/unmask")
