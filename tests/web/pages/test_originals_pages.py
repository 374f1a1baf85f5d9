"""The viewers' routes on the pages, over real HTTP with a session: the form that uploads a call
with its audio, the review page's page images and the player's timings, refused as on the API."""

from __future__ import annotations

import re

from tests.conftest import ingest_bytes
from tests.search.conftest import release
from tests.vault.originals_data import CALL_VTT, DECISION_PDF, wav
from tests.web.pages.conftest import csrf_of, sign_in


def test_a_call_uploaded_with_its_audio_from_the_form_plays_for_its_reviewers(world):
    rex = sign_in(world, "reviewer")
    form = rex.get("/upload/call")
    assert form.status_code == 200 and 'name="audio"' in form.text and 'action="/upload"' in form.text
    token = csrf_of(rex, "/upload/call")
    sound = wav()
    posted = rex.post("/upload", data={"csrf": token, "case": world.case.id},
                      files={"file": ("call.vtt", CALL_VTT), "audio": ("call.wav", sound)})
    assert posted.status_code == 303, posted.text[:300]
    document = posted.headers["location"].rsplit("/", 1)[1]
    review = rex.get(f"/review/{document}")
    assert 'id="player"' in review.text and "/static/player.js" in review.text
    assert rex.get(f"/documents/{document}/timings").json() == {
        "audio": True, "playable": True, "turns": [[0, 0, 1000], [1, 1000, 2000], [2, 2000, 3000]]}
    part = rex.get(f"/documents/{document}/audio", headers={"Range": "bytes=0-11"})
    assert part.status_code == 206 and part.content == sound[:12]
    assert rex.get(f"/documents/{document}/audio", headers={"Range": "bytes=0-1,4-5"}).status_code == 416


def test_the_review_page_shows_the_pages_and_only_reviewers_get_them(world):
    pdf = ingest_bytes(world.vault, world.case, DECISION_PDF, "decision.pdf")
    rex = sign_in(world, "reviewer")
    review = rex.get(f"/review/{pdf.id}")
    assert re.findall(r'<img src="(/documents/[^"]+/pages/\d+)"', review.text) == [
        f"/documents/{pdf.id}/pages/{n}" for n in (1, 2, 3, 4)]
    image = rex.get(f"/documents/{pdf.id}/pages/1")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert rex.get(f"/documents/{pdf.id}/pages/9").status_code == 400
    release(world.vault, pdf.id, world.users["reviewer"], world.users["reviewer2"])
    ivy = sign_in(world, "investigator")
    assert ivy.get(f"/documents/{pdf.id}/pages/1").status_code == 403
    assert "original-pages" not in ivy.get(f"/documents/{pdf.id}").text
    ada = sign_in(world, "admin")
    assert ada.get(f"/documents/{pdf.id}/pages/1").status_code == 404
