"""The fast fold gives exactly what the plain one gives: same text, same way back.

The fold takes shortcuts for speed (ASCII through a byte table, each distinct accented letter
replaced in one pass, each kind of cleanup found by its own pattern). A shortcut that differs
from the plain definition by one character is a name that is not found, so each is compared
with the plain fold on seeded random text built from the characters that make folding hard.
"""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from redaction._fold import _DROP, _SHORT, _TABLES, Folded, _lookalikes, _translate, fold

# The plain definition: every character through the table, then one scan for what to clean up.
_CLEANUP = re.compile(
    r"[-\u200b \n](?:(?<=\w-)[ ]*\n[ \u200b]*(?=\w)|(?<=\u200b)\u200b*|(?<=[ \n])[ \n\u200b]+)"
)


def plain_fold(text: str, *, casefold: bool = True) -> Folded:
    translated = text.translate(_TABLES[casefold])
    pieces: list[str] = []
    folded_marks, original_marks = [0], [0]
    folded_length = last = 0
    for match in _CLEANUP.finditer(translated):
        start, end = match.span()
        pieces.append(translated[last:start])
        replacement = " " if match.group()[0] in " \n" else ""
        pieces.append(replacement)
        folded_length += start - last + len(replacement)
        folded_marks.append(folded_length)
        original_marks.append(end)
        last = end
    pieces.append(translated[last:])
    return Folded("".join(pieces).replace("\n", " "), tuple(folded_marks), tuple(original_marks))


# What makes folding hard: case, accents composed and decomposed, odd spaces and apostrophes,
# hyphens and line breaks, invisible characters, characters whose lower case is longer ("İ") or
# depends on context (final sigma), folds that grow ("ß", "ﬁ"), full-width forms, CJK, a lone
# surrogate, and the few characters that fold to a character that folds again ("⁻" -> "−" -> "-").
HARD = list("aeiouAEIOU'`-") + [
    " ", " ", "  ", "\n", " \n  ", "-\n", "-\n ", "\t", "\r\n", "\u00a0", "\u2009", "\u3000",
    "\u200b", "\u200d", "\u00ad", "\u2060", "\ufeff",
    "é", "É", "è", "à", "ç", "ô", "ï", "e\u0301", "E\u0301", "\u0301", "\u0308",
    "’", "‘", "ʼ", "´", "–", "—", "−", "‐", "⁻", "\u1fef", "｀",
    "İ", "ı", "Σ", "σ", "ς", "ß", "ẞ", "ﬁ", "Ω", "Ｑ", "ｕ", "１",
    "李", "明", "ア", "한", "Ж", "ж", "\ud800",
]
WORDS = ["Hadrien", "Quillon", "Odile", "Jean-Baptiste", "Ferréol", "Hélène", "QM", "Sun", "the", "de", "l'avocat"]


def random_text(rng: random.Random, length: int, hard_share: float) -> str:
    parts: list[str] = []
    size = 0
    while size < length:
        roll = rng.random()
        if roll < hard_share:
            part = rng.choice(HARD)
        elif roll < 0.6:
            part = rng.choice(WORDS)
        else:
            part = " "
        parts.append(part)
        size += len(part)
    return "".join(parts)


def many_letters(rng: random.Random, length: int, density: float) -> str:
    """Text with hundreds of distinct non-ASCII letters (Greek, Cyrillic, accented Latin)."""
    letters = [chr(c) for c in range(0x00c0, 0x0250)] + [chr(c) for c in range(0x0391, 0x0450)]
    return "".join(rng.choice(letters) if rng.random() < density else rng.choice("abc XYZ-\n")
                   for _ in range(length))


def texts(seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        random_text(rng, rng.choice((5, 60, _SHORT + 1, 400, 3000)), rng.choice((0.0, 0.02, 0.2, 0.6))),
        many_letters(rng, 30_000, 0.005),  # many distinct characters, sparse
        many_letters(rng, 2000, 0.5),  # many distinct characters, dense
        "".join(rng.choice("Aa Bb-\n\t`") for _ in range(300)),  # ASCII only
    ]


@pytest.mark.parametrize("seed", range(60))
def test_translate_is_the_table_applied_to_every_character(seed):
    for text in texts(seed):
        for casefold in (True, False):
            assert _translate(text, casefold) == text.translate(_TABLES[casefold]), (seed, text)


@pytest.mark.parametrize("seed", range(60))
def test_fold_is_the_plain_fold(seed):
    for text in texts(seed):
        for casefold in (True, False):
            fast, plain = fold(text, casefold=casefold), plain_fold(text, casefold=casefold)
            assert (fast.text, fast._folded, fast._original) == (plain.text, plain._folded, plain._original), text


@pytest.mark.parametrize("seed", range(20))
def test_spans_map_back_exactly(seed):
    rng = random.Random(seed)
    text = random_text(rng, 2000, 0.3)
    result = fold(text)
    spans = sorted((start, start + rng.randint(1, 12)) for start in rng.sample(range(len(result.text) - 12), 50))
    assert result.original_spans(spans) == [result.original_span(start, end) for start, end in spans]
    for start, end in spans:
        o_start, o_end = result.original_span(start, end)
        # the original stretch folds back to the folded one, give or take spaces at its edges
        assert fold(text[o_start:o_end]).text.strip(" ") == result.text[start:end].strip(" ")


def test_mixed_ascii_and_accented_paragraphs_fold_as_one():
    rng = random.Random(3)
    paragraphs = [random_text(rng, 500, share) for share in (0.0, 0.3, 0.0, 0.05)]
    text = "\n\n".join(paragraphs)
    assert fold(text).text == plain_fold(text).text
    assert fold(text).text == " ".join(plain_fold(p).text for p in paragraphs)


def test_a_character_and_its_lower_case_fold_alike():
    # Why the fold need not lower-case the text first: the table already folds case, even where
    # str.lower grows a character ("İ") or looks at its neighbours (final sigma).
    # The one exception is a pair whose two cases UTS #39 draws like two different letters
    # (Greek "Ν" like "N", "ν" like "v"): each folds to the letter it looks like.
    table = _TABLES[True]
    lookalikes = _lookalikes()

    def base(char):
        return unicodedata.normalize("NFD", char)[0]

    for code in range(0x3000):
        lower = chr(code).lower()
        if len(lower) == 1 and not (base(chr(code)) in lookalikes and base(lower) in lookalikes):
            assert table[code] == table[ord(lower)], hex(code)
    assert table[ord("ς")] == table[ord("σ")] == table[ord("Σ")]
    assert fold("İSTANBUL").text == fold("istanbul").text == "istanbul"


def test_long_decomposed_text_folds_like_composed():
    composed = "Hélène Ferréol a été entendue à Genève. " * 20
    assert fold(unicodedata.normalize("NFD", composed)).text == fold(composed).text


def test_invisible_characters_vanish_in_long_text():
    text = ("Qui\u200bllon et Quil\u00adlon " * 10) + "\u200b\u200b"
    assert len(text) > _SHORT
    assert fold(text).text == ("quillon et quillon " * 10) and _DROP not in fold(text).text
