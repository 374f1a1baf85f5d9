"""Candidate detection: what a reviewer is shown that no registered identity covers yet.

Tables read like the spec: text -> the (category, text) pairs that must come up, and a table of
text that must not come up at all. The demo corpus is the realistic check: every protected
person, the phone number and the e-mail address of "Affaire H" must be suggested somewhere, since
they are exactly what a reviewer has to see. A miss names the thing that was missed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from redaction import Candidate, Category, RedactionError, detect
from redaction._detect import counting_work

PERSON, ORG, PHONE, EMAIL = Category.PERSON, Category.ORGANISATION, Category.PHONE, Category.EMAIL
ID, IBAN, PLACE = Category.ID_NUMBER, Category.IBAN, Category.PLACE

DEMO = Path(__file__).resolve().parents[2] / "vault" / "demo"


def found(text: str, **options) -> set[tuple[Category, str]]:
    return {(c.category, c.text) for c in detect(text, **options)}


def row(id_: str, text: str, *expected: tuple[Category, str]):
    return pytest.param(text, set(expected), id=id_)


# -- what must come up, and exactly that -----------------------------------------------------------

DETECTED = [
    # phone numbers: international and national forms
    row("phone-fr-international", "Appelez le +33 6 39 98 42 17 demain.", (PHONE, "+33 6 39 98 42 17")),
    row("phone-fr-national-spaces", "Son portable : 06 39 98 42 17.", (PHONE, "06 39 98 42 17")),
    row("phone-fr-national-dots", "Il a communiqué le 06.39.98.42.17, ligne prépayée.", (PHONE, "06.39.98.42.17")),
    row("phone-fr-00-prefix", "Call 0033 6 39 98 42 17 now", (PHONE, "0033 6 39 98 42 17")),
    row("phone-fr-unspaced", "tel 0639984217", (PHONE, "0639984217")),
    row("phone-gb-international", "Call me on +44 20 7946 0958 tonight.", (PHONE, "+44 20 7946 0958")),
    # e-mail addresses
    row("email-fr", "Écrire à jean.dupont@exemple.fr.", (EMAIL, "jean.dupont@exemple.fr")),
    row("email-en-angle-brackets", "Write to <john.smith+cases@mail.example.co.uk> today.",
        (EMAIL, "john.smith+cases@mail.example.co.uk")),
    row("email-wins-over-id-number", "Écrire à KD4471902@exemple.fr", (EMAIL, "KD4471902@exemple.fr")),
    # IBANs, checked by their check digits
    row("iban-fr-grouped", "IBAN : FR76 3000 6000 0112 3456 7890 189 merci",
        (IBAN, "FR76 3000 6000 0112 3456 7890 189")),
    row("iban-fr-compact", "Virement sur FR7630006000011234567890189.", (IBAN, "FR7630006000011234567890189")),
    row("iban-gb-letters-in-groups", "IBAN: GB82 WEST 1234 5698 7654 32.", (IBAN, "GB82 WEST 1234 5698 7654 32")),
    row("iban-stops-before-next-word", "DE89 3704 0044 0532 0130 00 SWIFT", (IBAN, "DE89 3704 0044 0532 0130 00")),
    # document, passport, warrant and case numbers
    row("passport-letters-then-digits", "la restitution à M. Quillon de son passeport n° KD4471902 ;",
        (PERSON, "Quillon"), (ID, "KD4471902")),
    row("case-number-after-n", "Arrêt n° 2024/0312 — Dossier n° 2023/01847",
        (ID, "2024/0312"), (ID, "2023/01847")),
    row("case-number-after-rg", "RG n° 23/04412 — Minute n° 23/1290", (ID, "23/04412"), (ID, "23/1290")),
    row("warrant-segmented", "le mandat A-1187/2-2020 publié", (ID, "A-1187/2-2020")),
    row("note-number-segmented", "NOTE D’ENQUÊTE N° OE-2023-117", (ID, "OE-2023-117")),
    row("decision-number-slashes", "Décision CCN/2024/0219", (ID, "CCN/2024/0219")),
    row("passport-digits-after-keyword", "passport 123456789 expired", (ID, "123456789")),
    row("us-docket", "Case No. 1:23-cv-04567 was filed.", (ID, "23-cv-04567")),
    # persons after a title (the title itself is not part of the span)
    row("title-m-caps-surname-first", "M. QUILLON Hadrien Émile, né le 3 février 1971",
        (PERSON, "QUILLON Hadrien Émile")),
    row("title-mme-hyphenated", "Devant Mme Laurence Oyelaran-Petit, première vice-présidente",
        (PERSON, "Laurence Oyelaran-Petit")),
    row("title-maitre-twice", "Maître Béatrice Lanvallon et Maître Yao Mensah-Delorme",
        (PERSON, "Béatrice Lanvallon"), (PERSON, "Yao Mensah-Delorme")),
    row("title-lowercase-colonel", "le colonel Lucan ARDEVIK, du Bureau", (PERSON, "Lucan ARDEVIK")),
    row("title-juge", "le juge Dupont a statué.", (PERSON, "Dupont")),
    row("title-everyday-surname", "Dr Martin a signé.", (PERSON, "Martin")),
    row("title-mr-en", "Hello? Mr Quillon, good evening.", (PERSON, "Quillon")),
    row("title-monsieur-colonel", "Bonsoir, Monsieur Quillon. Colonel Ardevik.",
        (PERSON, "Quillon"), (PERSON, "Ardevik")),
    row("title-judge-professor-en", "Judge Amina Diop-Sørensen and Professor Tomás Echeverría Lugo sat.",
        (PERSON, "Amina Diop-Sørensen"), (PERSON, "Tomás Echeverría Lugo")),
    row("title-pr", "Pr Ingrid Haraldsen", (PERSON, "Ingrid Haraldsen")),
    row("title-name-wrapped-at-line-end", "assisté de Mme Sophie\nArnault-Diallo et de",
        (PERSON, "Sophie\nArnault-Diallo")),
    # persons as capitalised sequences
    row("name-mid-sentence-en", "My name is Lucan Ardevik, Colonel Ardevik.",
        (PERSON, "Lucan Ardevik"), (PERSON, "Ardevik")),
    row("name-caps-surname", "L'appelant est Idris KALVANO, ami d'enfance", (PERSON, "Idris KALVANO")),
    row("name-at-sentence-start-uncommon-first-word", "C'est Quentin. Quentin Malaure.", (PERSON, "Quentin Malaure")),
    row("name-alone-on-a-line", "Salomé Krief", (PERSON, "Salomé Krief")),
    row("name-possessive", "Quentin Malaure's lawyer", (PERSON, "Quentin Malaure")),
    row("name-particles", "Le président Mohammed ben Salman a parlé.", (PERSON, "Mohammed ben Salman")),
    row("name-elided-particle-and-al", "Valéry Giscard d'Estaing et Bachar al-Assad",
        (PERSON, "Valéry Giscard d'Estaing"), (PERSON, "Bachar al-Assad")),
    row("name-irish-apostrophe", "and Kieran O'Shaughnessy-Bell", (PERSON, "Kieran O'Shaughnessy-Bell")),
    row("name-with-initial", "arrived with Hadrien É. Quillon.", (PERSON, "Hadrien É. Quillon")),
    row("name-in-capitals-with-a-non-word", "Signé : HADRIEN QUILLON", (PERSON, "HADRIEN QUILLON")),
    row("names-in-columns", "Chloé Vidalenc                            Laurence Oyelaran-Petit",
        (PERSON, "Chloé Vidalenc"), (PERSON, "Laurence Oyelaran-Petit")),
    row("name-under-a-heading", "LE GREFFIER\nHadrien Mercadier\nLE PRÉSIDENT", (PERSON, "Hadrien Mercadier")),
    # organisations
    row("org-legal-forms", "Ostrelis SAS et Acme Widgets Ltd et Keldagrain GmbH",
        (ORG, "Ostrelis SAS"), (ORG, "Acme Widgets Ltd"), (ORG, "Keldagrain GmbH")),
    row("org-everyday-words-with-legal-form", "Crédit Agricole SA", (ORG, "Crédit Agricole SA")),
    row("org-groupe-after-article", "Le Groupe Malaure a sauvé Keldagrain.", (ORG, "Groupe Malaure")),
    row("org-word-and-suffix", "Groupe Malaure SAS", (ORG, "Groupe Malaure SAS")),
    row("org-starting-words", "the Ministry of Justice and the Banque de France and the World Bank",
        (ORG, "Ministry of Justice"), (ORG, "Banque de France"), (ORG, "World Bank")),
    row("org-bureau-en", "of the Bureau of State Integrity. I am", (ORG, "Bureau of State Integrity")),
    row("org-after-societe", "la société Héraut Média Keldavie", (ORG, "Héraut Média Keldavie")),
    row("org-sentence-start-preposition", "Selon Ostrelis SAS, non.", (ORG, "Ostrelis SAS")),
    # places: street addresses, and capitalised sequences led by a place word
    row("address-fr-full", "son adresse complète, 14, rue des Tanneurs-Vieux, 69006 Lyon, ainsi que",
        (PLACE, "14, rue des Tanneurs-Vieux, 69006 Lyon")),
    row("address-fr-dash-postcode", "27, quai des Mariniers — 69002 Lyon",
        (PLACE, "27, quai des Mariniers — 69002 Lyon")),
    row("address-fr-street-only", "la rue des Tanneurs-Vieux est très calme", (PLACE, "rue des Tanneurs-Vieux")),
    row("address-en-street", "at 10 Downing Street", (PLACE, "Downing Street")),
    row("place-republique", "la République de Keldavie, représentée", (PLACE, "République de Keldavie")),
]


@pytest.mark.parametrize("text, expected", DETECTED)
def test_detects(text, expected):
    assert found(text) == expected


# -- what must not come up -------------------------------------------------------------------------

NOT_FLAGGED = [
    # years, times, dates, page numbers, amounts
    pytest.param("en 2024", id="year"),
    pytest.param("Comme en 2019, quand tu m'as juré", id="year-in-speech"),
    pytest.param("rendez-vous à 21h30", id="time-21h30"),
    pytest.param("à 21 h 30", id="time-spaced"),
    pytest.param("[00:00:04] QM: Hadrien ?", id="transcript-timestamp"),
    pytest.param("00:01:07", id="time-hh-mm-ss"),
    pytest.param("00:00:01.200 --> 00:00:03.900", id="webvtt-cue-timing"),
    pytest.param("le 16/04/2024", id="date-slashes"),
    pytest.param("le 2024-04-16", id="date-iso"),
    pytest.param("2024-04-16T21:30", id="datetime-iso"),
    pytest.param("le 16-Apr-2024", id="date-month-name"),
    pytest.param("voir page 12", id="page-number"),
    pytest.param("RG — page 2/2", id="page-of-pages"),
    pytest.param("pièces n° 14 à 17", id="short-numbers-after-n"),
    pytest.param("l'hôpital central n° 2", id="number-2"),
    pytest.param("2023/01847", id="bare-number-with-slash"),
    pytest.param("1 234 567,89 €", id="amount"),
    pytest.param("une peine de 1 000 euros", id="amount-small"),
    pytest.param("article 696-15 du code", id="article-number"),
    pytest.param("COVID-19 and F-16", id="few-digits"),
    pytest.param("100km and 2nd and 10kg", id="units-and-ordinals"),
    pytest.param("v1.2.3 and Python3.11", id="version-numbers"),
    # sentence starts and ordinary words
    pytest.param("The court held that it had jurisdiction.", id="the-court"),
    pytest.param("The Court held that.", id="the-court-capitalised"),
    pytest.param("Attendu que le tribunal", id="attendu-que"),
    pytest.param("Central Hospital Number Two", id="everyday-capitalised-words"),
    pytest.param("Paris et Lyon", id="cities-joined-by-et"),
    pytest.param("Hello? Hello. Bonsoir.", id="greetings"),
    pytest.param("l'hebdomadaire Le Fanal, fermé", id="article-plus-one-word"),
    # titles with nothing to name
    pytest.param("Monsieur le Président", id="title-then-article"),
    pytest.param("Mme l'avocate générale", id="title-then-lowercase"),
    pytest.param("Ministère public : la parole", id="ministere-public"),
    pytest.param("the Bureau will take your cooperation", id="bureau-alone"),
    pytest.param("d'intérêt général. Dans le contexte", id="title-word-before-full-stop"),
    # headings in capitals: everyday words, or uncommon vocabulary (decision: not a name)
    pytest.param("COUR D'APPEL DE LYON", id="heading-cour-d-appel"),
    pytest.param("TRIBUNAL JUDICIAIRE DE LYON", id="heading-tribunal"),
    pytest.param("AU NOM DU PEUPLE FRANÇAIS", id="heading-au-nom"),
    pytest.param("PERSONNE RÉCLAMÉE", id="heading-uncommon-vocabulary"),
    pytest.param("ÉMET UN AVIS DÉFAVORABLE à la demande", id="operative-part"),
    pytest.param("RÉPUBLIQUE FRANÇAISE ET CHAMBRE DE L'INSTRUCTION DE LYON", id="heading-more-than-four-words"),
    pytest.param("REFUS DE SA FAMILLE", id="sa-possessive-in-capitals"),
    # the demo corpus's traps: they share letters with Quillon
    pytest.param("le terminal de Port-Quillan", id="trap-port-quillan"),
    pytest.param("le sabre aux quillons d'argent", id="trap-quillons"),
    pytest.param("on jouait aux quilles", id="trap-quilles"),
    # not a whole phone number, not a checked IBAN
    pytest.param("FR76 3000 6000 0112 3456 7890 188", id="iban-bad-check-digits"),
    pytest.param("aaaa@bbbb", id="email-without-domain"),
]


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_does_not_flag(text):
    assert found(text) == set(), f"flagged in {text!r}"


# -- the demo corpus -------------------------------------------------------------------------------

def _manifest() -> dict:
    return json.loads((DEMO / "manifest.json").read_text(encoding="utf-8"))


def _corpus(kind: str | None = None) -> dict[str, str]:
    """The documents that are plain text (text, SRT, WebVTT), each in its own encoding."""
    texts = {}
    for document in _manifest()["documents"]:
        if Path(document["file"]).suffix in (".txt", ".srt", ".vtt") and kind in (None, document["kind"]):
            raw = (DEMO / "corpus" / document["file"]).read_bytes()
            texts[document["file"]] = raw.decode(document.get("encoding", "utf-8"))
    return texts


@pytest.fixture(scope="module")
def corpus_candidates() -> dict[str, list[Candidate]]:
    return {name: detect(text) for name, text in _corpus().items()}


def _shown(candidates: dict[str, list[Candidate]], category: Category) -> set[str]:
    return {" ".join(c.text.split()).casefold() for found_ in candidates.values() for c in found_
            if c.category is category}


def _identities(category: str) -> list:
    return [pytest.param(i, id=i["pseudonym"]) for i in _manifest()["identities"] if i["category"] == category]


@pytest.mark.parametrize("identity", _identities("person"))
def test_demo_every_protected_person_is_shown(identity, corpus_candidates):
    # the full name as one span, in whatever case the corpus writes it ("Idris KALVANO")
    assert identity["name"].casefold() in _shown(corpus_candidates, PERSON), \
        f"{identity['pseudonym']}: {identity['name']!r} is never suggested"


@pytest.mark.parametrize("identity", _identities("phone"))
def test_demo_every_written_form_of_the_phone_number_is_shown(identity, corpus_candidates):
    text = "\n".join(_corpus().values())
    forms = [f for f in [identity["name"], *identity["aliases"]] if f in text]
    assert identity["name"] in forms
    missed = [f for f in forms if f.casefold() not in _shown(corpus_candidates, PHONE)]
    assert not missed, f"phone number not suggested as written: {missed}"


@pytest.mark.parametrize("identity", _identities("email"))
def test_demo_the_email_address_is_shown(identity, corpus_candidates):
    assert identity["name"] in _shown(corpus_candidates, EMAIL), f"{identity['name']!r} is never suggested"


def test_demo_public_people_are_shown_too(corpus_candidates):
    # Judges, lawyers and clerks are left unprotected by a reviewer's decision, not by the detector's.
    text = "\n".join(_corpus().values())
    people = [p["text"] for p in _manifest()["not_protected"] if p["kind"] == "person" and p["text"] in text]
    assert people, "the text corpus names no public person any more"
    missed = [p for p in people if p.casefold() not in _shown(corpus_candidates, PERSON)]
    assert not missed, f"never suggested: {missed}"


def test_demo_traps_are_not_suggested(corpus_candidates):
    traps = [t["text"] for t in _manifest()["traps"] if t["text"] != "Hadrien Mercadier"]
    leaked = [(name, c.text) for name, found_ in corpus_candidates.items() for c in found_
              for trap in traps if trap in c.text]
    assert not leaked, f"traps suggested: {leaked}"


# the labels the ingest pipeline reads off each transcript format
SPEAKER_LABEL = {
    ".txt": re.compile(r"^\[[\d:]+\] ([^:\n]+):", re.MULTILINE),
    ".srt": re.compile(r"^([^:\n\d][^:\n]*): ", re.MULTILINE),
    ".vtt": re.compile(r"<v ([^>]+)>"),
}


def test_demo_speaker_labels_of_each_transcript_are_shown():
    # The SRT call's text names nobody in two words; its speaker labels are what must come up.
    transcripts = _corpus("transcript")
    assert len(transcripts) == 3
    for name, text in transcripts.items():
        speakers = set(SPEAKER_LABEL[Path(name).suffix].findall(text))
        assert speakers, f"no speaker labels read from {name}"
        shown = {c.text for c in detect(text, speakers=speakers) if c.category is PERSON}
        assert speakers <= shown, f"{name}: speaker labels not suggested: {speakers - shown}"


def test_demo_output_is_sorted_and_without_overlaps(corpus_candidates):
    for name, text in _corpus().items():
        candidates = corpus_candidates[name]
        for c in candidates:
            assert c.text == text[c.start:c.end]
        for before, after in zip(candidates, candidates[1:]):
            assert before.end <= after.start, f"{name}: {before} overlaps {after}"


# -- registered spans: nothing overlapping one is suggested ----------------------------------------

def test_known_spans_are_skipped():
    text = "Mme Odile Quillon a appelé Hadrien Quillon au 06 39 98 42 17."
    hadrien, phone = text.index("Hadrien Quillon"), text.index("06 39")
    known = [(hadrien, hadrien + len("Hadrien Quillon")), (phone, phone + len("06 39 98 42 17"))]
    assert found(text) == {(PERSON, "Odile Quillon"), (PERSON, "Hadrien Quillon"), (PHONE, "06 39 98 42 17")}
    assert found(text, known=known) == {(PERSON, "Odile Quillon")}


def test_a_partial_overlap_is_enough_to_skip():
    text = "Écrire à l.ardevik@integrite-etat.example demain."
    domain = text.index("integrite-etat.example")
    assert found(text, known=[(domain, domain + len("integrite-etat.example"))]) == set()


def test_a_registered_surname_leaves_the_first_name_after_a_title():
    # "Quillon" is registered (it is H's surname); the mother's first name is not, and must come up.
    text = "Mme Odile Quillon"
    quillon = text.index("Quillon")
    assert found(text, known=[(quillon, quillon + len("Quillon"))]) == {(PERSON, "Odile")}


def test_empty_and_reversed_known_spans_skip_nothing():
    assert found("Salomé Krief", known=[(3, 3), (9, 2)]) == {(PERSON, "Salomé Krief")}


# -- speaker labels --------------------------------------------------------------------------------

def test_speaker_labels_are_flagged_wherever_they_stand_as_words():
    text = "H: Allô ?\nQM: Hadrien ? Rappelle QM à 21 h 30, pas QMX."
    got = [(c.category, c.text, c.reason) for c in detect(text, speakers=["H", "QM"])]
    assert got == [(PERSON, "H", "speaker label"), (PERSON, "QM", "speaker label"),
                   (PERSON, "QM", "speaker label")]


def test_speaker_labels_are_whole_words_with_underscores():
    assert found("SPEAKER_01 said hi to SPEAKER_012", speakers=["SPEAKER_01"]) == {(PERSON, "SPEAKER_01")}


def test_a_speaker_label_of_two_words_matches_across_any_spacing():
    assert found("<v Lucan  Ardevik>Mr Quillon", speakers=["Lucan Ardevik"]) == {
        (PERSON, "Lucan  Ardevik"), (PERSON, "Quillon")}


def test_speakers_must_be_a_collection_not_one_string():
    with pytest.raises(TypeError):
        detect("H: Allô", speakers="H")


# -- results: order, overlaps, fields --------------------------------------------------------------

def test_longest_wins_and_results_are_sorted():
    text = "Groupe Malaure SAS, Mme Odile Quillon, jean.dupont@exemple.fr, passeport KD4471902"
    got = detect(text)
    assert [(c.category, c.text) for c in got] == [
        (ORG, "Groupe Malaure SAS"), (PERSON, "Odile Quillon"), (EMAIL, "jean.dupont@exemple.fr"),
        (ID, "KD4471902")]
    assert all(c.text == text[c.start:c.end] for c in got)


def test_reasons_say_why():
    text = "M. Quillon, 06 39 98 42 17, n° 2023/01847, KD4471902, OE-2023-117"
    assert {c.text: c.reason for c in detect(text)} == {
        "Quillon": "title M.",
        "06 39 98 42 17": "possible phone number (FR)",
        "2023/01847": "number after n°",
        "KD4471902": "letters then digits (document number)",
        "OE-2023-117": "segmented reference number",
    }


def test_categories_keep_their_stored_values():
    assert [c.value for c in Category] == [
        "person", "organisation", "phone", "email", "id_number", "iban", "place", "other"]


def test_empty_text():
    assert detect("") == []


# -- phone region ----------------------------------------------------------------------------------

def test_region_decides_national_numbers():
    text = "call (202) 456-1111 today"
    assert found(text) == set()
    assert found(text, region="US") == {(PHONE, "(202) 456-1111")}


def test_unknown_region_is_refused():
    with pytest.raises(RedactionError):
        detect("06 39 98 42 17", region="XX")


# -- hostile input: work that grows with the text, not faster ---------------------------------------
# Seconds belong in bench/detect.py; here the detector's own tally of its steps (loop steps,
# characters handed to the libraries, characters resolved) must grow about tenfold from 10 KB to
# 100 KB of the same pattern. A quadratic step shows up as a hundredfold; a pattern that
# backtracks catastrophically would not finish at all.

ADVERSARIAL = {  # (head, unit repeated to the size, tail)
    "letters-then-at": ("", "a", "@"),
    "at-signs": ("", "a@", ""),
    "dotted-local-part": ("", "a.", "@"),
    "dotted-domain": ("x@", "a.", ""),
    "digits": ("", "1", ""),
    "segmented-token": ("", "A-1", ""),
    "iban-groups": ("FR76 ", "ABCD ", ""),
    "capitalised-words": ("", "Aa ", ""),
    "titles": ("", "M. ", ""),
    "numero-markers": ("", "n° 1", ""),
    "hyphenated-word": ("", "Ab-", ""),
    "elisions": ("", "d'A", ""),
    "names": ("", "Mme Odile Quillon, ", ""),
    "organisation-connectors": ("", "Bureau de la ", ""),
    "spaced-capitals": ("", "QUILLON   ", ""),
    "phone-prefixes": ("", "0 ", ""),
}
GROWTH = 11  # ten times the text, and a little for the ends


@pytest.mark.parametrize("head, unit, tail", [pytest.param(*v, id=k) for k, v in ADVERSARIAL.items()])
def test_adversarial_input_costs_work_linear_in_its_length(head, unit, tail):
    work = {}
    for size in (10_000, 100_000):
        with counting_work() as work[size]:
            detect(head + unit * (size // len(unit)) + tail, speakers=["H", "SPEAKER_01"])
    small, large = work[10_000], work[100_000]
    for kind in large:
        assert large[kind] <= GROWTH * small[kind], \
            f"{kind}: {small[kind]} steps on 10 KB but {large[kind]} on 100 KB of {unit!r}, more than linear"


def test_the_work_tally_counts_every_kind_of_step():
    text = ("Mme Odile Quillon, 14 rue des Tanneurs, 69006 Lyon, appelle la société Ostrelis SAS "
            "au 06 39 98 42 17 (IBAN FR76 3000 6000 0112 3456 7890 189) depuis le Bureau of State Integrity.")
    with counting_work() as work:
        detect(text, speakers=["H"])
    assert set(work) == {"word tokens", "gap characters", "name run steps", "organisation steps",
                         "characters looked up", "characters handed to phonenumbers", "IBAN groups",
                         "resolved characters"}, work
    with counting_work() as outside:
        pass
    detect(text)
    assert not outside, "work done outside the block was counted"
