"""Finding every mention of every registered alias in one pass over the text.

An Aho-Corasick automaton (pyahocorasick) over the folded aliases finds all occurrences in time
that grows with the text and the number of hits, not with the number of aliases. Each hit is
then checked: it must stand on word boundaries (except for CJK aliases, which have none), and a
case-sensitive alias must match its case. Overlaps resolve to the longest mention.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import ahocorasick

from redaction._fold import Folded, fold, fold_alias
from redaction.errors import InvalidAlias

SHORT_ALIAS = 3  # letters; "MA", "H", "QM" match only in their exact case
COMMON_WORD_ZIPF = 3.5  # wordfreq: about once per 300,000 words or more often


@functools.cache
def is_common_word(word: str) -> bool:
    """Whether a one-word alias is an everyday word in English or French ("sun", "rose")."""
    from wordfreq import zipf_frequency  # loads its lists on first use, not at import

    if " " in word.strip():
        return False
    return max(zipf_frequency(word, "en"), zipf_frequency(word, "fr")) >= COMMON_WORD_ZIPF


@dataclass(frozen=True, slots=True)
class Alias:
    """One way an identity is written. ``case_sensitive=None`` lets the short/common rule decide."""

    identity_id: str
    text: str
    case_sensitive: bool | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    start: int  # in the original text
    end: int
    identity_id: str
    alias: str


def _is_cjk(char: str) -> bool:
    name = unicodedata.name(char, "")
    return name.startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC"))


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


@dataclass(frozen=True, slots=True)
class _Entry:
    identity_id: str
    alias: str
    length: int  # of the folded key
    needs_left_boundary: bool
    needs_right_boundary: bool
    exact_forms: frozenset[str] | None  # case-preserving folds accepted; None = any case


class AliasMatcher:
    """Matches a fixed set of aliases; build once per scope, use for every document in it."""

    def __init__(self, aliases: Iterable[Alias], *, common_word: Callable[[str], bool] = is_common_word) -> None:
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, list[_Entry]] = {}
        for alias in aliases:
            for key, entry in self._entries(alias, common_word):
                entries.setdefault(key, []).append(entry)
        for key, found in entries.items():
            self._automaton.add_word(key, tuple(found))
        self.size = len(entries)
        if entries:
            self._automaton.make_automaton()

    @staticmethod
    def _entries(alias: Alias, common_word: Callable[[str], bool]) -> Iterable[tuple[str, _Entry]]:
        key = fold_alias(alias.text)
        if not any(_is_word_char(c) for c in key):
            raise InvalidAlias("an alias needs at least one letter or digit")
        letters = sum(c.isalpha() for c in key)
        sensitive = alias.case_sensitive
        if sensitive is None:
            sensitive = (0 < letters <= SHORT_ALIAS) or common_word(alias.text)
        exact_forms = None
        if sensitive:
            exact = fold_alias(alias.text, casefold=False)
            # a short alias ("MA", "Sun") as written or in capitals; a common word also capitalised
            forms = {exact, exact.upper()}
            if letters > SHORT_ALIAS:
                forms.add(exact.title())
            exact_forms = frozenset(forms)
        cjk = any(_is_cjk(c) for c in key)
        variants = {key}
        if "-" in key:  # "Jean-Baptiste" also as "Jean Baptiste" and, hyphenated at a line end, "JeanBaptiste"
            variants |= {key.replace("-", " "), key.replace("-", "")}
        if exact_forms is not None:
            exact_forms = frozenset(v for f in exact_forms for v in (f, f.replace("-", " "), f.replace("-", "")))
        for variant in variants:
            yield variant, _Entry(
                identity_id=alias.identity_id, alias=alias.text, length=len(variant),
                needs_left_boundary=not cjk and _is_word_char(variant[0]),
                needs_right_boundary=not cjk and _is_word_char(variant[-1]),
                exact_forms=exact_forms,
            )

    def find(self, text: str) -> list[Mention]:
        """Every mention in ``text``, in order, without overlaps."""
        if not self.size or not text:
            return []
        folded = fold(text)
        taken = _without_overlaps(self._candidates(text, folded))
        spans = folded.original_spans([(start, end) for start, end, _ in taken])
        return [Mention(start, end, entry.identity_id, entry.alias)
                for (start, end), (_, _, entry) in zip(spans, taken)]

    def _candidates(self, text: str, folded: Folded) -> list[tuple[int, int, _Entry]]:
        """Every hit of the automaton that stands on its boundaries and in an accepted case."""
        haystack = folded.text
        size = len(haystack)
        candidates: list[tuple[int, int, _Entry]] = []
        for last, entries in self._automaton.iter(haystack):
            end = last + 1
            for entry in entries:
                start = end - entry.length
                if entry.needs_left_boundary and start > 0 and _is_word_char(haystack[start - 1]):
                    continue
                if entry.needs_right_boundary and end < size and _is_word_char(haystack[end]):
                    continue
                if entry.exact_forms is not None:
                    o_start, o_end = folded.original_span(start, end)
                    if fold(text[o_start:o_end], casefold=False).text.strip(" ") not in entry.exact_forms:
                        continue
                candidates.append((start, end, entry))
                break  # the first identity registered for an alias takes it
        return candidates


def _without_overlaps(candidates: list[tuple[int, int, _Entry]]) -> list[tuple[int, int, _Entry]]:
    """The candidates in order of start, each overlap resolved to the longest mention.

    Overlaps are few and local ("Quillon" inside "Odile Quillon"), so longest-first is settled
    within each cluster of candidates that overlap one another, directly or through a chain:
    what is taken in one cluster cannot depend on a candidate outside it, so this is the same as
    settling all candidates at once, without sorting and inserting every one of them.
    """
    candidates.sort(key=lambda c: c[0])
    if all(a[1] <= b[0] for a, b in itertools.pairwise(candidates)):
        return candidates  # the usual case: nothing overlaps
    taken: list[tuple[int, int, _Entry]] = []
    for cluster in _clusters(candidates):
        taken.extend(cluster if len(cluster) == 1 else _longest_first(cluster))
    return taken


def _clusters(candidates: list[tuple[int, int, _Entry]]) -> Iterator[list[tuple[int, int, _Entry]]]:
    """Runs of candidates (sorted by start) linked by overlaps; a lone candidate is a run of one."""
    cluster: list[tuple[int, int, _Entry]] = []
    reach = 0
    for candidate in candidates:
        if cluster and candidate[0] >= reach:
            yield cluster
            cluster = []
        cluster.append(candidate)
        reach = max(reach, candidate[1])
    if cluster:
        yield cluster


def _longest_first(candidates: list[tuple[int, int, _Entry]]) -> list[tuple[int, int, _Entry]]:
    # Longest first, then leftmost: "Odile Quillon" wins over "Quillon" inside it.
    candidates = sorted(candidates, key=lambda c: (c[0] - c[1], c[0]))
    taken: list[tuple[int, int, _Entry]] = []
    occupied: list[tuple[int, int]] = []
    for start, end, entry in candidates:
        i = bisect.bisect_left(occupied, (start, start))
        if i > 0 and occupied[i - 1][1] > start:
            continue
        if i < len(occupied) and occupied[i][0] < end:
            continue
        occupied.insert(i, (start, end))
        taken.append((start, end, entry))
    taken.sort(key=lambda c: c[0])
    return taken
