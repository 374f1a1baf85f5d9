"""Search, posted so that queries stay out of URLs and access logs."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from redaction import Permission
from web.api._models import ACCESS_KEY, SearchOut, errors
from web.api._names import PREFIX, actor
from web.deps import CurrentUser, SearchDep, VaultDep, require, visible_case

router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])


class SearchIn(BaseModel):
    q: str = Field(max_length=4096)
    case: str | None = None
    page: int = 1
    sort: str = Field(default="relevance", max_length=40)  # the search names the sorts there are


@router.post("/search", responses=errors(403, 404), response_model=SearchOut)
def search(vault: VaultDep, engine: SearchDep, user: CurrentUser, body: SearchIn) -> dict[str, object]:
    """Search what the caller may see (POST, so queries stay out of access logs). Answers like
    ``casevault search --json``."""
    case = visible_case(vault, user, body.case) if body.case else None
    if case is not None:
        require(user, Permission.SEARCH, case.id)
    else:  # admins have no case of their own to search; a member of none gets an empty answer
        require(user, Permission.SEARCH, refusal="not allowed: searching is for investigators and reviewers")
    return engine.search(user, body.q, actor=actor(user), case=case, page=body.page, sort=body.sort).to_json()
