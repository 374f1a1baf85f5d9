"""Confirmations and enrolment: how a person reaches content. A reviewer of the case lets a
membership an admin made reach it; the person redeems their own enrolment code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from redaction import Permission
from vault import UserInfo
from web import _json
from web.api._models import ACCESS_KEY, ConfirmationDecidedOut, ConfirmationOut, EnrolledOut, errors
from web.api._names import PREFIX, actor, case_names
from web.deps import CurrentUser, Require, SettingsDep, VaultDep

public = APIRouter(prefix=PREFIX)  # enrolment: no access key yet
router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])


class ConfirmationIn(BaseModel):
    approve: bool


@router.get("/confirmations", responses=errors(403), response_model=list[ConfirmationOut])
def confirmations(vault: VaultDep, user: Annotated[UserInfo, Require(
        Permission.MEMBERSHIP_CONFIRM, "only reviewers confirm memberships, those of the cases they review")],
        ) -> list[dict[str, object]]:
    """Memberships waiting for the caller: those of the cases they review, never their own."""
    names = case_names(vault)
    return [_json.confirmation_json(c, names) for c in vault.confirmations(user)]


@router.post("/confirmations/{confirmation_id}", responses=errors(403, 404, 409), response_model=ConfirmationDecidedOut)
def confirm(vault: VaultDep, user: CurrentUser, confirmation_id: str, body: ConfirmationIn) -> dict[str, object]:
    """Let a waiting membership reach its case, or refuse it (four eyes: never one's own)."""
    done = vault.confirm(confirmation_id, approve=body.approve, actor=actor(user), by=user)
    return _json.confirmation_decided_json(done, case_names(vault), approved=body.approve)


class EnrolIn(BaseModel):
    code: str = Field(max_length=200)
    password: str = Field(max_length=1024)
    totp_secret: str | None = Field(default=None, max_length=128)
    totp_code: str | None = Field(default=None, max_length=12)


@public.post("/enrol", responses=errors(401, 409, 422, 503, keyed=False), response_model=EnrolledOut)
def enrol(vault: VaultDep, settings: SettingsDep, body: EnrolIn) -> dict[str, object]:
    """Redeem an enrolment code (no access key needed): set one's own password and second
    factor; the answer holds one's own new access key, shown once."""
    enrolled, key = vault.enrol(body.code, password=body.password, totp_secret=body.totp_secret,
                                totp_code=body.totp_code, totp_required=settings.second_factor)
    return _json.enrolled_json(enrolled, key)
