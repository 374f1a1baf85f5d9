"""Health and cases: the cases the caller may know exist, and new ones (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from redaction import Permission, may_see_case
from vault import UserInfo
from web import _json
from web.api._models import ACCESS_KEY, CaseOut, HealthOut, errors
from web.api._names import PREFIX, actor
from web.deps import CurrentUser, Require, VaultDep

public = APIRouter(prefix=PREFIX)  # no access key needed
router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])


@public.get("/health", responses=errors(keyed=False), response_model=HealthOut)
def health(request: Request) -> dict[str, str]:
    """Liveness: ``ok`` with the vault open, ``sealed`` while it waits for the custodians' shares."""
    return {"status": "sealed" if request.app.state.services is None else "ok"}


class CaseIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    archive_scope: bool = False


@router.get("/cases", responses=errors(), response_model=list[CaseOut])
def list_cases(vault: VaultDep, user: CurrentUser) -> list[dict[str, object]]:
    """The cases the caller belongs to (every case for an admin), each counting the documents
    the caller may see."""
    return [_json.case_json(c) for c in vault.cases(user) if may_see_case(user.actor, c.id)]


@router.post("/cases", status_code=201, responses=errors(403, 409), response_model=CaseOut)
def create_case(vault: VaultDep, user: Annotated[UserInfo, Require(Permission.CASE_MANAGE)],
                body: CaseIn) -> dict[str, object]:
    return _json.case_json(vault.create_case(body.name, actor=actor(user), archive_scope=body.archive_scope))
