"""Review: the queue, a document's suggestions and spans, decisions, spans by hand, release, and
a document's own date (set or cleared)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from redaction import Permission
from vault import UserInfo
from vault.errors import InvalidInput
from web import _json
from web.api._models import ACCESS_KEY, QueuedOut, ReleasedOut, ReviewOut, UndecidedOut, errors
from web.api._names import PREFIX, actor
from web.deps import CurrentUser, Require, VaultDep, VisibleDocument

router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])


class DecisionsIn(BaseModel):
    accept: list[str] = Field(default_factory=list, max_length=1000)
    reject: list[str] = Field(default_factory=list, max_length=1000)
    identity: str | None = None  # the pseudonym the accepted suggestions are linked to


@router.get("/review", responses=errors(403), response_model=list[QueuedOut])
def review_queue(vault: VaultDep, user: Annotated[UserInfo, Require(Permission.DOCUMENT_REVIEW,
                                                                    "only reviewers have a review queue")],
                 ) -> list[dict[str, object]]:
    """Documents waiting for the caller's review."""
    return _json.review_queue_json(vault.in_review(user))


@router.get("/documents/{document_id}/review", responses=errors(403, 404, 409), response_model=ReviewOut)
def review_document(vault: VaultDep, user: CurrentUser, document_id: str) -> dict[str, object]:
    return _json.review_json(vault.review_view(document_id, user, actor=actor(user)))


@router.post("/documents/{document_id}/decisions", responses=errors(403, 404, 409), response_model=UndecidedOut)
def decide(vault: VaultDep, user: CurrentUser, document: VisibleDocument, body: DecisionsIn) -> dict[str, object]:
    """Accept and reject suggestions; accepted ones may be linked to an identity's pseudonym."""
    identity_id = vault.identity(vault.case(document.case_id), body.identity).id if body.identity else None
    masked = None
    if body.accept:
        masked = vault.decide(document.id, user, body.accept, accept=True, identity_id=identity_id, actor=actor(user))
    if body.reject:
        masked = vault.decide(document.id, user, body.reject, accept=False, actor=actor(user))
    if masked is None:
        raise InvalidInput("list suggestion ids to accept or reject")
    return _json.undecided_json(document.id, masked)


class GroupDecisionIn(BaseModel):
    group: str = Field(min_length=1, max_length=64)  # a group's key, as GET .../review/groups lists it
    decision: Literal["accept", "reject"]
    identity: str | None = None  # the pseudonym an accepted group is linked to


class GroupOut(BaseModel):
    key: str
    text: str
    category: str
    count: int
    speaker_turns: int


class GroupDecidedOut(UndecidedOut):
    decided: int


@router.get("/documents/{document_id}/review/groups", responses=errors(403, 404, 409), response_model=list[GroupOut])
def review_groups(vault: VaultDep, user: CurrentUser, document_id: str) -> list[dict[str, object]]:
    """The undecided suggestions grouped by text and category, the largest group first."""
    review = vault.review_view(document_id, user, actor=actor(user), window=slice(0, 0))
    return [{"key": g.key, "text": g.text, "category": g.category, "count": g.count, "speaker_turns": g.speaker_turns}
            for g in vault.review_groups.groups(review.suggestions)]


@router.post("/documents/{document_id}/groups", responses=errors(403, 404, 409), response_model=GroupDecidedOut)
def decide_group(vault: VaultDep, user: CurrentUser, document: VisibleDocument, body: GroupDecisionIn
                 ) -> dict[str, object]:
    """Accept (optionally as an identity) or reject every undecided suggestion of one group, at once."""
    identity_id = (vault.identity(vault.case(document.case_id), body.identity).id
                   if body.identity and body.decision == "accept" else None)
    masked, count = vault.review_groups.decide(document.id, user, body.group, accept=body.decision == "accept",
                                               identity_id=identity_id, actor=actor(user))
    return _json.undecided_json(document.id, masked) | {"decided": count}


class SpanIn(BaseModel):
    unit: int = Field(default=0, ge=-1, le=2**31 - 1)  # the page number or turn index; any for the title
    field: Literal["text", "speaker", "title"] = "text"
    start: int = Field(ge=0, le=2**31 - 1)
    end: int = Field(gt=0, le=2**31 - 1)
    category: str = Field(default="other", max_length=20)
    identity: str | None = None  # the pseudonym the span is masked as, instead of its category


@router.post("/documents/{document_id}/spans", status_code=201, responses=errors(403, 404, 409),
             response_model=UndecidedOut)
def add_span(vault: VaultDep, user: CurrentUser, document: VisibleDocument, body: SpanIn) -> dict[str, object]:
    """Mask a span by hand: of a page's text, a turn's text or speaker, or the title."""
    identity_id = vault.identity(vault.case(document.case_id), body.identity).id if body.identity else None
    masked = vault.add_span(document.id, user, unit=body.unit, start=body.start, end=body.end, field_name=body.field,
                            category=body.category, identity_id=identity_id, actor=actor(user))
    return _json.undecided_json(document.id, masked)


@router.post("/documents/{document_id}/release", responses=errors(403, 404, 409), response_model=ReleasedOut)
def release(vault: VaultDep, user: CurrentUser, document_id: str) -> dict[str, object]:
    """Release to the case's investigators: another reviewer than the uploader, nothing undecided."""
    return _json.released_json(vault.release(document_id, user, actor=actor(user)))


class DocumentDateIn(BaseModel):
    date: str | None = Field(default=None, max_length=40)  # YYYY-MM-DD; null or "" clears it


class DocumentDateOut(BaseModel):
    id: str
    date: str | None  # the document's own date
    uploaded: str  # the day it came in


@router.put("/documents/{document_id}/date", responses=errors(400, 403, 404), response_model=DocumentDateOut)
def set_document_date(vault: VaultDep, user: CurrentUser, document_id: str, body: DocumentDateIn) -> dict[str, object]:
    """Set or clear the document's own date (a reviewer of its case; audited; the search indexes
    follow). The upload day stays as it is."""
    document = vault.dates.set(document_id, user, body.date, actor=actor(user))
    return {"id": document.id, "date": document.document_date.isoformat() if document.document_date else None,
            "uploaded": document.created_at.date().isoformat()}
