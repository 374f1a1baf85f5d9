"""Browser sessions for the pages: the cookie, CSRF checks and sign-in throttling.

The session lives on the server (vault ``web_session``); the browser holds only its token, in a
cookie that is ``__Host-`` prefixed, Secure, HttpOnly and SameSite=Strict. Only the demo, served
over plain http on a loopback address, drops the prefix and Secure (browsers refuse both there).

Every state change is a POST that must carry the session's CSRF token in a form field, and must
not come from another site (``Sec-Fetch-Site`` / ``Origin``): Starlette has no CSRF protection of its
own. The sign-in form, made before there is a session, carries a token that must equal a short-
lived cookie of its own (double submit).

Failed sign-ins are counted per user name and per client address over a sliding hour; past the
limit, sign-in answers 429 until the oldest failures age out. Nobody is ever locked out for good.
The counts live in this process: behind several app nodes, each counts its own.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from vault import SessionEnded, Settings, Vault, WebSession
from vault.errors import Forbidden, VaultError

FAILURES_PER_HOUR = 100
WINDOW_SECONDS = 3600.0
SIGN_IN_COOKIE_SECONDS = 600


class TooManyAttempts(VaultError):
    """Too many failed sign-ins for a user name or an address within the hour."""

    code = "TOO_MANY_ATTEMPTS"


class CrossSiteRequest(Forbidden):
    code = "CSRF"


@dataclass(frozen=True, slots=True)
class CookieNames:
    session: str
    sign_in: str
    secure: bool


def cookie_names(settings: Settings) -> CookieNames:
    if settings.secure_cookies:
        return CookieNames("__Host-casevault", "__Host-casevault-signin", True)
    return CookieNames("casevault", "casevault-signin", False)


def set_cookie(response: Response, names: CookieNames, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=names.secure, httponly=True,
                        samesite="strict")


def clear_cookie(response: Response, names: CookieNames, name: str) -> None:
    response.delete_cookie(name, path="/", secure=names.secure, httponly=True, samesite="strict")


class Throttle:
    """Failed sign-ins per key (a user name, an address) over a sliding window."""

    def __init__(self, limit: int = FAILURES_PER_HOUR, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, *keys: str) -> None:
        """TooManyAttempts if any key is past the limit, saying when to try again."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.limit:
                    wait = int(failures[0] + self.window - now) // 60 + 1
                    raise TooManyAttempts(f"too many failed sign-ins; try again in {wait} minutes")

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # forget quiet keys rather than grow without end
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]


def _vault(request: Request) -> Vault:
    return request.app.state.services.vault


def page_session(request: Request) -> WebSession:
    """The signed-in session of the request's cookie; SessionEnded (a redirect to sign-in) if none."""
    names: CookieNames = request.app.state.cookies
    token = request.cookies.get(names.session)
    if not token:
        raise SessionEnded("sign in to continue")
    return _vault(request).web_session(token)


SignedIn = Annotated[WebSession, Depends(page_session)]


def check_same_site(request: Request) -> None:
    """Refuse a state change that a browser says another site sent, whatever it carries.
    (``Origin: null`` says nothing: under ``Referrer-Policy: no-referrer`` browsers send it for
    their own forms too; the CSRF token decides then.)"""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise CrossSiteRequest("this form was sent from another site, so it was refused")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null" and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
        raise CrossSiteRequest("this form was sent from another site, so it was refused")


def check_csrf(request: Request, session: WebSession, token: str | None) -> None:
    """A state change must come from this site and carry the session's CSRF token."""
    check_same_site(request)
    if not token or not secrets.compare_digest(token.encode(), session.csrf.encode()):
        raise CrossSiteRequest("this form has expired or did not come from casevault; reload the page and "
                               "try again")


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(24)


def check_sign_in_token(request: Request, token: str | None) -> None:
    check_same_site(request)
    names: CookieNames = request.app.state.cookies
    cookie = request.cookies.get(names.sign_in)
    if not token or not cookie or not secrets.compare_digest(token.encode(), cookie.encode()):
        raise CrossSiteRequest("the sign-in form has expired; reload the page and try again")
