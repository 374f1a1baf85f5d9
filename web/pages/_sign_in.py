"""Signing in and out, the landing page, and enrolment (where a new or reset user redeems their
one-time code and sets their own credentials: nobody else chooses their secrets)."""

from __future__ import annotations

import pyotp
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from redaction import Permission, holds
from vault import SignInFailed
from vault.errors import InvalidInput
from web import _sessions
from web._pages import actor, render, see_other
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


@router.get("/login")
def login_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return with_sign_in_token(request, "login.html", error=None, name="", second_factor=settings.second_factor)


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
        return with_sign_in_token(request, "login.html", 401, error=str(error), name=name,
                                   second_factor=settings.second_factor)
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


def _enrol_page(request: Request, second_factor: bool, status: int = 200, error: str | None = None) -> HTMLResponse:
    secret = pyotp.random_base32()
    return with_sign_in_token(request, "enrol.html", status, error=error, secret=secret,
                               uri=pyotp.TOTP(secret).provisioning_uri(name="casevault user", issuer_name="casevault"),
                               second_factor=second_factor)


@router.get("/enrol")
def enrol_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Where a new (or reset) user redeems their enrolment code: nobody else chooses their secrets."""
    return _enrol_page(request, settings.second_factor)


@router.post("/enrol")
def enrol(request: Request, vault: VaultDep, settings: SettingsDep, values: EnrolForm) -> HTMLResponse:
    if values.get("password") != values.get("repeat"):
        return _enrol_page(request, settings.second_factor, 400, "the password and its repetition differ")
    code = values.get("code") or None
    try:
        enrolled, key = vault.enrol(values.get("enrolment_code", "").strip(), password=values.get("password", ""),
                                    totp_secret=values.get("secret") if code else None, totp_code=code,
                                    totp_required=settings.second_factor, client="web")
    except InvalidInput as error:
        return _enrol_page(request, settings.second_factor, 400, str(error))
    response = render(request, "enrolled.html", None, 201, name=enrolled.name, access_key=key)
    _sessions.clear_cookie(response, request.app.state.cookies, request.app.state.cookies.sign_in)
    return response
