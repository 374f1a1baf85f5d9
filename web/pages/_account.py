"""One's own account: the password, and a second factor enrolled by its owner only."""

from __future__ import annotations

import pyotp
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from vault import WebSession
from vault.errors import Forbidden, InvalidInput
from web._pages import actor, render, see_other
from web.deps import PostedForm, SignedIn, VaultDep

router = APIRouter()


@router.get("/account")
def account(request: Request, vault: VaultDep, session: SignedIn) -> HTMLResponse:
    return render(request, "account.html", session, second_factor=vault.has_second_factor(session.user),
                  notice=request.query_params.get("notice"))


@router.post("/account/password")
def change_password(vault: VaultDep, session: SignedIn, values: PostedForm) -> RedirectResponse:
    if values.get("new") != values.get("repeat"):
        raise InvalidInput("the new password and its repetition differ")
    vault.change_password(session.user, str(values.get("current", "")), str(values.get("new", "")),
                          actor=actor(session.user))
    return see_other("/account?notice=password")


def _own(session: WebSession, name: str) -> None:
    if name != session.user.name:
        raise Forbidden("a second factor is enrolled by its owner, signed in as themselves")


@router.get("/users/{name}/second-factor")
def second_factor_page(request: Request, session: SignedIn, name: str) -> HTMLResponse:
    _own(session, name)
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name="casevault")
    return render(request, "second_factor.html", session, secret=secret, uri=uri)


@router.post("/users/{name}/second-factor")
def enrol_second_factor(vault: VaultDep, session: SignedIn, values: PostedForm, name: str) -> RedirectResponse:
    _own(session, name)
    vault.enrol_second_factor(session.user, str(values.get("secret", "")), str(values.get("code", "")),
                              actor=actor(session.user))
    return see_other("/account?notice=second-factor")
