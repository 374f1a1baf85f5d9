"""A server that came up sealed: it holds the custodians' shares until enough are given.

``casevault serve`` with neither a passphrase nor shares starts sealed: the app answers health,
the seal status and the unseal routes (``/api/v1/seal...``, the ``/unseal`` page) and nothing else
(503 ``SEALED``). Shares arrive one per request; each is checked on arrival (its words and
checksum, its split, given twice) and held in memory only, never logged, stored or echoed. When
the threshold is met the vault is opened with them and the app serves normally from that
request on; the shares are dropped, whether they opened it or not. ``reset`` drops them too.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request, Response

from keys import ShareInvalid, ShareOfAnotherSplit, read_share
from vault import SealInfo, Settings, Vault
from vault.errors import Conflict, VaultSealed
from web._errors import error_response
from web._pages import templates

# what a sealed server answers: liveness, the seal and unsealing (and the page's stylesheet)
OPEN_WHILE_SEALED = frozenset({"/api/v1/health", "/api/v1/seal", "/api/v1/seal/shares", "/api/v1/seal/reset",
                               "/unseal", "/unseal/reset"})


@dataclass(frozen=True, slots=True)
class SealStatus:
    sealed: bool
    shares_given: int
    threshold: int | None
    shares: int | None
    passphrase: bool


class Unsealer:
    """The shares given so far (in memory only) and what to do once there are enough."""

    def __init__(self, settings: Settings, unsealed: Callable[[Vault], None]) -> None:
        self._settings = settings
        self._unsealed = unsealed
        self._lock = threading.Lock()
        self._shares: dict[int, str] = {}
        self._split: int | None = None
        self._open = False

    def _seal(self) -> SealInfo:
        seal = Vault.seal_of(self._settings)  # read again each time: an operator may split anew meanwhile
        if seal.split_id != self._split:
            self._shares.clear()
            self._split = seal.split_id
        return seal

    def status(self) -> SealStatus:
        with self._lock:
            seal = self._seal()
            return SealStatus(not self._open, 0 if self._open else len(self._shares), seal.threshold, seal.shares,
                              seal.passphrase is not None)

    def give(self, share: str) -> SealStatus:
        """Count one share; at the threshold, unseal. ShareInvalid (not counted) for a share that
        is unreadable, of another split or given already; SharesDoNotOpen if the shares together
        do not open the vault (then every held share is dropped)."""
        with self._lock:
            if self._open:
                raise Conflict("the vault is unsealed already")
            seal = self._seal()
            if seal.split_id is None or seal.threshold is None:
                raise Conflict("this vault has no split of shares; start the server with CASEVAULT_PASSPHRASE")
            info = read_share(share)
            if info.identifier != seal.split_id:
                raise ShareOfAnotherSplit()
            if info.index in self._shares:
                raise ShareInvalid("that share was given already; the next custodian gives theirs")
            self._shares[info.index] = share
            if len(self._shares) >= seal.threshold:
                shares, self._shares = list(self._shares.values()), {}
                vault = Vault.open(self._settings, shares=shares, actor="custodians (web)")
                self._unsealed(vault)
                self._open = True
            return SealStatus(not self._open, len(self._shares), seal.threshold, seal.shares,
                              seal.passphrase is not None)

    def reset(self) -> SealStatus:
        with self._lock:
            self._shares.clear()
        return self.status()

    def unsealed_already(self) -> None:
        self._open = True


def sealed_answer(request: Request) -> Response:
    """503: the vault is sealed. JSON for the API, the sealed page for a page."""
    error = VaultSealed()
    if request.url.path.startswith("/api/"):
        return error_response(503, error.code, str(error))
    return templates.TemplateResponse(request, "sealed.html", {"user": None, "nav": [], "csrf": ""}, status_code=503)


def gate(is_sealed: Callable[[], bool]) -> Callable[[Request, Callable[[Request], Awaitable[Response]]],
                                                    Awaitable[Response]]:
    """Middleware: while sealed, only the routes of OPEN_WHILE_SEALED and /static answer."""

    async def sealed_gate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if is_sealed() and path not in OPEN_WHILE_SEALED and not path.startswith("/static/"):
            return sealed_answer(request)
        return await call_next(request)

    return sealed_gate
