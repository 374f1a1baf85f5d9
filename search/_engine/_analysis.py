"""How masked text becomes index terms, and the schema of a case index.

One analyzer serves the index, the query parser and the snippet highlighter, so a word is the
same term on every path: words of letters and digits, lower-cased, accents folded (Gérard =
Gerard), English and French stop words dropped, English Porter stemming, and CJK text cut into
overlapping character bigrams (Chinese and Japanese have no spaces between words). Identity tokens
(``cvx`` + 16 base32 letters) pass through untouched: a stemmer must not turn two tokens into one.

Phrases are served by word-pair terms: the ``pairs`` field holds every two neighbouring terms of
the same text, joined by ``|`` (which never occurs inside a term), so a phrase query is a lookup
of one term per pair instead of a walk over positions. Whoosh's own phrase search is the slowest
thing it does (DESIGN.md: p95 about 4 s at 100,000 documents).
"""

from __future__ import annotations

import functools
import re
import threading
from collections import Counter
from collections.abc import Iterator

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StopFilter,
    Token,
)
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.lang.porter import stem
from whoosh.lang.stopwords import stoplists
from whoosh.system import pack_uint
from whoosh.support.charset import accent_map

from redaction import TOKEN_PATTERN

PAIR_JOINER = "|"
NO_YEAR = 0  # the year facet's value for a document without a date of its own
DAY_MICROSECONDS = 86_400_000_000  # a DATETIME value (term and column) counts microseconds since datetime.min
STOP_WORDS = frozenset(stoplists["en"]) | frozenset(stoplists["fr"])

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_RUNS = re.compile(f"[{_CJK}]+|[^{_CJK}]+")
_IS_CJK = re.compile(f"[{_CJK}]")
_IDENTITY_TOKEN = re.compile(TOKEN_PATTERN.pattern)


@functools.lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return stem(word)


class CjkBigramFilter(Filter):
    """Cuts the CJK runs of a token into overlapping bigrams (a lone CJK character stays one
    term); other runs pass as they are."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        shift = 0  # how many more positions this stream has than its tokenizer gave
        for token in tokens:
            text = token.text
            if not _IS_CJK.search(text):
                if token.positions:
                    token.pos += shift
                yield token
                continue
            origin = getattr(token, "startchar", 0)
            pos = token.pos + shift if token.positions else 0
            pieces = 0
            for run in _CJK_RUNS.finditer(text):
                chunk = run.group()
                if _IS_CJK.match(chunk):
                    spans = [(i, i + 2) for i in range(len(chunk) - 1)] or [(0, 1)]
                else:
                    spans = [(0, len(chunk))]
                for start, end in spans:
                    token.text = chunk[start:end]
                    if token.chars:
                        token.startchar = origin + run.start() + start
                        token.endchar = origin + run.start() + end
                    if token.positions:
                        token.pos = pos + pieces
                    pieces += 1
                    yield token
            shift += max(pieces - 1, 0)


class StemFilter(Filter):
    """Porter stemming, except for identity tokens and CJK bigrams."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            text = token.text
            if not token.stopped and not _IDENTITY_TOKEN.fullmatch(text) and not _IS_CJK.search(text):
                token.text = _stem(text)
            yield token


