"""Answering a query from whole posting lists, without Whoosh's matcher walk.

A search needs every match (the total and the facets count all of them) and the best few by
score. Whoosh finds them by walking a tree of matchers one document at a time, several Python
calls per match and per scorer; at 100,000 turns a common word costs tens of milliseconds that
way. Here each term's posting list is read block by block into a {docnum: score} map (the
BM25F formula applied to a whole list at once), and the query's AND / OR / NOT become dict and
set operations, which run in C. The answer is the same: the same documents, the same BM25F
scores (up to the order of a float sum), ties broken by lower docnum as Whoosh's TopCollector
breaks them. A test holds the two equal over random queries.

Only the shapes the query language produces after ``expand`` are answered here: terms, date
ranges, And (with Not children), Or, AndNot, AndMaybe. Anything else raises ``Unsupported``
before any work, and the caller walks the matchers as before. A date range (``date:2026``,
``date:[2026-01-01 TO 2026-03-31]``) is read from the day column of each segment, which holds
one day per unit, instead of from the posting lists of every day it spans.

The posting blocks are read through Whoosh's own W3 leaf matcher (its block reading is not a
public method; Whoosh is pinned at 2.7.5 and a test compares this module with Whoosh's own
answers, so a change there fails loudly instead of answering differently).
"""

from __future__ import annotations

import heapq
import time
from itertools import accumulate, repeat
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from whoosh import query as q
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import ListMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.scoring import BM25FScorer, WeightScorer
from whoosh.searching import Searcher

from search._engine._analysis import DAY_MICROSECONDS
from search._engine._columns import NO_DAY, SegmentColumns, SegmentLengths
from search.errors import SearchTimeout

Scores = dict[int, float]  # docnum within a segment -> score
COLUMN_FILTERS = {"kind": "kind"}  # query field -> the facet column holding its one value per unit
DAY_FIELD = "date"  # the field whose ranges are read from the day column (SegmentColumns.days)


class Unsupported(Exception):
    """A query (or a part of one) this module does not answer; the matcher walk does."""


def supported(node: q.Query) -> bool:
    """Whether ``node`` is made only of what this module answers (checked before any work)."""
    if isinstance(node, q.Term) or node is q.NullQuery or _is_day_range(node):
        return True
    if isinstance(node, q.And):
        positive = [c for c in node.subqueries if not isinstance(c, q.Not)]
        return bool(positive) and all(supported(c.query if isinstance(c, q.Not) else c) for c in node.subqueries)
    if isinstance(node, q.Or):
        return not node.minmatch and not node.scale and all(
            supported(c) and not isinstance(c, q.Not) for c in node.subqueries)
    if isinstance(node, (q.AndNot, q.AndMaybe)):
        return supported(node.a) and supported(node.b) and not isinstance(node.a, q.Not)
    return False


def _is_day_range(node: q.Query) -> bool:
    return isinstance(node, q.NumericRange) and node.fieldname == DAY_FIELD


def _is_filter(node: q.Query) -> bool:
    """A child of an And answered by testing a column of the units already matched."""
    return (isinstance(node, q.Term) and node.fieldname in COLUMN_FILTERS) or _is_day_range(node)


def _in_range(node: q.NumericRange) -> Callable[[int], bool]:
    """Whether a day (``date.toordinal()``) falls in a date range, as its terms would match:
    a unit's date is the midnight starting its day."""
    low, high = node.start, node.end

    def test(day: int) -> bool:
        if day == NO_DAY:  # no date: no term of the field, no range holds it
            return False
        value = (day - 1) * DAY_MICROSECONDS
        return ((low is None or (value > low if node.startexcl else value >= low))
                and (high is None or (value < high if node.endexcl else value <= high)))

    return test


@dataclass
class _Segment:
    searcher: Searcher  # the segment's sub-searcher (its parent gives the global idf and lengths)
    reader: SegmentReader
    deleted: frozenset[int]
    lengths: SegmentLengths
    columns: dict[str, list[object]]  # the segment's facet columns (CaseIndex.columns)
    days: Sequence[int]  # the day of each unit, as date.toordinal()
    deadline: float


def _postings(segment: _Segment, fieldname: str, text: str, boost: float) -> Scores:
    searcher, reader = segment.searcher, segment.reader
    if fieldname not in searcher.schema:
        return {}
    field = searcher.schema[fieldname]
    try:
        btext = field.to_bytes(text)
    except ValueError:
        return {}
    if (fieldname, btext) not in reader:
        return {}
    try:
        matcher = reader.postings(fieldname, btext)
    except TermNotFound:
        return {}
    if isinstance(matcher, FilterMatcher):  # deleted documents: taken out below, in bulk
        matcher = matcher.child
    ids: list[int] = []
    weights: list[float] = []
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_data()  # one block: (delta-coded ids, weights, values)
            block_ids, block_weights = matcher._data[0], matcher._data[1]
            # the ids as W3LeafMatcher._read_ids decodes them (delta_decode, in Python), summed in C
            ids.extend(block_ids if matcher._byteids else accumulate(block_ids))
            count = len(ids) - len(weights)
            if block_weights is None:
                weights.extend(repeat(1.0, count))
            elif isinstance(block_weights, float):
                weights.extend(repeat(block_weights, count))
            else:
                weights.extend(block_weights)
            matcher._next_block()
            if time.monotonic() > segment.deadline:
                raise SearchTimeout()
    elif isinstance(matcher, ListMatcher):
        ids = list(matcher._ids)
        weights = list(matcher._weights) if matcher._weights is not None else [1.0] * len(ids)
    else:
        raise Unsupported(type(matcher).__name__)
    scorer = searcher.weighting.scorer(searcher, fieldname, btext)
    if isinstance(scorer, BM25FScorer):
        idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
        lengths = segment.lengths.of(fieldname)
        # bm25(): idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
        scores = [idf * ((w * (k1 + 1)) / (w + k1 * ((1 - b) + b * lengths[d] / avgfl))) for d, w in zip(ids, weights)]
    elif isinstance(scorer, WeightScorer):
        scores = weights
    else:
        raise Unsupported(type(scorer).__name__)
    if boost != 1.0:
        scores = [s * boost for s in scores]
    found = dict(zip(ids, scores))
    if segment.deleted:
        for docnum in segment.deleted.intersection(found):
            del found[docnum]
    return found


