"""Finding every mention of every registered alias in one pass over the text.

An Aho-Corasick automaton (pyahocorasick) over the folded aliases finds all occurrences in time
that grows with the text and the number of hits, not with the number of aliases. Each hit is
then checked: it must stand on word boundaries (except for CJK aliases, which have none), and a
case-sensitive alias must match its case. Overlaps resolve to the longest mention.

Names are also written as one word: joined by a full stop, a hyphen or nothing at all
("hadrien.quillon@...", "@HadrienQuillon"; an underscore folds to a space), so a name of several
words is also looked for in those forms, and a change from a lower-case letter to a capital, or
between letters and digits, is a word boundary for an alias longer than a short one. Court
records print surnames spaced out ("Q U I L L O N", "Q.U.I.L.L.O.N"): that is one more form
of an alias in the automaton.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import ahocorasick

from redaction._detect import Candidate, Category
from redaction._fold import _TABLES, Folded, fold, fold_alias
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
    camel: bool = False  # a change of case or between letters and digits is also a boundary


# How the words of a name are joined when it is written as one word: the folded key's spaces
# (and an underscore, which folds to a space) become one of these.
_JOINERS = ("", ".", "-")
# A word spelled out ("Q U I L L O N", "Q.U.I.L.L.O.N", "Q. U. I. L. L. O. N.") is one more form
# of the key in the automaton, its letters apart by one of these; so it costs the scan nothing.
_SPELLERS = (" ", ".", ". ")


def _camel_boundary(text: str, before: int, at: int) -> bool:
    """Whether the original text changes from lower case to a capital, or between a letter and a
    digit, from ``before`` to ``at`` ("Hadrien|Quillon", "Quillon|2024")."""
    if before < 0 or at >= len(text):
        return False
    left, right = text[before], text[at]
    return (left.islower() and right.isupper()) or (left.isalpha() and right.isdigit()) \
        or (left.isdigit() and right.isalpha())


class AliasMatcher:
    """Matches a fixed set of aliases; build once per scope, use for every document in it."""

    def __init__(self, aliases: Iterable[Alias], *, common_word: Callable[[str], bool] = is_common_word) -> None:
        self._automaton = ahocorasick.Automaton()
        self._common_word = common_word
        entries: dict[str, list[_Entry]] = {}
        self._near_words: dict[str, str] = {}  # a word of an alias, OCR-folded -> the alias
        for alias in aliases:
            exact = True
            for key, entry in self._entries(alias, common_word):
                entries.setdefault(key, []).append(entry)
                exact = exact and entry.exact_forms is not None
            if not exact:  # a short or common alias has no near misses: they are ordinary words
                for word in re.split(r"[ .-]", fold_alias(alias.text)):
                    if len(word) >= NEAR_MISS_LETTERS and word.isalpha():
                        self._near_words.setdefault(_ocr_fold(word), alias.text)
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
        if not cjk:  # "Hadrien Quillon" also as "hadrien.quillon", "Hadrien-Quillon", "HadrienQuillon"
            variants |= {v.replace(" ", joiner) for v in variants if " " in v for joiner in _JOINERS}
            if exact_forms is not None:
                exact_forms = frozenset(f.replace(" ", joiner) for f in exact_forms for joiner in ("", " ", *_JOINERS))
        camel = letters > SHORT_ALIAS
        if camel and exact_forms is None and not cjk:
            # only a name longer than a short one, that has no case to check: spelled out, every
            # letter is a capital, and a short or common alias spelled out is most often letters
            # that stand for something else
            spelled = "".join(c for c in key if c.isalnum())
            if len(spelled) >= 4:
                variants |= {speller.join(spelled) for speller in _SPELLERS}
        for variant in variants:
            yield variant, _Entry(
                identity_id=alias.identity_id, alias=alias.text, length=len(variant),
                needs_left_boundary=not cjk and _is_word_char(variant[0]),
                needs_right_boundary=not cjk and _is_word_char(variant[-1]),
                exact_forms=exact_forms, camel=camel,
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

    def near_misses(self, text: str, known: Iterable[tuple[int, int]] = ()) -> list[Candidate]:
        """Words the matcher cannot decide on, for a reviewer: one edit from a word of a registered
        alias of five letters or more ("Quilon", "Qulilon" for "Quillon"), or equal to it once
        common OCR confusions are undone ("Quil1on", "Hadrlen"; rn/m, 0/O, 1/l), or a word of a
        longer alias standing alone ("Quillon" where only "Hadrien Quillon" is registered).

        Only words that start with a capital or a digit are looked at (names do; the ordinary
        words around a name would only bring ordinary words one letter away), never an everyday
        word, nor one inside ``known`` (the mentions already found). Each word costs a few
        dictionary look-ups (its one-letter deletions), so this is linear in the text.
        """
        if not self._near_words:
            return []
        spans = sorted(known)
        ends = [end for _, end in spans]
        lengths, prefixes, suffixes = self._near_shapes
        table = _TABLES[True]
        found: list[Candidate] = []
        decided: dict[str, bool] = {}  # a text repeats its words, names most of all
        for token in _NEAR_TOKEN.finditer(text):
            raw = token.group()
            if len(raw) not in lengths:
                continue
            near = decided.get(raw)
            if near is None:
                near = decided[raw] = self._is_near(raw, table, prefixes, suffixes)
            if near:
                start, end = token.span()
                i = bisect.bisect_right(ends, start)
                if not (i < len(spans) and spans[i][0] < end):  # not already a mention
                    found.append(Candidate(start, end, Category.PERSON, raw, "near a registered name"))
        return found

    def _is_near(self, raw: str, table: dict[int, str], prefixes: frozenset[str], suffixes: frozenset[str]) -> bool:
        # One edit leaves the first two letters or the last two as they were: a cheap test that
        # sets aside nearly every word before it is folded and cut.
        shape = raw.translate(table).translate(_OCR_LETTERS)
        if shape[:2] not in prefixes and shape[-2:] not in suffixes:
            return False
        word = _ocr_fold(fold_alias(raw))
        index = self._near_index
        return (any(_within_one_edit(word, near) for near in index.get(word, ()))
                or any(_within_one_edit(word, near) for cut in _deletions(word) for near in index.get(cut, ()))) \
            and not self._common_word(raw)

    @functools.cached_property
    def _near_shapes(self) -> tuple[frozenset[int], frozenset[str], frozenset[str]]:
        """The lengths a near miss can have (an OCR confusion may add a letter, an edit another),
        and the first two and last two letters of the words it can be near."""
        lengths = {n for word in self._near_words for n in range(len(word) - 1, len(word) + 3)}
        return (frozenset(lengths), frozenset(word[:2] for word in self._near_words),
                frozenset(word[-2:] for word in self._near_words))

    @functools.cached_property
    def _near_index(self) -> dict[str, set[str]]:
        """Each word of ``_near_words`` under itself and under each of its one-letter deletions:
        two words one edit apart share a key (symmetric deletion), whatever the edit."""
        index: dict[str, set[str]] = {}
        for word in self._near_words:
            for key in (word, *_deletions(word)):
                index.setdefault(key, set()).add(word)
        return index

    def _candidates(self, text: str, folded: Folded) -> list[tuple[int, int, _Entry]]:
        """Every hit of the automaton that stands on its boundaries and in an accepted case."""
        haystack = folded.text
        size = len(haystack)
        candidates: list[tuple[int, int, _Entry]] = []
        for last, entries in self._automaton.iter(haystack):
            end = last + 1
            for entry in entries:
                start = end - entry.length
                if entry.needs_left_boundary and start > 0 and _is_word_char(haystack[start - 1]) \
                        and not (entry.camel and _camel_boundary(text, folded.original_start(start) - 1,
                                                                 folded.original_start(start))):
                    continue
                if entry.needs_right_boundary and end < size and _is_word_char(haystack[end]) \
                        and not (entry.camel and _camel_boundary(text, folded.original_end(end) - 1,
                                                                 folded.original_start(end))):
                    continue
                if entry.exact_forms is not None:
                    o_start, o_end = folded.original_span(start, end)
                    if fold(text[o_start:o_end], casefold=False).text.strip(" ") not in entry.exact_forms:
                        continue
                candidates.append((start, end, entry))
                break  # the first identity registered for an alias takes it
        return candidates


NEAR_MISS_LETTERS = 5  # an alias word this long or longer has its near misses suggested
# A word that starts with a capital (ASCII or Latin-1, where OCR and typing errors in these
# records fall) or a digit, letters and digits after it. Its first character is matched before
# the look-behind, so the engine skips at C speed to the next capital or digit.
_NEAR_TOKEN = re.compile(r"[A-Z0-9\u00c0-\u00d6\u00d8-\u00de](?<![^\W_].)[^\W_]{3,39}(?![^\W_])")
# What OCR reads for what was printed (and the other way round): each pair folds to one form.
_OCR_CONFUSIONS = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("0", "o"), ("1", "l"), ("|", "l"), ("5", "s"))
_OCR_LETTERS = str.maketrans({seen: meant for seen, meant in _OCR_CONFUSIONS if len(seen) == 1})


def _ocr_fold(word: str) -> str:
    for seen, meant in _OCR_CONFUSIONS:
        if seen in word:
            word = word.replace(seen, meant)
    return word


def _deletions(word: str) -> Iterator[str]:
    return (word[:i] + word[i + 1:] for i in range(len(word)))


def _within_one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by at most one insertion, deletion, substitution or swap of
    two neighbours (Damerau's edits)."""
    if a == b:
        return True
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                                   and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    if abs(len(a) - len(b)) != 1:
        return False
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(shorter) and shorter[i] == longer[i]:
        i += 1
    return shorter[i:] == longer[i + 1:]


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
