"""The originals over real HTTP, on both databases: a PDF page as an image for the case's
reviewers only, a call's audio uploaded with its transcript and served in byte ranges, to
reviewers and to investigators whose unmask grants cover every voice and name in the call."""

from __future__ import annotations

import io

import pytest

from tests.conftest import ingest_bytes
from tests.conftest import database_url as _both_backends
from tests.search.conftest import release
from tests.vault.originals_data import CALL_VTT, DECISION_PDF, bomb_pdf, wav

database_url = _both_backends  # storage is touched: SQLite and PostgreSQL
SOUND = wav()


@pytest.fixture
def originals(world):
    vault, rex, rita = world.vault, world.users["reviewer"], world.users["reviewer2"]
    pdf = ingest_bytes(vault, world.case, DECISION_PDF, "decision.pdf")
    release(vault, pdf.id, rex, rita)
    with world.client("reviewer") as client:
        answer = client.post("/api/v1/documents", data={"case": world.case.name},
                             files={"file": ("call.vtt", io.BytesIO(CALL_VTT)), "audio": ("call.wav", io.BytesIO(SOUND))})
    assert answer.status_code == 201, answer.text
    call = answer.json()["id"]
    release(vault, call, rex, rita)  # uploaded by rex, released by rita: four eyes
    return {"pdf": pdf.id, "call": call}


def _grant(world, label):
    vault, ivy = world.vault, world.users["investigator"]
    request = vault.request_unmask(ivy, world.case, label, "to compare the voice with the recorded hearing", actor="ivy")
    vault.decide_unmask(request.id, world.users["reviewer2"], approve=True, actor="rita")


def test_a_reviewer_gets_a_page_as_png_and_nobody_else_does(world, originals):
    pdf = originals["pdf"]
    with world.client("reviewer") as rex:
        page = rex.get(f"/api/v1/documents/{pdf}/pages/1")
    assert page.status_code == 200 and page.headers["content-type"] == "image/png"
    assert page.content.startswith(b"\x89PNG") and "no-store" in page.headers["cache-control"]
    for persona, status in (("investigator", 403), ("admin", 404), ("outsider", 404), ("anonymous", 401)):
        with world.client(persona) as client:
            refused = client.get(f"/api/v1/documents/{pdf}/pages/1")
        assert refused.status_code == status, (persona, refused.text)
        assert not refused.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("page, status", [("0", 400), ("5", 400), ("99999999999999999999999", 400), ("x", 422),
                                          ("-1", 400)])
def test_a_page_out_of_range_is_a_clear_4xx(world, originals, page, status):
    with world.client("reviewer") as rex:
        answer = rex.get(f"/api/v1/documents/{originals['pdf']}/pages/{page}")
    assert answer.status_code == status, answer.text
    if status == 400:
        assert "4 pages" in answer.json()["message"]


def test_a_bomb_sized_page_is_a_clear_422_and_the_server_lives_on(world, originals):
    bomb = ingest_bytes(world.vault, world.case, bomb_pdf(), "bomb.pdf")
    with world.client("reviewer") as rex:
        answer = rex.get(f"/api/v1/documents/{bomb.id}/pages/1")
        assert answer.status_code == 422 and "too large to show" in answer.json()["message"]
        assert rex.get(f"/api/v1/documents/{bomb.id}/pages/2").status_code == 200


def test_the_audio_is_served_whole_and_in_ranges(world, originals):
    url = f"/api/v1/documents/{originals['call']}/audio"
    with world.client("reviewer") as rex:
        whole = rex.get(url)
        assert whole.status_code == 200 and whole.content == SOUND
        assert whole.headers["content-type"] == "audio/wav" and whole.headers["accept-ranges"] == "bytes"
        for header, start, end in (("bytes=0-99", 0, 99), ("bytes=100-", 100, len(SOUND) - 1),
                                   ("bytes=-10", len(SOUND) - 10, len(SOUND) - 1),
                                   (f"bytes=40000-{10**17}", 40000, len(SOUND) - 1)):
            part = rex.get(url, headers={"Range": header})
            assert part.status_code == 206, (header, part.text)
            assert part.content == SOUND[start:end + 1]
            assert part.headers["content-range"] == f"bytes {start}-{end}/{len(SOUND)}"


@pytest.mark.parametrize("header", [f"bytes={len(SOUND)}-", "bytes=5-1", "bytes=0-1,5-6", "items=0-1", "bytes=-0",
                                    "bytes=" + "9" * 40 + "-", "bytes=-", "bytes=a-b", "bytes=\u0660-".encode()])
def test_range_abuse_is_416_not_500(world, originals, header):
    with world.client("reviewer") as rex:
        answer = rex.get(f"/api/v1/documents/{originals['call']}/audio", headers={"Range": header})
        assert answer.status_code == 416, (header, answer.status_code, answer.text)
        assert answer.json()["error"] == "RANGE_NOT_SATISFIABLE"
        assert rex.get(f"/api/v1/documents/{originals['call']}/audio").status_code == 200  # nothing left open


def test_an_investigator_hears_the_call_only_with_grants_for_every_voice(world, originals):
    url = f"/api/v1/documents/{originals['call']}/audio"
    with world.client("investigator") as ivy:
        refused = ivy.get(url)
        assert refused.status_code == 403 and refused.content != SOUND
        assert world.vault.audit_entries(limit=1000)[-1].action == "document.audio-refused"
        _grant(world, "H")
        assert ivy.get(url).status_code == 403  # H's voice is unmasked, Caller 1's is not
        _grant(world, "Caller 1")
        allowed = ivy.get(url, headers={"Range": "bytes=0-43"})
        assert allowed.status_code == 206 and allowed.content == SOUND[:44]
    for persona in ("admin", "outsider"):
        with world.client(persona) as client:
            assert client.get(url).status_code == 404


def test_audio_that_is_not_audio_or_without_a_transcript_is_refused(world, originals):
    with world.client("reviewer") as rex:
        fake = rex.post("/api/v1/documents", data={"case": world.case.name},
                        files={"file": ("c.vtt", io.BytesIO(CALL_VTT.replace(b"me.", b"me!"))),
                               "audio": ("c.wav", io.BytesIO(b"<html>not a sound</html>" * 50))})
        assert fake.status_code == 415, fake.text
        with_record = rex.post("/api/v1/documents", data={"case": world.case.name},
                               files={"file": ("d.txt", io.BytesIO(b"COUR D'APPEL\n\nArret du 1er mars.\n")),
                                      "audio": ("c.wav", io.BytesIO(SOUND))})
        assert with_record.status_code in (400, 422), with_record.text
        two = rex.post("/api/v1/documents", data={"case": world.case.name},
                       files=[("file", ("c.vtt", io.BytesIO(CALL_VTT))), ("audio", ("a.wav", io.BytesIO(SOUND))),
                              ("audio", ("b.wav", io.BytesIO(SOUND)))])
        assert two.status_code == 400, two.text
        assert rex.get(f"/api/v1/documents/{originals['pdf']}/audio").status_code == 404  # no audio
