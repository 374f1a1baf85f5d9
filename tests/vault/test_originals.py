"""The originals behind the text (vault._originals), on both databases: a PDF's pages drawn in the
sandbox for reviewers only, a call's audio stored encrypted beside its transcript and handed out
only where the policy covers every voice and name in it."""

from __future__ import annotations

import io

import pytest

from tests.conftest import ingest_bytes
from tests.vault.conftest import release_all
from tests.vault.originals_data import CALL_VTT, DECISION_PDF, bomb_pdf, wav
from vault import BlobPurpose
from vault.errors import Forbidden, InvalidInput, NotFound, ParserLimitExceeded, UnsupportedType


def _call(vault, case, people, audio=None):
    document = vault.ingest(io.BytesIO(CALL_VTT), case=case, filename="call.vtt", actor="tester",
                            audio=io.BytesIO(audio if audio is not None else wav()))
    masked = vault.masked(document.id)
    h = next(i.id for i in vault.identities(case) if i.label == "H")
    speakers = [r["id"] for u in masked.units for r in u.suggestions if r["field"] == "speaker" and r["text"] == "H"]
    if speakers:
        vault.decide(document.id, people["rex"], speakers, accept=True, identity_id=h, actor="tester")
    release_all(vault, people, document.id)
    return document


def _grant(vault, case, people, label):
    request = vault.request_unmask(people["ivy"], case, label, "needed to identify the caller's voice for the file",
                                   actor="ivy")
    vault.decide_unmask(request.id, people["rita"], approve=True, actor="rita")


def test_a_reviewer_sees_a_pdf_page_as_a_png(vault, case, people):
    document = ingest_bytes(vault, case, DECISION_PDF, "decision.pdf")
    png = vault.originals.page_image(document.id, people["rex"], 1, actor="rex")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert vault.audit_entries()[-1].action == "document.page-image"


def test_nobody_but_a_reviewer_of_the_case_sees_a_page(vault, case, people):
    document = ingest_bytes(vault, case, DECISION_PDF, "decision.pdf")
    with pytest.raises(NotFound):  # in review: investigators may not even know it
        vault.originals.page_image(document.id, people["ivy"], 1, actor="ivy")
    release_all(vault, people, document.id)
    with pytest.raises(Forbidden):  # released: readable, masked; the page image shows the unmasked original
        vault.originals.page_image(document.id, people["ivy"], 1, actor="ivy")
    for outsider in ("ada", "otto"):
        with pytest.raises(NotFound):
            vault.originals.page_image(document.id, people[outsider], 1, actor=outsider)


@pytest.mark.parametrize("page", [0, 5, 10**30])
def test_a_page_out_of_range_is_invalid_input(vault, case, people, page):
    document = ingest_bytes(vault, case, DECISION_PDF, "decision.pdf")
    with pytest.raises(InvalidInput, match="4 pages"):
        vault.originals.page_image(document.id, people["rex"], page, actor="rex")


def test_a_bomb_sized_page_is_refused_not_drawn(vault, case, people):
    document = ingest_bytes(vault, case, bomb_pdf(), "bomb.pdf")
    with pytest.raises(ParserLimitExceeded, match="too large to show"):
        vault.originals.page_image(document.id, people["rex"], 1, actor="rex")


def test_a_transcript_is_not_drawn(vault, case, people):
    document = _call(vault, case, people)
    with pytest.raises(InvalidInput, match="not a PDF"):
        vault.originals.page_image(document.id, people["rex"], 1, actor="rex")


def test_the_audio_is_stored_encrypted_beside_the_transcript(vault, case, people):
    sound = wav()
    document = _call(vault, case, people, sound)
    with vault.store.read() as work:
        blob = work.latest_blob(document.id, BlobPurpose.AUDIO)
    stored = vault.store.blobs.path(blob.storage_name).read_bytes()
    assert sound[:44] not in stored and sound[1000:1100] not in stored
    audio = vault.originals.audio(document.id, people["rex"], actor="rex")
    assert audio.media_type == "audio/wav" and audio.size == len(sound)
    assert b"".join(audio.pieces(0, audio.size - 1)) == sound
    timings = vault.originals.timings(document.id, people["rex"])
    assert timings.audio and timings.playable
    assert [(t.start_ms, t.end_ms) for t in timings.turns] == [(0, 1000), (1000, 2000), (2000, 3000)]


