"""The seal: its status, and unsealing a server that came up sealed, one custodian's share per
request (``web._sealed``). No access key: while sealed nobody can be authenticated, and a share
alone opens nothing. A share is never logged or echoed; an answer says only how many are given."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from web._sealed import SealStatus, Unsealer
from web.api._models import SealStatusOut, errors
from web.api._names import PREFIX

public = APIRouter(prefix=PREFIX)


def _unsealer(request: Request) -> Unsealer:
    return request.app.state.unsealer  # type: ignore[no-any-return]


def _json(status: SealStatus) -> dict[str, object]:
    return {"sealed": status.sealed, "shares_given": status.shares_given, "threshold": status.threshold,
            "shares": status.shares, "passphrase": status.passphrase}


@public.get("/seal", responses=errors(422, 503, keyed=False), response_model=SealStatusOut)
def seal_status(request: Request) -> dict[str, object]:
    """Whether the vault is sealed, and how many shares of how many it needs are given so far."""
    return _json(_unsealer(request).status())


class ShareIn(BaseModel):
    share: str = Field(min_length=1, max_length=1000)


@public.post("/seal/shares", responses=errors(409, 422, 503, keyed=False), response_model=SealStatusOut)
def give_share(request: Request, body: ShareIn) -> dict[str, object]:
    """Give one share (one custodian). 400 for a share that is mistyped, of another split or
    given already (it does not count); at the threshold the vault unseals and serves."""
    return _json(_unsealer(request).give(body.share))


@public.post("/seal/reset", responses=errors(422, 503, keyed=False), response_model=SealStatusOut)
def reset_shares(request: Request) -> dict[str, object]:
    """Forget the shares given so far (they are held in memory only)."""
    return _json(_unsealer(request).reset())
