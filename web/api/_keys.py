"""Encryption keys: their versions and what each protects (never key material), how the root key is
sealed, rotation of the case keys and of the master key, and retirement of master key versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from redaction import Permission
from vault import UserInfo
from web import _json
from web.api._models import ACCESS_KEY, KeyStatusOut, errors
from web.api._names import PREFIX, actor
from web.deps import Require, VaultDep, visible_case

router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])


@router.get("/keys", responses=errors(403), response_model=KeyStatusOut)
def key_status(vault: VaultDep, user: Annotated[UserInfo, Require(Permission.KEY_STATUS)]) -> dict[str, object]:
    """Key versions and what each protects; never key material."""
    return _json.key_status_json(vault.key_status())


class RotateIn(BaseModel):
    case: str | None = None  # one case (name or id); every case when omitted


@router.post("/keys/rotate", responses=errors(403, 404, 409), response_model=KeyStatusOut)
def rotate_keys(vault: VaultDep, user: Annotated[UserInfo, Require(Permission.KEY_ROTATE)],
                body: RotateIn | None = None) -> dict[str, object]:
    """A new version of every case key (or of one case's); answers the key status. Documents
    under older versions still read; new ones use the new version (audited)."""
    case = visible_case(vault, user, body.case) if body and body.case else None
    return _json.key_status_json(vault.rotate_keys(actor=actor(user), case=case))


@router.post("/keys/master/rotate", responses=errors(403, 409), response_model=KeyStatusOut)
def rotate_master(vault: VaultDep, user: Annotated[UserInfo, Require(Permission.KEY_ROTATE)]) -> dict[str, object]:
    """A new master key version, and every system, case and scope key wrapped again under it
    (or the end of a rewrap an interrupted rotation left); answers the key status (audited)."""
    vault.rotate_master(actor=actor(user))
    return _json.key_status_json(vault.key_status())


@router.post("/keys/master/{version}/retire", responses=errors(403, 404, 409), response_model=KeyStatusOut)
def retire_master(vault: VaultDep, user: Annotated[UserInfo, Require(Permission.KEY_ROTATE)],
                  version: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> dict[str, object]:
    """Retire an older master key version: its wrapped key is destroyed. 409, saying what still
    depends on it, while any key is wrapped by it, and for the newest version (audited)."""
    return _json.key_status_json(vault.retire_master(version, actor=actor(user)))
