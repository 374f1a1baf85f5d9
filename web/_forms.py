"""Forms whose action must not happen by accident: done twice, or done without meaning it.

A form whose action must not repeat (rotating keys, a new enrolment code, a new access key) carries
a one-time token made when its page is drawn. The token names the form's purpose, when it was
made and a nonce, under an HMAC keyed by the session's CSRF token, so it is good only for that
session and that form; it is spent by its first POST. A second POST of the same token (the
browser's reload of a page that showed a secret, a double click, Back and send again) is refused
with a 409 that says the action was done once, rather than rotating the keys again or issuing a
second code. The spent nonces live in this process for the token's lifetime (as the sign-in
throttle's counts do): behind several app nodes without sticky sessions, each node remembers its own.

A destructive form also carries a checkbox, "I understand", that the browser requires before it
sends and the server checks again: a confirmation that works without script.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable

from starlette.datastructures import FormData

from vault import WebSession
from vault.errors import Conflict, InvalidInput

LIFETIME_SECONDS = 3600  # a page left open longer than this is drawn again before its form is sent
CONFIRMED = "yes"


class FormUsed(Conflict):
    """A one-time form sent again."""

    code = "FORM_USED"


class FormExpired(InvalidInput):
    """A one-time form without a token of this session and purpose, or past its lifetime."""

    code = "FORM_EXPIRED"


class OneTimeForms:
    """Tokens for forms that must be sent once: ``issue`` when a page is drawn, ``spend`` when
    its form arrives."""

    def __init__(self, clock: Callable[[], float] = time.time, lifetime: int = LIFETIME_SECONDS) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._spent: dict[str, float] = {}  # nonce -> when it may be forgotten (its token has expired by then)
        self._lock = threading.Lock()

    @staticmethod
    def _mac(session: WebSession, purpose: str, issued: int, nonce: str) -> str:
        message = f"{purpose}\0{issued}\0{nonce}".encode()
        return hmac.new(session.csrf.encode(), message, hashlib.sha256).hexdigest()[:32]

    def issue(self, session: WebSession, purpose: str) -> str:
        issued, nonce = int(self._clock()), secrets.token_hex(8)
        return f"{issued}.{nonce}.{self._mac(session, purpose, issued, nonce)}"

    def spend(self, session: WebSession, purpose: str, token: str | None) -> None:
        """Accept ``token`` once; FormExpired if it is not this session's for ``purpose`` or too
        old, FormUsed if it was spent already."""
        issued_text, _, rest = (token or "").partition(".")
        nonce, _, mac = rest.partition(".")
        now = self._clock()
        try:
            issued = int(issued_text)
        except ValueError:
            issued = -1
        good = issued >= 0 and hmac.compare_digest(mac.encode(), self._mac(session, purpose, issued, nonce).encode())
        if not good or not issued <= now + 60 or now - issued > self._lifetime:
            raise FormExpired("this form has expired or belongs to another page; open the page again and resend it")
        with self._lock:
            for old in [n for n, until in self._spent.items() if until <= now]:
                del self._spent[old]
            if nonce in self._spent:
                raise FormUsed("this form was sent already, and what it asks was done then, once (a reload or a "
                               "second click sends it again); open the page again to do it again")
            self._spent[nonce] = issued + self._lifetime + 61


def require_confirmed(values: FormData, what: str) -> None:
    """InvalidInput unless the form's "I understand" box was ticked (the browser requires it too)."""
    if values.get("confirm") != CONFIRMED:
        raise InvalidInput(f"tick \"I understand\" to confirm: {what}")
