"""Backups for admins: the archives in the server's backup directory, the one running (the page
reloads itself while it runs) and a button to start one. Restoring stays the operator's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from redaction import Permission
from vault import UserInfo
from web._pages import actor, render, see_other
from web.deps import BackupsDep, PostedForm, Require, SignedIn

router = APIRouter()
Backer = Annotated[UserInfo, Require(Permission.BACKUP)]
RELOAD_SECONDS = 2


@router.get("/admin/backups")
def admin_backups(request: Request, backups: BackupsDep, session: SignedIn, _admin: Backer) -> HTMLResponse:
    latest = backups.latest()
    return render(request, "admin_backups.html", session, latest=latest, stored=backups.stored(),
                  directory=backups.directory, reload=RELOAD_SECONDS if latest and latest.state == "running" else None)


@router.post("/admin/backups")
def admin_start_backup(backups: BackupsDep, _form: PostedForm, admin: Backer) -> RedirectResponse:
    """Start a backup (audited as ``vault.backup``); the page then shows how far it has got."""
    backups.start(actor=actor(admin))
    return see_other("/admin/backups")
