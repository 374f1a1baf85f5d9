"""Alias matching: every variant of a protected name is found, and innocent words are left alone.

SECURITY-TESTS.md item 35 (variant sweep) and the traps of issue 4. A miss here is a name that
reaches an investigator, so the sweep lists the failures by name.
"""

from __future__ import annotations

import random
import unicodedata

import pytest

from redaction._fold import fold
from redaction._matcher import Alias, AliasMatcher, _without_overlaps
from tests.redaction.test_fold import HARD, WORDS, plain_fold

H, MOTHER, SPEAKER, SUN, PHONE, EMAIL, CJK = "H", "MOTHER", "QM", "SUN", "PHONE", "EMAIL", "CJK"

MATCHER = AliasMatcher([
    Alias(H, "Hadrien Quillon"), Alias(H, "Quillon"), Alias(H, "Hadrien"), Alias(H, "H. Quillon"),
    Alias(MOTHER, "Odile Quillon"),
    Alias(SPEAKER, "QM"),
    Alias(SUN, "Sun"),
    Alias(PHONE, "+33 6 39 98 42 17"), Alias(PHONE, "06 39 98 42 17"),
    Alias(EMAIL, "l.ardevik@integrite-etat.example"),
    Alias(CJK, "李明"),
    Alias("JB", "Jean-Baptiste Ferréol"),
])


def found(text: str) -> list[tuple[str, str]]:
    return [(m.identity_id, text[m.start:m.end]) for m in MATCHER.find(text)]


# -- the variant sweep: each must be found, as the right identity ---------------------------------

VARIANTS = [
    ("Hadrien Quillon a quitté Lyon.", "Hadrien Quillon"),
    ("HADRIEN QUILLON", "HADRIEN QUILLON"),
    ("hadrien quillon", "hadrien quillon"),
    ("Quillon's lawyer", "Quillon"),
    ("Quillon’s lawyer", "Quillon"),
    ("M. Quillon,", "Quillon"),
    ("H. Quillon signed", "H. Quillon"),
    ("Quil-\nlon", "Quil-\nlon"),
    ("Quil-\n   lon", "Quil-\n   lon"),
    ("Hadrien\nQuillon", "Hadrien\nQuillon"),
    ("Hadrien   Quillon", "Hadrien   Quillon"),
    ("Hadrien\u00a0Quillon", "Hadrien\u00a0Quillon"),
    ("Qui\u200dllon", "Qui\u200dllon"),
    ("Qui\u200bllon", "Qui\u200bllon"),
    ("Quil\u00adlon", "Quil\u00adlon"),
    ("ＱＵＩＬＬＯＮ", "ＱＵＩＬＬＯＮ"),
    (unicodedata.normalize("NFD", "Jean-Baptiste Ferréol"), unicodedata.normalize("NFD", "Jean-Baptiste Ferréol")),
    ("Jean-Baptiste Ferreol", "Jean-Baptiste Ferreol"),
    ("Jean Baptiste Ferréol", "Jean Baptiste Ferréol"),
    ("Jean-\nBaptiste Ferréol", "Jean-\nBaptiste Ferréol"),
    ("JEAN-BAPTISTE FERRÉOL", "JEAN-BAPTISTE FERRÉOL"),
    ("call +33 6 39 98 42 17 now", "+33 6 39 98 42 17"),
    ("call 06 39 98 42 17.", "06 39 98 42 17"),
    ("write to l.ardevik@integrite-etat.example.", "l.ardevik@integrite-etat.example"),
    ("他说李明今天来", "李明"),
    ("QM: Come home.", "QM"),
    ("Mr Sun said", "Sun"),
    ("MR SUN SAID", "SUN"),
]


def test_variant_sweep_finds_every_form():
    misses = [text for text, expected in VARIANTS if expected not in [m for _, m in found(text)]]
    assert not misses, f"protected name not found in: {misses}"


# -- traps: nothing here may be masked ------------------------------------------------------------

TRAPS = [
    "Port-Quillan is a harbour.",  # a place that shares letters
    "the quillons of a sword",  # a word that contains the surname
    "Quillonnerie",  # longer word
    "Massachusetts",  # contains "MA" / "QM"-like letters
    "Mama said",
    "ma mère",  # French "my", lowercase, not the speaker MA
    "qm is lower case",  # a short alias only as written
    "the sun rises",  # a common word in lowercase
    "Sunday",
    "0639984217999",  # the digits inside a longer number
    "xl.ardevik@integrite-etat.example.org",
]


@pytest.mark.parametrize("text", TRAPS)
def test_traps_are_not_masked(text):
    assert found(text) == [], f"{text!r} was masked"


# -- overlaps and identities ---------------------------------------------------------------------

