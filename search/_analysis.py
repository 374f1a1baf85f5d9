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
from whoosh.support.charset import accent_map

from redaction import TOKEN_PATTERN

PAIR_JOINER = "|"
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
    return Schema(
        unit=ID(stored=True, unique=True),  # "<document id>:<position>"
        document=ID(stored=True),
        version=STORED(),  # of the document's masked form, to re-check a hit against the database
        position=STORED(),
        kind=ID(stored=True, sortable=True),
        date=DATETIME(sortable=True),
        year=NUMERIC(sortable=True),
        speaker=KEYWORD(lowercase=True, commas=False, scorable=False),
        speaker_facet=ID(sortable=True),
        text=TEXT(analyzer=word_analyzer(), phrase=False),
        pairs=TEXT(analyzer=pair_analyzer(), phrase=False),
    )
