"""The originals behind the text on the pages: a PDF page as an image beside the review text, a
call's audio for the player (``audio_player.html``, /static/player.js), and the form that uploads
a transcript with its audio (posted to /upload, which takes the audio along)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from web._pages import actor
from web._ranges import ranged
from web.deps import SignedIn, VaultDep
from web.pages._documents import upload_page

router = APIRouter()


@router.get("/documents/{document_id}/pages/{page}")
def page_image(vault: VaultDep, session: SignedIn, document_id: str, page: int) -> Response:
    png = vault.originals.page_image(document_id, session.user, page, actor=actor(session.user))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get("/documents/{document_id}/audio")
def audio(request: Request, vault: VaultDep, session: SignedIn, document_id: str) -> StreamingResponse:
    return ranged(vault.originals.audio(document_id, session.user, actor=actor(session.user)),
                  request.headers.get("range"))


@router.get("/documents/{document_id}/timings")
def timings(vault: VaultDep, session: SignedIn, document_id: str) -> JSONResponse:
    """When each turn starts and ends (no text), and whether the call has audio: what the player
    needs to follow the playback."""
    found = vault.originals.timings(document_id, session.user)
    return JSONResponse({"audio": found.audio, "playable": found.playable, "turns": [[t.position, t.start_ms, t.end_ms] for t in found.turns]},
                        headers={"Cache-Control": "private, no-store"})


@router.get("/upload/call")
def upload_call_form(request: Request, vault: VaultDep, session: SignedIn) -> HTMLResponse:
    return upload_page(request, vault, session, "upload_call.html")