def test_longest_mention_wins_and_keeps_its_identity():
    assert found("Mme Odile Quillon et son fils Hadrien Quillon") == [
        (MOTHER, "Odile Quillon"), (H, "Hadrien Quillon")]


def test_mentions_map_back_to_the_original_text():
    text = "Le  colonel\u200b a\u00a0appelé M.\u00a0Hadrien\n  Quil-\nlon à 21h."
    [(identity, mention)] = found(text)
    assert identity == H and mention == "Hadrien\n  Quil-\nlon"


def test_no_aliases_finds_nothing():
    assert AliasMatcher([]).find("Hadrien Quillon") == []


def test_cost_does_not_depend_on_alias_count():
    # the automaton holds 10,000 aliases and still finds the one that is there, once
    many = AliasMatcher([Alias(f"id{i}", f"Name{i} Surname{i}") for i in range(10_000)] + [Alias(H, "Quillon")])
    assert [m.identity_id for m in many.find("M. Quillon et Name9999 Surname9999.")] == [H, "id9999"]


# -- folding -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, folded", [
    ("Hélène", "helene"),
    (unicodedata.normalize("NFD", "Hélène"), "helene"),
    ("Quil-\nlon", "quillon"),
    ("a \n\t b", "a b"),
    ("x\u200dy", "xy"),
    ("Ｑｕｉｌｌｏｎ", "quillon"),
    ("Quillon’s", "quillon's"),
])
def test_fold(text, folded):
    assert fold(text).text == folded


def test_every_folded_character_maps_inside_the_original():
    text = "M.\u00a0 Hadrien\u200d  QUIL-\n lon’s   car\n\nÉté"
    result = fold(text)
    for i in range(len(result.text)):
        start, end = result.original_span(i, i + 1)
        assert 0 <= start < end <= len(text)


# -- the fast paths give what the plain ones give -------------------------------------------------

def longest_first_over_all(candidates):
    """The plain resolution: every candidate at once, longest first, then leftmost."""
    taken, occupied = [], []
    for start, end, entry in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
        if all(end <= s or e <= start for s, e in occupied):
            occupied.append((start, end))
            taken.append((start, end, entry))
    return sorted(taken, key=lambda c: c[0])


@pytest.mark.parametrize("seed", range(200))
def test_overlaps_settled_cluster_by_cluster_as_all_at_once(seed):
    rng = random.Random(seed)
    spans = set()
    for _ in range(rng.randint(0, 40)):
        start = rng.randrange(100)
        spans.add((start, start + rng.randint(1, 15)))
    candidates = [(start, end, f"entry{i}") for i, (start, end) in enumerate(spans)]
    rng.shuffle(candidates)
    assert _without_overlaps(list(candidates)) == longest_first_over_all(candidates)


RANDOM_MATCHER = AliasMatcher([
    Alias(H, "Hadrien Quillon"), Alias(H, "Quillon"), Alias(H, "Hadrien"),
    Alias(MOTHER, "Odile Quillon"), Alias("ODILE", "Quillon Odile"), Alias("JB", "Jean-Baptiste Ferréol"),
    Alias("HE", "Hélène"), Alias(SPEAKER, "QM"), Alias(SUN, "Sun"), Alias(CJK, "李明"),
], common_word=lambda word: word.lower() == "sun")


def plain_find(matcher, text):
    """find() the plain way: plain fold, every candidate settled at once, one span at a time."""
    folded = plain_fold(text)
    taken = longest_first_over_all(matcher._candidates(text, folded))
    return [(*folded.original_span(start, end), entry.identity_id) for start, end, entry in taken]


def random_mentions(rng: random.Random, length: int) -> str:
    names = ["Hadrien Quillon", "Quillon", "Odile Quillon Odile", "Jean-Baptiste Ferréol", "Hélène", "QM",
             "Sun", "sun", "李明", "Quillonnerie", "Hadrien  Quillon", "Hadrien\n  Quillon", "Quil-\nlon"]
    parts: list[str] = []
    while sum(map(len, parts)) < length:
        roll = rng.random()
        if roll < 0.3:
            name = rng.choice(names)
            name = rng.choice((name, name.upper(), name.lower(), unicodedata.normalize("NFD", name),
                               name.replace("l", "l\u200b", 1), name + "'s"))
            parts.append(name)
        else:
            parts.append(rng.choice(HARD) if roll < 0.45 else rng.choice(WORDS))
        parts.append(rng.choice((" ", " ", "\n", "  ", ", ")))
    return "".join(parts)


@pytest.mark.parametrize("seed", range(40))
def test_find_is_the_plain_find_on_random_text(seed):
    rng = random.Random(seed)
    text = random_mentions(rng, rng.choice((50, 500, 5000)))
    found_mentions = [(m.start, m.end, m.identity_id) for m in RANDOM_MATCHER.find(text)]
    assert found_mentions == plain_find(RANDOM_MATCHER, text)
