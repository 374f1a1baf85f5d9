"""Encryption keys: their versions and what each protects (never key material), and rotation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
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
