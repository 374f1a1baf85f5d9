"""Confirmations: memberships and credentials an admin made wait here for a reviewer of the
case (admins grant access, reviewers let it reach content; never one's own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from redaction import Permission
from vault import UserInfo
from web._pages import actor, render, see_other
from web.deps import PostedForm, Require, SignedIn, VaultDep

router = APIRouter()
# (the words are those the page always had)
Confirmer = Annotated[UserInfo, Require(Permission.MEMBERSHIP_CONFIRM, "only reviewers review documents")]


@router.get("/confirmations")
def confirmations_page(request: Request, vault: VaultDep, session: SignedIn, user: Confirmer) -> HTMLResponse:
    """Memberships waiting for this reviewer: admins grant access, reviewers let it reach content."""
    names = {c.id: c.name for c in vault.cases()}
    return render(request, "confirmations.html", session, rows=vault.confirmations(user), case_names=names,
                  notice=request.query_params.get("notice"))


@router.post("/confirmations/{confirmation_id}")
def confirm(vault: VaultDep, values: PostedForm, user: Confirmer, confirmation_id: str) -> RedirectResponse:
    approve = values.get("approve") == "1"
    vault.confirm(confirmation_id, approve=approve, actor=actor(user), by=user)
    return see_other("/confirmations?notice=" + ("confirmed" if approve else "refused"))
