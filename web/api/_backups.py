"""Backups for admins: start one on the server, see how far it has got and what the backup
directory holds. No route hands an archive out: it is ciphertext, but carrying it off the host is
the operator's job, as restoring one is (``casevault restore``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from redaction import Permission
from vault import UserInfo
from web import _json
from web.api._models import ACCESS_KEY, BackupRunOut, BackupsOut, errors
from web.api._names import PREFIX, actor
from web.deps import BackupsDep, Require

router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])
Backer = Annotated[UserInfo, Require(Permission.BACKUP)]


@router.post("/backups", status_code=202, responses=errors(403, 409), response_model=BackupRunOut)
def start_backup(backups: BackupsDep, user: Backer, response: Response) -> dict[str, object]:
    """Start a backup into the server's backup directory and answer it, running (202; follow it
    with ``GET /backups``); 409 ``BACKUP_RUNNING`` while another runs. Audited as ``vault.backup``."""
    run = backups.start(actor=actor(user))
    response.headers["Location"] = f"{PREFIX}/backups"
    return _json.backup_run_json(run)


@router.get("/backups", responses=errors(403), response_model=BackupsOut)
def list_backups(backups: BackupsDep, user: Backer) -> dict[str, object]:
    """The backup this server started last (``running`` with bytes done of total, ``finished`` or
    ``failed``), and the archives in the backup directory, newest first."""
    return _json.backups_json(backups.latest(), backups.stored())
