"""How a page is drawn: the Jinja2 templates and the frame every page shares.

Templates receive view models that are already redacted by the policy (``DocumentView``, search
hits, labels), never database rows; Jinja2 escapes everything and an unknown name is an error.
The frame shows who is signed in, the menu of what their role carries (``NAV``, asked of the
permission table) and the session's CSRF token for the page's forms. The routes are in
``web.pages``; error pages (``web._errors``) are drawn with the same templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from redaction import Permission, holds
from vault import UserInfo, WebSession

HERE = Path(__file__).parent
templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                                   autoescape=True, undefined=jinja2.StrictUndefined))

# what a person is offered, by what their role carries (each page checks again, per case)
NAV = (
    (Permission.DOCUMENT_READ, "Cases", "/cases"),
    (Permission.SEARCH, "Search", "/search"),
    (Permission.SEARCH, "Saved searches", "/searches"),
    (Permission.DOCUMENT_UPLOAD, "Upload", "/upload"),
    (Permission.DOCUMENT_REVIEW, "Review", "/review"),
    (Permission.MEMBERSHIP_CONFIRM, "Confirmations", "/confirmations"),
    (Permission.IDENTITY_READ, "Unmask requests", "/unmask"),
    (Permission.CASE_MANAGE, "Cases", "/admin/cases"),
    (Permission.USER_MANAGE, "Users", "/admin/users"),
    (Permission.KEY_STATUS, "Keys", "/admin/keys"),
    (Permission.AUDIT_READ, "Audit log", "/admin/audit"),
    (Permission.BACKUP, "Backups", "/admin/backups"),
)


def actor(user: UserInfo) -> str:
    """The name the audit log records for a person acting through the pages."""
    return f"{user.name} (web)"


def clock(ms: int | None) -> str:
    """A time into a call, as a person reads it: ``4:05``, ``1:02:03``."""
    if ms is None:
        return ""
    seconds = ms // 1000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


templates.env.filters["clock"] = clock


def render(request: Request, template: str, session: WebSession | None, status: int = 200,
           **context: Any) -> HTMLResponse:
    user = session.user if session else None
    nav = []
    if user is not None:
        nav = [(label, path) for permission, label, path in NAV if holds(user.actor, permission)]
        nav.append(("Account", "/account"))
    forms = request.app.state.forms

    def once(purpose: str) -> str:  # a one-time form's token (web._forms), made as the page is drawn
        return forms.issue(session, purpose) if session else ""

    return templates.TemplateResponse(request, template, {"user": user, "csrf": session.csrf if session else "",
                                                          "nav": nav, "once": once, **context}, status_code=status)


def notice(request: Request, notices: Mapping[str, str]) -> str | None:
    """The message of the page's ``?notice=`` code, from the page's fixed table: a code that is not
    in it (anything a link may carry) shows nothing."""
    return notices.get(request.query_params.get("notice", ""))


def see_other(url: str) -> RedirectResponse:
    """The answer to a post that worked: the browser fetches ``url`` (so a reload posts nothing)."""
    return RedirectResponse(url, status_code=303)