class PairFilter(Filter):
    """Each two neighbouring terms as one ``first|second`` term (nothing for a single term)."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        previous: tuple[str, int] | None = None
        for token in tokens:
            if token.stopped:
                continue
            text, start = token.text, getattr(token, "startchar", 0)
            if previous is not None:
                token.text = previous[0] + PAIR_JOINER + text
                if token.chars:
                    token.startchar = previous[1]
                yield token
            previous = (text, start)


_WORD = re.compile(r"\w+")


@functools.lru_cache(maxsize=200_000)
def _token_terms(raw: str) -> tuple[str, ...]:
    """The terms one ``\\w+`` token becomes: what the filter chain of ``word_analyzer`` makes of
    it, computed once per distinct token (a property test holds the two paths equal)."""
    text = raw.lower().translate(accent_map)
    if not text or text in STOP_WORDS:
        return ()
    if _IS_CJK.search(text):
        pieces = []
        for run in _CJK_RUNS.finditer(text):
            chunk = run.group()
            if _IS_CJK.match(chunk):
                pieces += [chunk[i:i + 2] for i in range(len(chunk) - 1)] or [chunk]
            else:
                pieces.append(chunk)
    else:
        pieces = [text]
    return tuple(p if _IDENTITY_TOKEN.fullmatch(p) or _IS_CJK.search(p) else _stem(p) for p in pieces)


_last = threading.local()


def terms(text: str) -> list[str]:
    """The index terms of ``text``, in order. The text and pair fields of one unit are the same
    string, so the last answer is kept (per thread) and the second field costs nothing."""
    if getattr(_last, "text", None) is text:
        return _last.terms
    found = [term for raw in _WORD.findall(text) for term in _token_terms(raw)]
    _last.text, _last.terms = text, found
    return found


@functools.lru_cache(maxsize=200_000)
def _token_term_bytes(raw: str) -> tuple[bytes, ...]:
    return tuple(term.encode() for term in _token_terms(raw))


def term_bytes(text: str) -> list[bytes]:
    """``terms(text)``, UTF-8 encoded: what the index stores. Kept per thread like ``terms``."""
    if getattr(_last, "bytes_text", None) is text:
        return _last.bytes
    found = [term for raw in _WORD.findall(text) for term in _token_term_bytes(raw)]
    _last.bytes_text, _last.bytes = text, found
    return found


def pair_bytes(text: str) -> list[bytes]:
    """``pairs(text)``, UTF-8 encoded."""
    found = term_bytes(text)
    joiner = PAIR_JOINER.encode()
    return [a + joiner + b for a, b in zip(found, found[1:])]


def term_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, term) of each term of ``text``, in order: what ``word_analyzer`` gives with
    ``chars=True``, from the cached per-word path (a word with CJK letters, cut into bigrams,
    goes through the analyzer itself). For snippets: a hit's text is scanned once per answer."""
    out: list[tuple[int, int, str]] = []
    for match in _WORD.finditer(text):
        raw = match.group()
        if _IS_CJK.search(raw):
            offset = match.start()
            out += [(offset + t.startchar, offset + t.endchar, t.text)
                    for t in _span_analyzer()(raw, chars=True, mode="query")]
        else:
            out += [(match.start(), match.end(), term) for term in _token_terms(raw)]
    return out


@functools.cache
def _span_analyzer() -> Analyzer:
    return word_analyzer()


def pairs(text: str) -> list[str]:
    """Each two neighbouring terms of ``text`` as one ``first|second`` term."""
    found = terms(text)
    return [a + PAIR_JOINER + b for a, b in zip(found, found[1:])]


class _FastText(TEXT):
    """A TEXT field (frequencies, no positions) that indexes through ``term_bytes`` instead of
    Whoosh's token stream, one generator frame per filter per word. Queries and snippets still
    go through ``analyzer``, which gives the same terms."""

    _split = staticmethod(term_bytes)

    def index(self, value, **kwargs):  # type: ignore[no-untyped-def]
        if not isinstance(value, str):
            raise ValueError("a text field takes text")  # not the value: it could be a unit's text
        boost = self.format.field_boost
        return [(term, count, count * boost, _packed_count(count))
                for term, count in Counter(self._split(value)).items()]


@functools.lru_cache(maxsize=256)
def _packed_count(count: int) -> bytes:
    return pack_uint(count)


class _FastPairs(_FastText):
    """Pair terms carry no field length: a phrase's pairs match or not, and the words of the
    phrase are scored in the text field."""

    _split = staticmethod(pair_bytes)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.scorable = False


def word_analyzer() -> Analyzer:
    return (RegexTokenizer(r"\w+") | LowercaseFilter() | CharsetFilter(accent_map)
            | StopFilter(stoplist=STOP_WORDS, minsize=1) | CjkBigramFilter() | StemFilter())


def pair_analyzer() -> Analyzer:
    return word_analyzer() | PairFilter()


def pair_term(first: str, second: str) -> str:
    return first + PAIR_JOINER + second


def case_schema() -> Schema:
    """One index unit per transcript turn or court-record page. Only masked text and masked
    speakers go in; nothing is stored but ids, the masked speaker and numbers."""
    date = DATETIME(sortable=True)
    date.shift_step = 0  # DATETIME takes no shift_step argument
    uploaded = DATETIME(stored=True)
    uploaded.shift_step = 0
    return Schema(
        document=ID(stored=True),
        version=STORED(),  # of the document's masked form, to re-check a hit against the database
        position=STORED(),
        kind=ID(stored=True, sortable=True),
        # one term per value (no tiers): a range walks the days that occur, a few hundred terms
        date=date,  # the document's own date (a decision's, a call's); none when it has none
        year=NUMERIC(sortable=True, shift_step=0),  # of the document's date, NO_YEAR when none
        uploaded=uploaded,  # the day a document came in (stored: a hit shows it)
        upload_year=NUMERIC(sortable=True, shift_step=0),
        speaker=KEYWORD(lowercase=True, commas=False, scorable=False),
        speaker_facet=ID(sortable=True),
        text=_FastText(analyzer=word_analyzer(), phrase=False),
        pairs=_FastPairs(analyzer=pair_analyzer(), phrase=False),
    )
