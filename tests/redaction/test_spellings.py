"""Every spelling of a registered name is masked, or at least put before a reviewer.

SECURITY-TESTS.md item 62 and issue 14 section 2. Hadrien Quillon is registered (aliases
"Quillon" and "Hadrien"); ivy, an investigator, reads what the matcher leaves in clear once the
document is released, so a miss fails with what ivy would read. Traps are words that must stay
as they are: neither masked nor suggested.
"""

from __future__ import annotations

import pytest

from redaction import Alias, AliasMatcher, Redaction, detect, mask
from redaction._matcher import _within_one_edit

H = "H"
MATCHER = AliasMatcher([Alias(H, "Hadrien Quillon"), Alias(H, "Quillon"), Alias(H, "Hadrien"),
                        Alias("SPEAKER", "MA"), Alias("SUN", "Sun"), Alias("ROSE", "Rose")])
# only the full name registered: its joined forms must be found without the help of one-word aliases
FULL_NAME_ONLY = AliasMatcher([Alias(H, "Hadrien Quillon")])


def masked_for_ivy(matcher: AliasMatcher, text: str) -> str:
    redactions = [Redaction(m.start, m.end, m.identity_id) for m in matcher.find(text)]
    return mask(text, redactions, lambda identity: f"<{identity}>").text


def assert_masked(matcher: AliasMatcher, text: str, expected: str) -> None:
    shown = masked_for_ivy(matcher, text)
    assert shown == expected, f"ivy reads {shown!r} for {text!r}; expected {expected!r}"


# -- joined, glued to a title, camel case -----------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Hadrien_Quillon_call.txt", "<H>_call.txt"),
    ("HADRIEN_QUILLON", "<H>"),
    ("Quillon_2024.pdf", "<H>_2024.pdf"),
    ("écrire à hadrien.quillon@mail.com", "écrire à <H>@mail.com"),
    ("Hadrien-Quillon a signé", "<H> a signé"),
    ("Mr.Quillon", "Mr.<H>"),
    ("M.Quillon", "M.<H>"),
    ("HadrienQuillon", "<H>"),
    ("suivez @HadrienQuillon", "suivez @<H>"),
    ("le compte QuillonHadrien", "le compte <H><H>"),
    ("Quillon2024", "<H>2024"),
    ("Hadrien Quillon", "<H>"),
])
def test_joined_forms_are_masked(text, expected):
    assert_masked(MATCHER, text, expected)


@pytest.mark.parametrize("text, expected", [
    ("Hadrien_Quillon_call.txt", "<H>_call.txt"),
    ("hadrien.quillon@mail.com", "<H>@mail.com"),
    ("Hadrien-Quillon", "<H>"),
    ("@HadrienQuillon", "@<H>"),
    ("HADRIENQUILLON", "<H>"),
    ("H A D R I E N  Q U I L L O N", "<H>"),
])
def test_joined_forms_of_a_full_name_alone_are_masked(text, expected):
    assert_masked(FULL_NAME_ONLY, text, expected)


# -- lookalike letters from other scripts (UTS #39) -----------------------------------------------

@pytest.mark.parametrize("text", [
    "Qu\u0456llon",  # Cyrillic small byelorussian-ukrainian i
    "Quill\u043en",  # Cyrillic small o
    "QU\u0406LLON",  # Cyrillic capital I, which UTS #39 draws like "l": read as "I"
    "H\u0391DRIEN",  # Greek capital alpha
    "\u041dadrien",  # Cyrillic capital en
    "Hadr\u0456en Qu\u0456ll\u043en",
    "Qu\u04cfllon",  # Cyrillic palochka, drawn like "i"
    "Qu\u0269llon",  # Latin small iota
    "Quil\u217con",  # small Roman numeral fifty
])
def test_lookalike_letters_are_masked_where_they_stand(text):
    prefix, suffix = "Le témoin « ", " » a signé."
    shown = masked_for_ivy(MATCHER, prefix + text + suffix)
    # the mask replaces exactly the name: what is around it is untouched, so offsets held
    assert shown == prefix + "<H>" + suffix, f"ivy reads {shown!r}: the homoglyph spelling {text!r} leaked"


def test_a_lookalike_mention_maps_back_to_its_own_characters():
    text = "Au dossier: Qu\u0456ll\u043en, puis H\u0391DRIEN."
    spans = [(m.start, m.end) for m in MATCHER.find(text)]
    assert [text[s:e] for s, e in spans] == ["Qu\u0456ll\u043en", "H\u0391DRIEN"]


# -- spelled out, letter by letter ------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("M. Hadrien Q U I L L O N, né le", "M. <H> <H>, né le"),
    ("Monsieur Q.U.I.L.L.O.N.", "Monsieur <H>."),
    ("Monsieur Q. U. I. L. L. O. N. a", "Monsieur <H>. a"),
    ("H A D R I E N  Q U I L L O N", "<H>"),
    ("q u i l l o n", "<H>"),
])
def test_names_spelled_out_are_masked(text, expected):
    assert_masked(MATCHER, text, expected)


# -- invisible and odd-width characters inside the name --------------------------------------------

@pytest.mark.parametrize("inside", [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u034f", "\ufe0f", "\u3164",
    "\u200e", "\u2066",
])
def test_invisible_characters_inside_the_name_are_masked(inside):
    text = f"Témoin : Quil{inside}lon."
    assert_masked(MATCHER, text, "Témoin : <H>.")


