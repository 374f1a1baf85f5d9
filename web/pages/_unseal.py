"""The unseal page: custodians of a sealed server give their shares one at a time
(``web._sealed``). No session exists while sealed, so the form carries the double-submit token of
the sign-in forms. A share is never shown back; the page says how many are given. Each POST
answers with a redirect to the page (a reload gives no share again), with a notice code of
``UNSEAL_NOTICES`` that says what became of the share."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from keys import KeyringError, ShareOfAnotherSplit, SharesDoNotOpen
from vault.errors import Conflict
from web._pages import notice, see_other
from web._sealed import Unsealer
from web.deps import SignInForm
from web.pages._sign_in import with_sign_in_token

router = APIRouter()

UNSEAL_NOTICES = {
    "counted": "Your share is counted. The next custodian gives theirs.",
    "forgotten": "The shares given so far are forgotten.",
    "unreadable": "That is not a valid share: a word is misspelt, missing or out of place. Type it again from the "
                  "printed copy.",
    "given-twice": "That share was given already; the next custodian gives theirs.",
    "other-split": "That share belongs to another split (an older `casevault keys split`, or another vault); use "
                   "the shares of the newest split.",
    "do-not-open": "These shares do not open this vault (they belong to another split or were altered); every share "
                   "given is forgotten, nothing was changed.",
    "refused": "The share was not counted.",  # the page's status says why (unsealed already, or no split)
}
ERRORS = frozenset(UNSEAL_NOTICES) - {"counted", "forgotten"}


def _refused(error: Exception) -> str:
    if isinstance(error, ShareOfAnotherSplit):
        return "other-split"
    if isinstance(error, SharesDoNotOpen):
        return "do-not-open"
    if isinstance(error, Conflict):
        return "refused"
    return "given-twice" if "given already" in str(error) else "unreadable"


@router.get("/unseal")
def unseal_page(request: Request) -> HTMLResponse:
    unsealer: Unsealer = request.app.state.unsealer
    code = request.query_params.get("notice", "")
    message = notice(request, UNSEAL_NOTICES)
    return with_sign_in_token(request, "unseal.html", seal=unsealer.status(), error=message if code in ERRORS else None,
                              notice=None if code in ERRORS else message)


@router.post("/unseal")
def give_share(request: Request, values: SignInForm) -> RedirectResponse:
    unsealer: Unsealer = request.app.state.unsealer
    try:
        unsealer.give(values.get("share", ""))
    except (KeyringError, Conflict) as error:  # the share did not count; say why, never what it was
        return see_other("/unseal?notice=" + _refused(error))
    return see_other("/unseal?notice=counted")


@router.post("/unseal/reset")
def reset_shares(request: Request, _values: SignInForm) -> RedirectResponse:
    request.app.state.unsealer.reset()
    return see_other("/unseal?notice=forgotten")
