"""Identities of a case and unmask requests: asked by an investigator, decided by another
reviewer of the case, revocable before they expire."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from redaction import Permission
from web import _json
from web.api._models import ACCESS_KEY, IdentityOut, UnmaskOut, errors
from web.api._names import PREFIX, actor, identity_labels
from web.deps import CurrentUser, VaultDep, VisibleCase, require

router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])


class UnmaskIn(BaseModel):
    identity: str = Field(min_length=1, max_length=200)  # the pseudonym
    justification: str = Field(max_length=2000)


class UnmaskDecisionIn(BaseModel):
    approve: bool
    hours: float = Field(default=24, gt=0, le=30 * 24)


@router.get("/cases/{case}/identities", responses=errors(403, 404), response_model=list[IdentityOut],
            response_model_exclude_unset=True)
def identities(vault: VaultDep, user: CurrentUser, case: VisibleCase) -> list[dict[str, object]]:
    """Pseudonyms and categories; real names and aliases only where the policy allows (audited)."""
    require(user, Permission.IDENTITY_READ, case.id)
    return vault.identity_listing(case, user, actor=actor(user))


@router.post("/cases/{case}/unmask-requests", status_code=201, responses=errors(403, 404, 409),
             response_model=UnmaskOut)
def request_unmask(vault: VaultDep, user: CurrentUser, case: VisibleCase, body: UnmaskIn) -> dict[str, object]:
    made = vault.request_unmask(user, case, body.identity, body.justification, actor=actor(user))
    return _json.unmask_json(made, identity_labels(vault, case))


@router.get("/cases/{case}/unmask-requests", responses=errors(403, 404), response_model=list[UnmaskOut])
def unmask_requests(vault: VaultDep, user: CurrentUser, case: VisibleCase) -> list[dict[str, object]]:
    """All requests of the case for its reviewers; one's own for an investigator."""
    require(user, Permission.IDENTITY_READ, case.id)
    labels = identity_labels(vault, case)
    return [_json.unmask_json(r, labels) for r in vault.unmask_requests(case, user)]


@router.post("/unmask-requests/{request_id}/decision", responses=errors(403, 404, 409), response_model=UnmaskOut)
def decide_unmask(vault: VaultDep, user: CurrentUser, request_id: str, body: UnmaskDecisionIn) -> dict[str, object]:
    """Another reviewer of the case approves (for ``hours``) or denies."""
    decided = vault.decide_unmask(request_id, user, approve=body.approve, valid_for=timedelta(hours=body.hours),
                                  actor=actor(user))
    return _json.unmask_json(decided, identity_labels(vault, vault.case(decided.case_id)))


@router.post("/unmask-requests/{request_id}/revoke", responses=errors(403, 404, 409), response_model=UnmaskOut)
def revoke_unmask(vault: VaultDep, user: CurrentUser, request_id: str) -> dict[str, object]:
    """A reviewer of the case ends a grant before it expires; the name is masked again for its
    holder at their next request."""
    revoked = vault.revoke_unmask(request_id, user, actor=actor(user))
    return _json.unmask_json(revoked, identity_labels(vault, vault.case(revoked.case_id)))
