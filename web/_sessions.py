"""Browser sessions for the pages: the cookie, CSRF checks and sign-in throttling.

The session lives on the server (vault ``web_session``); the browser holds only its token, in a
cookie that is ``__Host-`` prefixed, Secure, HttpOnly and SameSite=Strict. Only the demo, served
over plain http on a loopback address, drops the prefix and Secure (browsers refuse both there).

Every state change is a POST that must carry the session's CSRF token in a form field, and must
not come from another site (``Sec-Fetch-Site`` / ``Origin``): Starlette has no CSRF protection of its
own. The sign-in form, made before there is a session, carries a token that must equal a short-
lived cookie of its own (double submit).

Failed sign-ins are counted per user name and client address (over a sliding 15 minutes) and
per user name (over a sliding hour); past either limit, sign-in for that name answers 429 with
``Retry-After`` until the oldest failures age out. Nobody is ever locked out for good, and no count
is kept per address alone: one attacker behind a NAT would lock out everyone behind it. The client
address is the peer's, or, when the peer is a proxy named in ``trusted_proxies``, the right-most
``X-Forwarded-For`` entry that is not a trusted proxy (entries left of it are whatever the client
sent). The counts live in this process: behind several app nodes, each counts its own.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request, Response

from vault import Settings, WebSession
from vault.errors import Forbidden, VaultError

USER_AND_ADDRESS_WINDOW = 15 * 60.0
USER_WINDOW = 3600.0
SIGN_IN_COOKIE_SECONDS = 600
MAX_KEYS = 100_000  # past this many counted keys, those without a recent failure are forgotten


class TooManyAttempts(VaultError):
    """Too many failed sign-ins for a user name, from one address or from anywhere."""

    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds, for the Retry-After header


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


@dataclass(frozen=True, slots=True)
class Limit:
    failures: int
    seconds: float


class _Window:
    """Failures per key over a sliding window."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.limit.seconds:
            failures.popleft()
        return failures

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        if key not in self._failures:  # a check alone remembers nothing: only failures take memory
            return 0.0
        failures = self._recent(key, now)
        if len(failures) < self.limit.failures:
            return 0.0
        return failures[-self.limit.failures] + self.limit.seconds - now

    def failed(self, key: str, now: float) -> None:
        self._recent(key, now).append(now)
        if len(self._failures) > MAX_KEYS:  # forget quiet keys rather than grow without end
            for quiet in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.limit.seconds]:
                del self._failures[quiet]

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)


class Throttle:
    """Failed sign-ins per (user name, address) and per user name, over sliding windows."""

    def __init__(self, per_user_and_address: Limit, per_user: Limit,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._pairs = _Window(per_user_and_address)
        self._users = _Window(per_user)
        self._clock = clock  # tests pass their own, to let an hour pass at once
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: Settings) -> Throttle:
        return cls(Limit(settings.sign_in_failures_per_user_and_address, USER_AND_ADDRESS_WINDOW),
                   Limit(settings.sign_in_failures_per_user, USER_WINDOW))

    def check(self, name: str, address: str) -> None:
        """TooManyAttempts if the name is past either limit, saying when to try again."""
        now = self._clock()
        with self._lock:
            wait = max(self._pairs.wait(f"{name}\0{address}", now), self._users.wait(name, now))
        if wait > 0:
            minutes = math.ceil(wait / 60)
            raise TooManyAttempts(f"too many failed sign-ins for this user; try again in {minutes} "
                                  f"minute{'s' if minutes != 1 else ''}", math.ceil(wait))

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            self._pairs.failed(f"{name}\0{address}", now)
            self._users.failed(name, now)

    def succeeded(self, name: str, address: str) -> None:
        """A good sign-in clears the person's own mistakes from their address; failures from
        elsewhere still count against the name."""
        with self._lock:
            self._pairs.forget(f"{name}\0{address}")


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in an X-Forwarded-For entry or a peer: ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(peer: str | None, forwarded_for: list[str],
                   trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> str:
    """The client a request counts against: ``peer``, unless it is a trusted proxy; then the
    right-most X-Forwarded-For entry that is not a trusted proxy (each proxy appends the address
    it was called from; entries further left are whatever the client wrote)."""
    if not trusted or peer is None:
        return peer or "unknown"

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not is_trusted(_ip(peer)):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _ip(hop)
        if not is_trusted(address):
            # a trusted proxy wrote this entry; one that is not an address is kept as written
            return str(address) if address is not None else hop[:64]
    return str(_ip(hops[0])) if hops else peer  # only proxies: the first one is the client


def request_client(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return client_address(request.client.host if request.client else None,
                          request.headers.getlist("x-forwarded-for"), settings.trusted_proxies)


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
