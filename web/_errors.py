"""Domain errors over HTTP: the status of web/errors.py, as JSON or as an error page.

Every answer to a failure of the API is JSON ``{"error": CODE, "message": ...}`` with a message a
person can act on; a page answers with the same message on an error page (and a page that needs a
session sends the browser to sign in). Nothing shows a stack trace, a file path or a name: the messages of domain errors never
hold document text (vault/errors.py), and anything unexpected becomes a bare INTERNAL 500 that is
logged by type only.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from keys import KeyringError
from redaction import RedactionError
from search.errors import SearchError
from vault import SessionEnded
from vault.errors import VaultError
from web._pages import templates
from web.errors import answer_of, status_of  # noqa: F401 - status_of: re-exported for the app's tests

log = logging.getLogger(__name__)

_HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 413: "TOO_LARGE", 415: "UNSUPPORTED_TYPE"}
_TITLES = {400: "That did not work", 401: "Sign in", 403: "Not allowed", 404: "Not found", 405: "Not allowed",
           409: "Conflict", 413: "Too large", 416: "Cannot play that part", 415: "Unsupported file", 422: "Cannot read that",
           429: "Too many attempts", 500: "Something went wrong", 503: "Unavailable"}


def route_of(request: Request) -> str:
    """The route template (``/api/v1/cases/{case}``), never the path: a path can hold a case name,
    which is stored encrypted, and logs are not."""
    route = request.scope.get("route")
    return getattr(route, "path", "(no route)")


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="casevault"'}
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def _answer(request: Request, status: int, code: str, message: str, *, needs_session: bool = False,
            headers: dict[str, str] | None = None) -> Response:
    """JSON for the API; for the pages, an error page, or the sign-in page when a session is needed."""
    if request.url.path.startswith("/api/"):
        return error_response(status, code, message, headers)
    if needs_session:
        return RedirectResponse("/login", status_code=303)
    return templates.TemplateResponse(request, "error.html", {"user": None, "nav": [], "csrf": "", "message": message,
                                                              "title": _TITLES.get(status, "Error")},
                                      status_code=status, headers=headers)


async def _domain(request: Request, error: Exception) -> Response:
    answer = answer_of(error)
    if answer is None:
        return await _internal(request, error)
    # a refusal that lifts by itself (429, a busy 503) says when to come back
    return _answer(request, answer.status, answer.code, answer.message,
                   needs_session=isinstance(error, SessionEnded),
                   headers=None if answer.retry_after is None else {"Retry-After": str(answer.retry_after)})


async def _validation(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = []
    for problem in error.errors()[:5]:
        where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("body", "query", "path"))
        problems.append(f"{where or 'the request'}: {problem.get('msg', 'invalid')}")
    return _answer(request, 422, "INVALID_INPUT", "; ".join(problems) or "the request is not valid")


async def _http(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = _HTTP_CODES.get(error.status_code, "HTTP_ERROR")
    message = {404: "no such resource", 405: "that method is not allowed here"}.get(error.status_code, str(error.detail))
    return _answer(request, error.status_code, code, message)


async def _internal(request: Request, error: Exception) -> Response:
    log.error("internal error on %s %s: %s", request.method, route_of(request), type(error).__name__)
    return _answer(request, 500, "INTERNAL", "something went wrong on the server; nothing was changed by this "
                                           "request if it failed before its answer; try again or tell an admin")


def install(app: FastAPI) -> None:
    app.add_exception_handler(VaultError, _domain)
    app.add_exception_handler(SearchError, _domain)
    app.add_exception_handler(RedactionError, _domain)
    app.add_exception_handler(KeyringError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _internal)
