"""A secret shown once on the page a POST redirects to: post-redirect-get for a form whose answer
is a secret (the access key of a new enrolment).

The POST keeps the secret here under a random handle, which goes to the browser in a short-lived
cookie, and answers 303; the GET that follows takes the secret out, once, and draws it. A reload
of that page finds nothing and says the secret was shown already: nothing is sent again, nothing
is done again. A secret waits in this process's memory only, for at most ``LIFETIME_SECONDS``, and
is written nowhere. Behind several app nodes without sticky sessions the GET may reach another
node, which answers as to a reload (as the one-time forms' spent tokens, each node keeps its own).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

LIFETIME_SECONDS = 60  # the redirect is followed at once; a handle older than this is forgotten


class Handoffs:
    """``keep`` a value in the POST, ``take`` it in the GET its redirect leads to."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, lifetime: int = LIFETIME_SECONDS) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._held: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def keep(self, value: Any) -> str:
        handle = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            for old in [h for h, (until, _) in self._held.items() if until <= now]:
                del self._held[old]
            self._held[handle] = (now + self._lifetime, value)
        return handle

    def take(self, handle: str | None) -> Any:
        """The value kept under ``handle``, once; None for an unknown, taken or expired handle."""
        with self._lock:
            until, value = self._held.pop(handle or "", (0.0, None))
        return value if until > self._clock() else None
