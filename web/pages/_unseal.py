"""The unseal page: custodians of a sealed server give their shares one at a time
(``web._sealed``). No session exists while sealed, so the form carries the double-submit token of
the sign-in forms. A share is never shown back; the page says how many are given."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from keys import KeyringError
from vault.errors import Conflict
from web._sealed import Unsealer
from web.deps import SignInForm
from web.pages._sign_in import with_sign_in_token

router = APIRouter()


def _page(request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
    unsealer: Unsealer = request.app.state.unsealer
    return with_sign_in_token(request, "unseal.html", status, seal=unsealer.status(), error=error)


@router.get("/unseal")
def unseal_page(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("/unseal")
def give_share(request: Request, values: SignInForm) -> HTMLResponse:
    unsealer: Unsealer = request.app.state.unsealer
    try:
        unsealer.give(values.get("share", ""))
    except (KeyringError, Conflict) as error:  # the share did not count; say why, never what it was
        return _page(request, 400, str(error))
    return _page(request)


@router.post("/unseal/reset")
def reset_shares(request: Request, _values: SignInForm) -> HTMLResponse:
    request.app.state.unsealer.reset()
    return _page(request)