@pytest.mark.parametrize("text", [
    "ＱＵＩＬＬＯＮ", "Ｈａｄｒｉｅｎ　Ｑｕｉｌｌｏｎ", "Hadrien\u00a0Quillon", "Hadrien\u202fQuillon", "Hadrien\u2007Quillon",
])
def test_full_width_letters_and_odd_spaces_are_masked(text):
    assert_masked(MATCHER, text, "<H>")


# -- near misses: suggested, never masked ---------------------------------------------------------

@pytest.mark.parametrize("text, word", [
    ("Témoin : Quil1on.", "Quil1on"),  # 1 for l
    ("Témoin : Qui11on.", "Qui11on"),
    ("Témoin : Quilon.", "Quilon"),  # one letter dropped
    ("Témoin : Qulilon.", "Qulilon"),  # two letters swapped
    ("Témoin : Quillion.", "Quillion"),  # one letter added
    ("Témoin : QUILON.", "QUILON"),
    ("Témoin : Hadrlen.", "Hadrlen"),
    ("Témoin : Hadrieu.", "Hadrieu"),  # u for n
    ("Témoin : 0dile.", "0dile"),  # 0 for O
])
def test_near_misses_are_suggested_not_masked(text, word):
    matcher = AliasMatcher([Alias(H, "Hadrien Quillon"), Alias(H, "Quillon"), Alias("O", "Odile Quillon")])
    masked = [text[m.start:m.end] for m in matcher.find(text)]
    assert word not in masked, f"{word!r} was masked: a near miss is for a reviewer to decide"
    suggested = [c.text for c in matcher.near_misses(text)]
    assert suggested == [word], f"{word!r} reached ivy without a suggestion (suggested: {suggested})"


def test_ocr_confusions_rn_for_m():
    matcher = AliasMatcher([Alias("M", "Marie-Hélène Kermadec")])
    assert [c.text for c in matcher.near_misses("signé Kerrnadec")] == ["Kerrnadec"]


def test_a_word_of_a_registered_name_standing_alone_is_suggested():
    # only the full name is registered: "Quillon" alone is the same person, and a reviewer decides
    assert [c.text for c in FULL_NAME_ONLY.near_misses("Quillon est parti.")] == ["Quillon"]


def test_near_misses_skip_what_is_already_masked():
    text = "Hadrien Quillon"
    known = [(m.start, m.end) for m in MATCHER.find(text)]
    assert MATCHER.near_misses(text, known) == []


def test_near_misses_cost_one_pass():
    # a megabyte of capitalised words near the name: each is looked at once, found each time
    text = "Quilon " * 150_000
    assert len(MATCHER.near_misses(text)) == 150_000


@pytest.mark.parametrize("a, b, near", [
    ("quillon", "quillon", True), ("quillon", "quilon", True), ("quillon", "qulilon", True),
    ("quillon", "quillion", True), ("quillon", "quilxon", True), ("quillon", "qulixon", False),
    ("quillon", "quil", False), ("quillon", "nolliuq", False), ("quillon", "uillonq", False),
])
def test_within_one_edit(a, b, near):
    assert _within_one_edit(a, b) is near and _within_one_edit(b, a) is near


# -- first names after a kinship word ---------------------------------------------------------------

@pytest.mark.parametrize("text, name, reason", [
    ("Votre sœur Clémence est venue hier.", "Clémence", "after sœur"),
    ("Votre soeur Clémence est venue hier.", "Clémence", "after soeur"),
    ("Il a vu sa mère, Odile, au parloir.", "Odile", "after mère"),
    ("ma tante Léa habite à Lyon", "Léa", "after tante"),
    ("son grand-père Ferréol est mort", "Ferréol", "after grand-père"),
    ("votre frère Clément Vidal a appelé", "Clément Vidal", "after frère"),
    ("his brother Wen came at noon", "Wen", "after brother"),
    ("my aunt Rose said so", "Rose", "after aunt"),
    ("and his son, Paul, left", "Paul", "after son"),
    ("her daughter June was there", "June", "after daughter"),
])
def test_first_names_after_kinship_words_are_suggested(text, name, reason):
    found = [(c.text, c.reason) for c in detect(text)]
    assert (name, reason) in found, f"{name!r} reached ivy without a suggestion in {text!r} (found {found})"


# -- traps: neither masked nor suggested ------------------------------------------------------------

TRAPS = [
    "Massachusetts",  # holds the letters of the short alias "MA"
    "Mama said no.",
    "ma mère est venue",  # French "my", not the speaker MA
    "the sun rises",  # a common word in lower case
    "Maître, vous avez la parole.",  # a title with no name after it
    "Son Excellence a parlé.",  # French "son" is "his", not a kinship word
    "sa mère. Elle est partie.",  # a sentence ends between them
    "my mother, The Court said",  # an article after the kinship word
    "the quillons of a sword",  # lower case: an ordinary word one letter from the alias
    "Mamma mia",  # one letter from "Mama", but "MA" is a short alias
    "Roses are red",  # one letter from "Rose", a short (and common) alias
    "Suns and moons",
    "Q U I Z",  # spelled-out letters that are no alias
    "Quillonnerie",  # a longer word that holds the surname
    "Maintenant, Mars et Avril.",  # capitalised ordinary words
]


@pytest.mark.parametrize("text", TRAPS)
def test_traps_stay_unmasked_and_unsuggested(text):
    masked = [text[m.start:m.end] for m in MATCHER.find(text)]
    near = [c.text for c in MATCHER.near_misses(text)]
    suggested = [c.text for c in detect(text) if c.category.value == "person"]
    assert (masked, near, suggested) == ([], [], []), \
        f"{text!r}: masked {masked}, near misses {near}, suggested as a person {suggested}"
