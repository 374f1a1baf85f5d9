"""Signing in and out, the landing page, and enrolment (where a new or reset user redeems their
one-time code and sets their own credentials: nobody else chooses their secrets).

Every form here answers its POST with a redirect (post-redirect-get: a reload sends nothing again).
A refusal redirects to the form with ``?notice=CODE``, a code of the page's fixed table whose
message the page shows; what was typed (a name, a password, a code) never goes into the URL, and a
code not in the table shows nothing. The access key of a new enrolment goes to the page after the
redirect through ``web._handoff``, shown once."""

from __future__ import annotations

import pyotp
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from redaction import Permission, holds
from vault import EnrolmentFailed, SignInFailed
from vault.errors import InvalidInput
from web import _sessions
from web._handoff import Handoffs
from web._pages import actor, notice, render, see_other
from web.deps import EnrolForm, PostedForm, SettingsDep, SignedIn, SignInForm, VaultDep

router = APIRouter()


def with_sign_in_token(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    """A form made before there is a session: it carries a token that must equal a short-lived
    cookie of its own (double submit)."""
    names = request.app.state.cookies
    token = _sessions.new_sign_in_token()
    response = render(request, template, None, status, sign_in_token=token, **context)
    _sessions.set_cookie(response, names, names.sign_in, token, _sessions.SIGN_IN_COOKIE_SECONDS)
    return response


# a refused sign-in, by the vault's reason (one answer for a wrong name, password or code)
LOGIN_NOTICES = {
    "failed": "The user name, password or code is wrong.",
    "no-second-factor": "Your role needs a second factor and none is enrolled: ask an admin to reset your sign-in.",
}
ENROL_NOTICES = {
    "repeat": "The password and its repetition differ.",
    "password": "A password has 12 to 1024 characters.",
    "code": "The enrolment code is not valid: it may have been used, replaced or expired. Ask an admin for a new one.",
    "second-factor": "Your role needs a second factor: add the secret to your authenticator and type the code it shows.",
    "totp": "That code does not fit the secret: check the authenticator's clock and try again.",
    "secret": "An authenticator secret is 26 or more base32 characters (A-Z, 2-7).",
    "failed": "The enrolment did not go through: check what you typed and try again.",
}
# which notice a refusal's message means (the vault says why in words; the URL carries only a code)
_ENROL_REASONS = (("a password has", "password"), ("needs a second factor", "second-factor"),
                  ("does not fit the secret", "totp"), ("authenticator secret is", "secret"))


@router.get("/login")
def login_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return with_sign_in_token(request, "login.html", error=notice(request, LOGIN_NOTICES), name="",
                              second_factor=settings.second_factor)


@router.post("/login")
def login(request: Request, vault: VaultDep, settings: SettingsDep, values: SignInForm) -> Response:
    name = values.get("name", "").strip().lower()[:100]
    address = _sessions.request_client(request)
    throttle: _sessions.Throttle = request.app.state.throttle
    throttle.check(name, address)
    try:
        signed = vault.sign_in(name, values.get("password", ""), values.get("code"),
                               totp_required=settings.second_factor)
    except SignInFailed as error:
        throttle.failed(name, address)
        return see_other("/login?notice=" + ("no-second-factor" if "second factor" in str(error) else "failed"))
    throttle.succeeded(name, address)
    names = request.app.state.cookies
    response = see_other("/")
    old = request.cookies.get(names.session)
    if old:  # a session that was open in this browser ends: the new one has a new id
        vault.sign_out(old, actor=f"{name} (web)")
    _sessions.set_cookie(response, names, names.session, signed.token, None)
    _sessions.clear_cookie(response, names, names.sign_in)
    return response


@router.post("/logout")
def logout(request: Request, vault: VaultDep, session: SignedIn, _form: PostedForm) -> Response:
    names = request.app.state.cookies
    vault.sign_out(request.cookies.get(names.session, ""), actor=actor(session.user))
    response = see_other("/login")
    _sessions.clear_cookie(response, names, names.session)
    return response


@router.get("/")
def home(session: SignedIn) -> RedirectResponse:
    return see_other("/admin/users" if holds(session.user.actor, Permission.USER_MANAGE) else "/search")


def _enrol_page(request: Request, second_factor: bool) -> HTMLResponse:
    secret = pyotp.random_base32()
    return with_sign_in_token(request, "enrol.html", error=notice(request, ENROL_NOTICES), secret=secret,
                              uri=pyotp.TOTP(secret).provisioning_uri(name="casevault user", issuer_name="casevault"),
                              second_factor=second_factor)


@router.get("/enrol")
def enrol_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Where a new (or reset) user redeems their enrolment code: nobody else chooses their secrets."""
    return _enrol_page(request, settings.second_factor)


def _enrol_refused(error: Exception) -> str:
    if isinstance(error, EnrolmentFailed):
        return "code"
    return next((code for phrase, code in _ENROL_REASONS if phrase in str(error)), "failed")


@router.post("/enrol")
def enrol(request: Request, vault: VaultDep, settings: SettingsDep, values: EnrolForm) -> Response:
    if values.get("password") != values.get("repeat"):
        return see_other("/enrol?notice=repeat")
    code = values.get("code") or None
    try:
        enrolled, key = vault.enrol(values.get("enrolment_code", "").strip(), password=values.get("password", ""),
                                    totp_secret=values.get("secret") if code else None, totp_code=code,
                                    totp_required=settings.second_factor, client="web")
    except (InvalidInput, EnrolmentFailed) as error:
        return see_other("/enrol?notice=" + _enrol_refused(error))
    names = request.app.state.cookies
    handoffs: Handoffs = request.app.state.handoffs
    response = see_other("/enrol/done")
    _sessions.set_cookie(response, names, names.sign_in + "-enrolled", handoffs.keep((enrolled.name, key)),
                         _sessions.SIGN_IN_COOKIE_SECONDS)
    _sessions.clear_cookie(response, names, names.sign_in)
    return response


@router.get("/enrol/done")
def enrolled(request: Request) -> HTMLResponse:
    """The access key of the enrolment just made, once: a reload finds it gone (web._handoff)."""
    names = request.app.state.cookies
    handoffs: Handoffs = request.app.state.handoffs
    kept = handoffs.take(request.cookies.get(names.sign_in + "-enrolled"))
    name, key = kept if kept else (None, None)
    response = render(request, "enrolled.html", None, name=name, access_key=key)
    _sessions.clear_cookie(response, names, names.sign_in + "-enrolled")
    return response
