"""Folding text for matching: case, accents, spacing, hyphenation and invisible characters.

Names hide in many forms: "QUILLON", "Quillon's", "Quil-\\nlon" broken across a line, "Quillon"
with a zero-width joiner inside, "Hélène" decomposed, "M.\\u00a0Quillon" with a no-break space.
Both the aliases and the text are folded the same way, and the folded text keeps a map back to
the original so a match can be masked where it stands.

The fold is done in two C-speed passes, never a Python loop per character: ``str.translate``
maps every character to exactly one character (so positions do not move), then one regular
expression removes what must disappear (invisible characters, hyphenation at a line break) and
collapses runs of spaces, recording a breakpoint for each change.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

_DROP = "\u200b"  # what a character folds to when it must vanish; removed by the second pass

_SPACES = frozenset(" \t\n\r\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u0085")
_APOSTROPHES = frozenset("'\u2019\u2018\u02bc\u2032\u0060\u00b4\uff07")
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d")


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
        elif unicodedata.category(char) in ("Cf", "Mn", "Me"):
            folded = _DROP  # zero-width joiners, soft hyphens, bidi marks, stray combining accents
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if unicodedata.category(c) != "Mn")
            if self._casefold:
                base = base.casefold() if len(base.casefold()) == 1 else base.lower()
            # One character in, one out: "é" -> "e", "Ｑ" -> "q"; a fold that would grow ("ﬁ",
            # "ß" under casefold) keeps the lower-cased character so positions stay put.
            folded = base if len(base) == 1 else (char.lower() if self._casefold else char)
        self[code] = folded
        return folded


_TABLES = {True: _FoldTable(casefold=True), False: _FoldTable(casefold=False)}

# Hyphenation at a line break ("Quil-\n  lon") joins the word; invisible characters vanish; a
# run of two or more spaces and line breaks becomes one space. A single space or line break is
# left alone here (the line break becomes a space afterwards, in place), so ordinary text makes
# no breakpoints at all.
# (Each branch starts by consuming its first character, so the regex engine can skip ahead to
# the next "-", space, line break or zero-width space instead of trying every position.)
_CLEANUP = re.compile(
    r"[-\u200b \n](?:(?<=\w-)[ ]*\n[ \u200b]*(?=\w)|(?<=\u200b)\u200b*|(?<=[ \n])[ \n\u200b]+)"
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


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# ASCII characters whose fold is not their lower case: odd spaces and the grave accent.
_ASCII_SPECIAL = (("\t", " "), ("\r", " "), ("\v", " "), ("\f", " "), ("`", "'"))


def _translate(text: str, casefold: bool) -> str:
    """The one-to-one fold of every character.

    ``str.translate`` over a mapping is fast only on all-ASCII text; one accented letter drops
    the whole string onto a slow path. Lower-casing is fast on any text, so for case-folding the
    text is lower-cased in C and only its (sparse) non-ASCII runs go through the table.
    """
    table = _TABLES[casefold]
    if not casefold:
        return text.translate(table)
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lowers to two characters: keep positions, go slowly
        return text.translate(table)
    if not lowered.isascii():
        # Table lookups run by run pay per run; translating the whole string pays per character.
        # UTF-8 length tells how many characters are not ASCII (each adds one to three bytes).
        non_ascii = len(lowered.encode("utf-8", "surrogatepass")) - len(lowered)
        if non_ascii * 60 < len(lowered):
            lowered = _NON_ASCII.sub(lambda run: run.group().translate(table), lowered)
        else:
            lowered = lowered.translate(table)
    for char, replacement in _ASCII_SPECIAL:
        if char in lowered:
            lowered = lowered.replace(char, replacement)
    return lowered


def fold(text: str, *, casefold: bool = True) -> Folded:
    translated = _translate(text, casefold)
    pieces: list[str] = []
    folded_marks, original_marks = [0], [0]
    folded_length = last = 0
    for match in _CLEANUP.finditer(translated):
        start, end = match.span()
        pieces.append(translated[last:start])
        folded_length += start - last
        replacement = " " if match.group()[0] in " \n" else ""
        pieces.append(replacement)
        folded_length += len(replacement)
        # after the replacement, the folded text resumes at the end of the match
        folded_marks.append(folded_length)
        original_marks.append(end)
        last = end
    pieces.append(translated[last:])
    return Folded("".join(pieces).replace("\n", " "), tuple(folded_marks), tuple(original_marks))


def fold_alias(alias: str, *, casefold: bool = True) -> str:
    """The folded form of an alias, trimmed; what the matcher looks for."""
    return fold(alias, casefold=casefold).text.strip(" ")
