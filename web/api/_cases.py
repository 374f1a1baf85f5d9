"""Health and cases: the cases the caller may know exist, and new ones (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from redaction import Permission, may_see_case
from vault import UserInfo
from web import _json
from web.api._names import PREFIX, actor
from web.deps import CurrentUser, Require, VaultDep

router = APIRouter(prefix=PREFIX)


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the vault is open."""
    return {"status": "ok"}


class CaseIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    archive_scope: bool = False


@router.get("/cases")
def list_cases(vault: VaultDep, user: CurrentUser) -> list[dict[str, object]]:
    """The cases the caller belongs to (every case for an admin), each counting the documents
    the caller may see."""
    return [_json.case_json(c) for c in vault.cases(user) if may_see_case(user.actor, c.id)]


@router.post("/cases", status_code=201)
def create_case(vault: VaultDep, user: Annotated[UserInfo, Require(Permission.CASE_MANAGE)],
                body: CaseIn) -> dict[str, object]:
    return _json.case_json(vault.create_case(body.name, actor=actor(user), archive_scope=body.archive_scope))