def test_audio_that_is_not_audio_is_refused_and_nothing_is_stored(vault, case, people):
    before = vault.documents(case.id)
    with pytest.raises(UnsupportedType):
        vault.ingest(io.BytesIO(CALL_VTT), case=case, filename="call.vtt", actor="tester",
                     audio=io.BytesIO(b"MZ\x90\x00 not a sound" * 100))
    assert vault.documents(case.id) == before
    with pytest.raises(InvalidInput, match="transcript"):
        vault.ingest(io.BytesIO(DECISION_PDF), case=case, filename="d.pdf", actor="tester", audio=io.BytesIO(wav()))
    assert vault.documents(case.id) == before
    assert not [p for p in vault.store.blobs.root.rglob("*") if p.is_file() and ".incoming" in p.parts]


def test_an_investigator_hears_the_call_only_when_grants_cover_every_voice(vault, case, people):
    document = _call(vault, case, people)
    ivy = people["ivy"]
    assert not vault.originals.timings(document.id, ivy).playable
    with pytest.raises(Forbidden):
        vault.originals.audio(document.id, ivy, actor="ivy")
    assert vault.audit_entries()[-1].action == "document.audio-refused"
    _grant(vault, case, people, "H")  # one voice of two: not covered
    with pytest.raises(Forbidden):
        vault.originals.audio(document.id, ivy, actor="ivy")
    _grant(vault, case, people, "Caller 1")
    audio = vault.originals.audio(document.id, ivy, actor="ivy")
    audio.close()
    assert vault.originals.timings(document.id, ivy).playable
    heard = vault.audit_entries()[-1]
    assert heard.action == "document.audio"
    assert set(heard.details["revealed"]) == {i.id for i in vault.identities(case) if i.label in ("H", "Caller 1")}


def test_a_call_between_unnamed_voices_is_heard_by_no_investigator(vault, case, people):
    """A "Caller" and an "Agent" who name nobody: the masked text hides nothing, but either voice
    may be anyone's (H's too), and no grant covers a voice linked to no identity."""
    call = ("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v Caller>Are you still there?\n\n"
            "00:00:01.000 --> 00:00:02.000\n<v Agent>I am, go on.\n").encode()
    document = vault.ingest(io.BytesIO(call), case=case, filename="unnamed.vtt", actor="tester",
                            audio=io.BytesIO(wav()))
    release_all(vault, people, document.id)
    assert not vault.masked(document.id).tokens  # nothing masked: only the voices could tell
    ivy = people["ivy"]
    assert not vault.originals.timings(document.id, ivy).playable
    with pytest.raises(Forbidden):
        vault.originals.audio(document.id, ivy, actor="ivy")
    assert vault.audit_entries()[-1].action == "document.audio-refused"
    vault.originals.audio(document.id, people["rex"], actor="rex").close()  # the case's reviewers hear it


def test_no_admin_and_no_member_of_another_case_hears_the_call(vault, case, people):
    document = _call(vault, case, people)
    for outsider in ("ada", "otto"):
        with pytest.raises(NotFound):
            vault.originals.audio(document.id, people[outsider], actor=outsider)


def test_the_audio_follows_its_document_through_a_re_encryption(vault, case, people):
    sound = wav(1.0)
    document = _call(vault, case, people, sound)
    vault.rotate_keys(actor="tester", case=case)
    vault.reencrypt(actor="tester", case=case)
    audio = vault.originals.audio(document.id, people["rex"], actor="rex")
    assert b"".join(audio.pieces(0, audio.size - 1)) == sound
