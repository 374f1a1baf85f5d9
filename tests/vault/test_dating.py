"""A document's own date, read from its content: spellings, cues, non-dates and impossible days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from vault._ingest._dating import document_date, parse_date

CORPUS = Path(__file__).resolve().parents[2] / "vault" / "demo" / "corpus"


@pytest.mark.parametrize(("text", "expected"), [
    # French
    ("14 mars 2023", date(2023, 3, 14)),
    ("1er février 2023", date(2023, 2, 1)),
    ("3 fevrier 2023", date(2023, 2, 3)),
    ("5 Décembre 2023", date(2023, 12, 5)),
    ("15 août 2021", date(2021, 8, 15)),
    # English
    ("14 March 2023", date(2023, 3, 14)),
    ("14th March 2023", date(2023, 3, 14)),
    ("14th of March, 2023", date(2023, 3, 14)),
    ("March 14, 2023", date(2023, 3, 14)),
    ("Sept. 3, 2023", date(2023, 9, 3)),
    ("3 Sep 2023", date(2023, 9, 3)),
    # ISO and Chinese
    ("2023-03-14", date(2023, 3, 14)),
    ("2023年3月14日", date(2023, 3, 14)),
    ("2023 年 03 月 14 日", date(2023, 3, 14)),
    ("２０２３年３月１４日", date(2023, 3, 14)),  # full-width digits
    ("二〇二三年三月十四日", date(2023, 3, 14)),
    ("二〇二三年十二月三十一日", date(2023, 12, 31)),
    # impossible days are no dates
    ("31 février 2023", None),
    ("30 February 2023", None),
    ("29 février 2023", None),
    ("29 février 2024", date(2024, 2, 29)),
    ("2023-02-30", None),
    ("2023-13-01", None),
    ("2023年2月30日", None),
    ("32 mars 2023", None),
    ("二〇二三年十三月一日", None),
    # non-dates
    ("mars 2023", None),
    ("14 mars", None),
    ("RG 23/04412", None),
    ("14/03/2023", None),  # day or month first: never guessed
    ("2023", None),
    ("1 mai 0023", None),
    ("14 maison 2023", None),
    ("", None),
])
def test_spellings(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # a decision's date, announced
    ("TRIBUNAL\nORDONNANCE\nrendue le 5 décembre 2023\nM. H, né le 3 février 1971", date(2023, 12, 5)),
    ("M. H, né le 3 février 1971 ...\nParis, le 14 mars 2023", date(2023, 3, 14)),
    ("M. Quillon, le 14 octobre 2023, a quitté Lyon.", None),  # a name and a comma: no dateline
    ("Le 14 octobre 2023 un article parut. Fait à Lyon, le 5 décembre 2023.", date(2023, 12, 5)),
    ("Par acte du 3 novembre 2023 ... rendu le 3 février 2023", date(2023, 2, 3)),
    ("Ordonnance prononcée par mise à disposition au greffe le 5 décembre 2023.", date(2023, 12, 5)),
    ("The applicant was born on 2 May 1970.\nDated 14 March 2023", date(2023, 3, 14)),
    ("Date of judgment: 2023-03-14\nThe events of 2022-01-01", date(2023, 3, 14)),
    ("Judgment delivered on March 14, 2023.", date(2023, 3, 14)),
    ("本院于2022年1月5日受理。判决日期：2023年3月14日", date(2023, 3, 14)),
    ("审判长 张三\n二〇二三年三月十四日\n书记员 李四", date(2023, 3, 14)),  # a dateline
    # a date on its own line
    ("DÉCISION\n\n14 mars 2023\n\nLe requérant, né le 1er mai 1970", date(2023, 3, 14)),
    # body dates only: none (a birth date, an event cited)
    ("M. H, né le 3 février 1971, a été arrêté le 14 octobre 2023 à Lyon.", None),
    ("Nothing dated here.", None),
    ("Paris, le 31 février 2023", None),  # an impossible announced date is no date
    ("", None),
])
def test_document_date(text: str, expected: date | None) -> None:
    assert document_date(text) == expected


def test_a_transcript_header_names_the_call() -> None:
    header = "Incoming call, 27 September 2023, 18:42, number withheld.\nMachine transcript."
    assert document_date("H: Hello? We met on 3 March 2019.", header=header) == date(2023, 9, 27)
    # a header's date with its cue dates the call; the body's dates never do
    assert document_date("H: Since 3 March 2019.", header="recorded 2023-10-30 evening") == date(2023, 10, 30)
    assert document_date("H: Since 3 March 2019.", header="") is None
    # a date in a header without a cue is no call's date: it may be a speaker's birthday
    assert document_date("H: Since 3 March 2019.", header="subject born 1975-04-02, Paris office") is None


def test_an_explicit_date_comes_before_a_dateline() -> None:
    text = "1 janvier 2020\nArrêt rendu le 14 mars 2023"
    assert document_date(text) == date(2023, 3, 14)


def test_the_demo_court_records() -> None:
    ordonnance = (CORPUS / "ordonnance.txt").read_text()
    assert document_date(ordonnance) == date(2023, 12, 5)


def test_a_long_text_is_read_at_both_ends() -> None:
    text = "x " * 200_000 + "\nFait à Lyon, le 5 décembre 2023."
    assert document_date(text) == date(2023, 12, 5)


VTT = (b"WEBVTT\n\nNOTE\nIncoming call, 27 September 2023, 18:42, number withheld.\n\n"
       b"00:00:01.200 --> 00:00:03.900\n<v H>Hello? Since 3 March 2019.\n")
JSON = b'{"date": "2023-10-30", "segments": [{"start": 0, "end": 1.5, "speaker": "A", "text": "Oui ?"}]}'
PLAIN = b"[00:00:02] H: Allo ? On s'est vus le 3 mars 2019.\n[00:00:04] QM: Oui.\n"


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("ordonnance.txt", None, date(2023, 12, 5)),
    ("appel-2-officiel.vtt", None, date(2023, 9, 27)),
    ("call.vtt", VTT, date(2023, 9, 27)),
    ("call.json", JSON, date(2023, 10, 30)),
    ("call.txt", PLAIN, None),  # a date in what was said is not the call's
])
def test_ingest_keeps_the_document_date_beside_the_upload_day(vault, case, name, data, expected) -> None:
    from tests.conftest import ingest_bytes

    document = ingest_bytes(vault, case, data if data is not None else (CORPUS / name).read_bytes(), filename=name)
    assert document.document_date == expected
    assert vault.document(document.id).document_date == expected
    assert document.created_at.date() != expected  # the upload day stays its own field


def test_a_reviewer_sets_and_clears_the_date_on_both_backends(vault, case) -> None:
    from tests.conftest import ingest_bytes
    from vault.errors import Forbidden, InvalidInput, NotFound

    rex, _ = vault.add_user("rex", "reviewer", cases=(case.id,), actor="tester")
    ivy, _ = vault.add_user("ivy", "investigator", cases=(case.id,), actor="tester")
    ada, _ = vault.add_user("ada", "admin", actor="tester")
    document = ingest_bytes(vault, case, PLAIN, filename="call.txt")
    before = vault.feed.latest_index_change()
    assert vault.dates.set(document.id, rex, "2023-03-14", actor="rex").document_date == date(2023, 3, 14)
    assert vault.document(document.id).document_date == date(2023, 3, 14)
    assert vault.feed.latest_index_change() > before  # the indexes follow through the outbox
    assert vault.document(document.id).created_at == document.created_at  # the upload day stays
    for person, refusal in ((ivy, NotFound), (ada, (NotFound, Forbidden))):  # in review: ivy cannot see it
        with pytest.raises(refusal):
            vault.dates.set(document.id, person, None, actor=person.name)
    for bad in ("2023-02-31", "14/03/2023", "0999-12-31"):
        with pytest.raises(InvalidInput):
            vault.dates.set(document.id, rex, bad, actor="rex")
    assert vault.dates.set(document.id, rex, "", actor="rex").document_date is None
    entries = [e for e in vault.audit_entries(limit=1000) if e.action == "document.date"]
    assert [e.details["date"] for e in entries] == ["2023-03-14", None]
    assert all(e.details["case"] == case.id for e in entries)  # the case's reviewers read it there
    for_admins = [e for e in vault.audit_entries(limit=1000, reader=ada) if e.action == "document.date"]
    assert len(for_admins) == 2 and all("date" not in (e.details or {}) for e in for_admins)  # content-derived
