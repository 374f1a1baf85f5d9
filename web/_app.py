"""The web application: ``create_app(settings)`` over one open vault and its search indexes.

The vault is unsealed when the app is created (a wrong passphrase fails there, before a socket
is opened), the indexes are opened and reconciled, and every request works through them. Given
no vault and no passphrase, the app starts sealed (``web._sealed``): it answers health, the seal
status and the unseal routes until custodians have given enough shares, then opens the vault and
the indexes in place, starts the search follower and serves normally. Every
answer carries the security headers; answers are never cached (they hold document text or say
who may see what).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from fastapi.concurrency import run_in_threadpool

from search import Search, SearchError
from vault import ServerBackups, Settings, Vault
from web import _errors, _forms, _handoff, _pages, _sealed, _sessions
from web.api import router as api_router
from web.pages import router as page_router

log = logging.getLogger(__name__)
access_log = logging.getLogger("casevault.access")  # uvicorn's own access log is off: it logs paths

# pages load their stylesheet and two scripts from /static, nothing else and nothing inline
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SEARCHES = frozenset({"/search", "/api/v1/search"})  # a search catches up itself, see Search.search


def _follow(search: Search) -> None:
    """Index what a write changed before its answer leaves, so the writer pays for indexing
    and whoever searches after the answer finds it; a search running meanwhile answers from
    the last commit rather than waiting (see ``Follower.before_search``). One query when nothing
    changed. The write itself is done: if the indexes cannot follow now, the next search does."""
    try:
        search.catch_up()
    except SearchError as error:
        log.warning("search indexes could not follow a write yet (%s); the next search will", error)


class Services:
    """What the routes work with: the vault, its search, and the backups admins ask for."""

    def __init__(self, vault: Vault, search: Search) -> None:
        self.vault = vault
        self.search = search
        self.backups = ServerBackups(vault.backup, vault.settings.resolved_backup_dir)

    def close(self) -> None:
        self.backups.close()  # first: a running backup reads the vault; it stops and leaves nothing
        self.search.close()
        self.vault.close()


def create_app(settings: Settings, *, vault: Vault | None = None) -> FastAPI:
    """The app. Opens the vault with ``settings.passphrase`` unless an open ``vault`` is given;
    with neither, the app starts sealed and waits for the custodians' shares."""
    settings.resolved_backup_dir  # a backup directory inside the data directory is refused now, not at unseal
    if vault is None and settings.passphrase:
        vault = Vault.open(settings, settings.passphrase)
    running = {"started": False}  # the lifespan has begun: a follower started later starts at once

    def serve_vault(opened: Vault) -> None:
        services = Services(opened, Search.open(opened))
        app.state.services = services
        if running["started"]:
            services.search.follower.start()  # indexes what other processes write (a CLI ingest, another node)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        running["started"] = True
        if app.state.services is not None:
            app.state.services.search.follower.start()
        yield
        if app.state.services is not None:
            app.state.services.close()  # stops the follower first

    app = FastAPI(title="casevault", version="1", openapi_url="/api/v1/openapi.json", docs_url=None,
                  redoc_url=None, swagger_ui_oauth2_redirect_url=None, lifespan=lifespan)
    app.state.services = None
    app.state.unsealer = _sealed.Unsealer(settings, serve_vault)
    if vault is not None:
        serve_vault(vault)
        app.state.unsealer.unsealed_already()
    app.state.settings = settings
    app.state.cookies = _sessions.cookie_names(settings)
    app.state.throttle = _sessions.Throttle.of(settings)
    app.state.forms = _forms.OneTimeForms()
    app.state.handoffs = _handoff.Handoffs()
    _errors.install(app)
    app.include_router(api_router)
    app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=_pages.HERE / "static"), name="static")

    @app.middleware("http")
    async def indexed_before_answer(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        services = app.state.services
        if services is not None and request.method in WRITES and request.url.path not in SEARCHES:
            await run_in_threadpool(_follow, services.search)
        return response

    app.middleware("http")(_sealed.gate(lambda: app.state.services is None))

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        access_log.info("%s %s %d", request.method, _errors.route_of(request), response.status_code)
        return response

    return app
