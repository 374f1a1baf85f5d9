"""Users, their case memberships and access keys. Admins manage access, never content: a
membership they make waits for a reviewer of the case, and nobody issues a key for someone else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from redaction import Permission
from vault import UserInfo
from web import _json
from web.api._models import ACCESS_KEY, AccessKeyOut, IssuedKeyOut, NewUserOut, ResetOut, UserOut, errors
from web.api._names import PREFIX, actor, case_names
from web.deps import CurrentUser, Require, VaultDep, VisibleCase, require

router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])
UserManager = Annotated[UserInfo, Require(Permission.USER_MANAGE)]


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=63)
    role: str
    cases: list[str] = Field(default_factory=list, max_length=1000)


class AccessKeyIn(BaseModel):
    expires_in_days: float | None = Field(default=None, gt=0, le=3650)


@router.get("/users", responses=errors(403), response_model=list[UserOut])
def users(vault: VaultDep, user: UserManager) -> list[dict[str, object]]:
    names = case_names(vault)
    return [_json.user_json(u, names) for u in vault.users()]


@router.post("/users", status_code=201, responses=errors(403, 404, 409), response_model=NewUserOut)
def add_user(vault: VaultDep, user: UserManager, body: UserIn) -> dict[str, object]:
    """A new user; the answer holds their one-time enrolment code (for them: they redeem it at
    /enrol to set their own credentials). Their memberships wait for a reviewer of each case."""
    added, code = vault.add_user(body.name, body.role, cases=tuple(body.cases), actor=actor(user), by=user)
    return _json.new_user_json(added, case_names(vault), code)


class RoleIn(BaseModel):
    role: str = Field(max_length=40)


@router.put("/users/{name}/role", responses=errors(403, 404, 409), response_model=UserOut)
def set_role(vault: VaultDep, user: UserManager, name: str, body: RoleIn) -> dict[str, object]:
    """Change a user's role; their memberships wait for a reviewer's confirmation again."""
    return _json.user_json(vault.set_role(name, body.role, actor=actor(user), by=user), case_names(vault))


@router.post("/users/{name}/reset", responses=errors(403, 404, 409), response_model=ResetOut)
def reset_credentials(vault: VaultDep, user: UserManager, name: str) -> dict[str, object]:
    """Revoke the user's password, second factor, keys and sessions; the answer holds a new
    enrolment code for them. Their memberships wait for a reviewer's confirmation again."""
    return _json.reset_json(name, vault.reset_credentials(name, actor=actor(user), by=user))


@router.put("/users/{name}/cases/{case}", responses=errors(403, 404, 409), response_model=UserOut)
def add_membership(vault: VaultDep, user: UserManager, name: str, case: VisibleCase) -> dict[str, object]:
    """Make user ``name`` a member of ``case``; takes effect at their next request."""
    changed = vault.set_membership(name, case, member=True, actor=actor(user), by=user)
    return _json.user_json(changed, case_names(vault))


@router.delete("/users/{name}/cases/{case}", responses=errors(403, 404, 409), response_model=UserOut)
def remove_membership(vault: VaultDep, user: UserManager, name: str, case: VisibleCase) -> dict[str, object]:
    """Take user ``name`` out of ``case``; their next request no longer sees it."""
    changed = vault.set_membership(name, case, member=False, actor=actor(user), by=user)
    return _json.user_json(changed, case_names(vault))


@router.get("/users/{name}/access-keys", responses=errors(403, 404), response_model=list[AccessKeyOut])
def access_keys(vault: VaultDep, user: CurrentUser, name: str) -> list[dict[str, object]]:
    """A user's keys (prefixes and dates): one's own, or anyone's for an admin."""
    require(user, Permission.ACCESS_KEY_OWN if name == user.name else Permission.ACCESS_KEY_MANAGE)
    return [_json.access_key_json(k) for k in vault.access_keys(name)]


@router.post("/users/{name}/access-keys", status_code=201, responses=errors(403, 404, 409), response_model=IssuedKeyOut)
def issue_access_key(vault: VaultDep, user: CurrentUser, name: str, body: AccessKeyIn) -> dict[str, object]:
    """A new access key for the caller themselves, shown once in this answer (nobody issues a
    key for someone else: 403)."""
    expires = datetime.now(UTC) + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    info, key = vault.issue_access_key(name, expires_at=expires, actor=actor(user), by=user)
    return _json.issued_key_json(info, key)


@router.delete("/access-keys/{key_id}", responses=errors(403, 404, 409), response_model=AccessKeyOut)
def revoke_access_key(vault: VaultDep, user: CurrentUser, key_id: str) -> dict[str, object]:
    """Revoke a key at once (one's own, or anyone's for an admin); its next request is refused."""
    return _json.access_key_json(vault.revoke_access_key(key_id, actor=actor(user), by=user))
