"""One query asked of one index: the request, the answer, and the run between them.

A search asks every index it may read (a case's released units; for reviewers its units in
review too) for the same thing: every match counted per facet, the best ``limit`` in the order
of the search, and the words a snippet should highlight. The answer is made of plain values
(ids, numbers, masked strings); nothing of Whoosh leaves this package.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from whoosh.collectors import TimeLimit, TimeLimitCollector

from search._engine import _bulk
from search._engine._columns import FACETS
from search._engine._index import CaseIndex
from search._engine._parse import ParsedQuery, expand, text_terms
from search._engine._walk import CountingCollector
from search.errors import SearchTimeout


@dataclass(frozen=True, slots=True)
class IndexQuery:
    """What a search asks of each index it reads."""

    parsed: ParsedQuery
    limit: int  # the best this many hits
    day_sign: int  # the order: 1 newest day first, -1 oldest first, 0 by relevance alone
    deadline: float  # a ``time.monotonic()`` by which the answer is given or SearchTimeout raised
    bulk: bool = True  # answer from whole posting lists where the query allows (``_bulk``)


@dataclass(frozen=True, slots=True)
class IndexHit:
    """One unit found: a turn or a page of a document, as the index holds it."""

    score: float
    day: int  # its document's own date, as ``date.toordinal()``, or NO_DAY (0) when it has none
    docnum: int  # in its index: among equal keys, the lower docnum comes first
    document_id: str
    version: int  # of the document's masked form, to re-check the hit against the vault
    position: int
    kind: str
    uploaded: date | None = None  # the day its document came in


@dataclass(frozen=True, slots=True)
class IndexAnswer:
    """The best hits of one index, in the order asked, and the counts of all its matches."""

    hits: tuple[IndexHit, ...]
    facets: Mapping[str, Counter[str]]  # kind, year, speaker (masked; units without one not counted)
    highlight: frozenset[str]  # the words typed, and those a prefix or a fuzzy word expanded to

    @property
    def total(self) -> int:
        return sum(self.facets["kind"].values())


def answer(index: CaseIndex, request: IndexQuery) -> IndexAnswer:
    """Run ``request`` over ``index``: the bulk path where it answers, else Whoosh's walk."""
    remaining = request.deadline - time.monotonic()
    if remaining <= 0:
        raise SearchTimeout()
    # one searcher serves every thread: Whoosh's matchers seek, then read, in a file they share,
    # and the storage gives each thread its own position in it (search._engine._storage); tests
    # hold answers from many threads equal to answers given one at a time
    searcher = index.searcher()
    query = expand(request.parsed.query, searcher.reader())
    found = _from_bulk(index, searcher, query, request) if request.bulk and _bulk.supported(query) else None
    if found is None:  # the matcher walk, for what the bulk path does not answer (date ranges)
        found = _from_walk(index, searcher, query, request, remaining)
    stored, counts = found
    hits = tuple(IndexHit(score, day, docnum, fields["document"], fields["version"], fields["position"], fields["kind"],
                          _day_of(fields.get("uploaded")))
                 for score, day, docnum, fields in stored)
    facets = {name: Counter({str(key): count for key, count in counts[name].items() if key or name != "speaker"})
              for name in FACETS}
    return IndexAnswer(hits, facets, request.parsed.highlight | text_terms(query))


def _day_of(value: object) -> date | None:
    return value.date() if isinstance(value, datetime) else None


_Stored = list[tuple[float, int, int, dict[str, object]]]  # (score, day, docnum, stored fields), best first
_Counts = dict[str, Counter[object]]  # facet -> value -> matches


def _from_bulk(index: CaseIndex, searcher, query, request: IndexQuery) -> tuple[_Stored, _Counts] | None:  # type: ignore[no-untyped-def]
    try:
        matched = _bulk.run(query, searcher, request.limit, index.segment_lengths, index.columns, request.deadline,
                            day_sign=request.day_sign)
    except _bulk.Unsupported:  # a posting list or scorer it does not read: the walk answers
        return None
    counts: _Counts = {name: Counter() for name in FACETS}
    for reader, docnums in matched.segments:
        for name, values in index.columns(reader).facets.items():
            counts[name].update(map(values.__getitem__, docnums))
    return [(score, day, docnum, searcher.stored_fields(docnum)) for score, day, docnum in matched.top], counts


def _from_walk(index: CaseIndex, searcher, query, request: IndexQuery, remaining: float) -> tuple[_Stored, _Counts]:  # type: ignore[no-untyped-def]
    collector = CountingCollector(request.limit, index.columns, day_sign=request.day_sign)
    timed = TimeLimitCollector(collector, timelimit=remaining, use_alarm=False)
    try:
        searcher.search_with_collector(query, timed)
    except TimeLimit:
        raise SearchTimeout() from None
    return ([(collector.relevance(hit.score), collector.day(hit.docnum), hit.docnum, hit.fields())
             for hit in timed.results()], collector.facets)