def _match(node: q.Query, segment: _Segment) -> Scores:
    if isinstance(node, q.Term):
        return _postings(segment, node.fieldname, node.text, node.boost)
    if node is q.NullQuery:
        return {}
    if _is_day_range(node):
        # Whoosh's NumericRange scores each match its boost (a constant-score query)
        days, deleted, within = segment.days, segment.deleted, _in_range(node)
        return {d: node.boost for d, day in enumerate(days) if within(day) and d not in deleted}
    if isinstance(node, q.And):
        children = [c for c in node.subqueries if not isinstance(c, q.Not)]
        # kind:transcript and date ranges match most units; read the one-value-per-unit column
        # of those already matched instead of their posting lists
        filters = [c for c in children if _is_filter(c)]
        matched = [c for c in children if not _is_filter(c)]
        if not matched:
            matched, filters = filters[:1], filters[1:]
        positive = sorted((_match(c, segment) for c in matched), key=len)
        found = positive[0]
        for other in positive[1:]:
            found = {d: s + other[d] for d, s in found.items() if d in other}
        for child in filters:
            if isinstance(child, q.NumericRange):
                days, within, score = segment.days, _in_range(child), child.boost
                found = {d: s + score for d, s in found.items() if within(days[d])}
                continue
            values, text = segment.columns[COLUMN_FILTERS[child.fieldname]], child.text
            score = 1.0 * child.boost  # an unscored field: Whoosh scores its posting's weight, 1.0
            found = {d: s + score for d, s in found.items() if values[d] == text}
        for child in node.subqueries:
            if isinstance(child, q.Not) and found:
                # Whoosh intersects with an InverseMatcher, whose score (its weight, 1.0) adds in
                excluded = _match(child.query, segment)
                found = {d: s + 1.0 for d, s in found.items() if d not in excluded}
    elif isinstance(node, q.Or):
        found = {}
        for child in node.subqueries:
            for d, s in _match(child, segment).items():
                found[d] = found.get(d, 0.0) + s
    elif isinstance(node, q.AndNot):
        found = _match(node.a, segment)
        if found:
            excluded = _match(node.b, segment)
            found = {d: s for d, s in found.items() if d not in excluded}
    elif isinstance(node, q.AndMaybe):
        found = _match(node.a, segment)
        if found:
            maybe = _match(node.b, segment)
            found = {d: s + maybe.get(d, 0.0) for d, s in found.items()}
    else:
        raise Unsupported(type(node).__name__)
    if node.boost != 1.0:
        found = {d: s * node.boost for d, s in found.items()}
    return found


@dataclass
class Matched:
    """What one index gives a search: every match of each segment (for counting) and the best
    ``limit`` in the order of the search."""

    segments: list[tuple[SegmentReader, list[int]]]  # each segment's reader and matching docnums
    top: list[tuple[float, int, int]]  # (score, day as date.toordinal(), global docnum), best first

    @property
    def total(self) -> int:
        return sum(len(docnums) for _, docnums in self.segments)


def run(query: q.Query, searcher: Searcher, limit: int, lengths: Callable[[SegmentReader], SegmentLengths],
        columns: Callable[[SegmentReader], SegmentColumns], deadline: float, *, day_sign: int = 0) -> Matched:
    """Every match of ``query`` in ``searcher``'s segments and the best ``limit`` of them: by score,
    or with ``day_sign`` 1 (-1) by (day, score) newest (oldest) first, as ``CountingCollector``
    orders them. ``Unsupported`` when the query has a part this module does not answer."""
    if not supported(query):
        raise Unsupported(type(query).__name__)
    segments: list[tuple[SegmentReader, list[int]]] = []
    best: list[tuple[object, int, int]] = []  # (key, -global docnum, day)
    for subsearcher, offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        if not isinstance(reader, SegmentReader):  # an empty index
            continue
        known = columns(reader)
        segment = _Segment(subsearcher, reader, reader.deleted_docs_set, lengths(reader), known.facets, known.days,
                           deadline)
        found = _match(query, segment)
        if time.monotonic() > deadline:
            raise SearchTimeout()
        segments.append((reader, list(found)))
        days = known.days
        # (key, -docnum, day): the best key first, then the lowest docnum, as TopCollector keeps
        # them (docnums are unique: the day is carried along, never compared)
        if day_sign:
            keyed = (((day_sign * days[d], s), -(offset + d), days[d]) for d, s in found.items())
        else:
            keyed = ((s, -(offset + d), days[d]) for d, s in found.items())
        best = heapq.nlargest(limit, best + heapq.nlargest(limit, keyed))
    return Matched(segments, [(key[1] if day_sign else key, day, -negated)  # type: ignore[index]
                              for key, negated, day in best])

