"""The originals behind the text: a PDF page as an image (reviewers), a call's audio (ranged)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from web._ranges import ranged
from web.api._models import ACCESS_KEY, errors
from web.api._names import PREFIX, actor
from web.deps import CurrentUser, VaultDep

router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])
_BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
_PNG = {200: {"content": _BINARY, "description": "the page drawn as a grey-scale PNG (image/png)"}}
_AUDIO = {200: {"content": _BINARY, "description": "the call's audio (audio/wav, audio/mpeg, audio/ogg or audio/mp4), "
                                                   "whole, or 206 with the byte range asked for (HTTP Range)"}}


@router.get("/documents/{document_id}/pages/{page}", response_class=Response, responses={**_PNG, **errors(403, 404)})
def page_image(vault: VaultDep, user: CurrentUser, document_id: str, page: int) -> Response:
    """Page ``page`` (from 1) of a PDF as an image, for the case's reviewers (audited): it shows
    the unmasked original."""
    png = vault.originals.page_image(document_id, user, page, actor=actor(user))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get("/documents/{document_id}/audio", response_class=StreamingResponse,
            responses={**_AUDIO, **errors(403, 404, 416)})
def audio(request: Request, vault: VaultDep, user: CurrentUser, document_id: str) -> StreamingResponse:
    """The call's audio, for the case's reviewers, or for a member whose unmask grants cover
    every protected identity in the transcript (audited, refusals too). Honours one HTTP Range."""
    return ranged(vault.originals.audio(document_id, user, actor=actor(user)), request.headers.get("range"))
