"""Answering a query by Whoosh's own matcher walk, counting every match on the way.

The bulk path (``_bulk``) answers most queries; what it does not read (date ranges mixed into
other shapes, a posting list or scorer of another kind) is walked here, with the same totals,
facets, order and scores (a test holds the two equal over random queries).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from heapq import heappush, heapreplace

from whoosh.collectors import TopCollector
from whoosh.reading import SegmentReader

from search._engine._columns import FACETS, SegmentColumns


class CountingCollector(TopCollector):
    """The best ``limit`` matches in the order of ``day_sign`` (``IndexQuery``), and the facet counts of every match.

    Whoosh's own facets (``groupedby``) open every facet column of every segment again for
    each query and turn each match into a key through three calls per facet; here the columns
    of a segment are read once (``CaseIndex.columns``, segments never change) and a match
    costs one list append, counted per segment in bulk. A date sort keeps the best by the key
    (day, score), or (-day, score) for the oldest first, in Whoosh's own heap: a hit's ``score``
    is then that key (``relevance`` takes the score back out). Whoosh's ``sortedby`` would lose
    these counts and read the sort column again per query. The counts need every match, not only
    those that could make the page: block-quality skipping is off, and the lowest score on the
    page is never handed to the matcher (``minscore`` stays 0; given it, Whoosh's ``replace``
    turns an OR into an AND-maybe when one side alone cannot reach it).
    """

    def __init__(self, limit: int, columns: Callable[[SegmentReader], SegmentColumns], *, day_sign: int = 0) -> None:
        super().__init__(limit=limit, usequality=False)
        self._columns = columns
        self._day_sign = day_sign
        self.facets: dict[str, Counter[object]] = {name: Counter() for name in FACETS}
        self._segment = SegmentColumns({}, ())
        self._matched: list[int] = []
        self._offsets: list[int] = []  # of the segments searched, and their columns
        self._segments: list[SegmentColumns] = []

    def set_subsearcher(self, subsearcher, offset):  # type: ignore[no-untyped-def]
        self._count()
        super().set_subsearcher(subsearcher, offset)
        self._segment = self._columns(subsearcher.reader())
        self._offsets.append(offset)
        self._segments.append(self._segment)

    def collect(self, sub_docnum):  # type: ignore[no-untyped-def]
        self._matched.append(sub_docnum)
        return super().collect(sub_docnum)

    def _collect(self, global_docnum, score):  # type: ignore[no-untyped-def]
        # TopCollector._collect with the key of the sort, and without ``self.minscore = items[0][0]``;
        # among equal keys the lower docnum stays (matches come in docnum order)
        if self._day_sign:
            score = (self._day_sign * self._segment.days[global_docnum - self.offset], score)
        self.total += 1
        item = (score, -global_docnum)
        if len(self.items) < self.limit:
            heappush(self.items, item)
        elif score > self.items[0][0]:
            heapreplace(self.items, item)
        return score

    @staticmethod
    def relevance(key: float | tuple[int, float] | None) -> float:
        """The relevance score in a hit's ``score`` (a key, for a date sort)."""
        return (key[1] if isinstance(key, tuple) else key) or 0.0

    def day(self, docnum: int) -> int:
        """The day (``date.toordinal()``) of a unit found, by its top-level docnum."""
        segment = bisect_right(self._offsets, docnum) - 1
        return self._segments[segment].days[docnum - self._offsets[segment]]

    def finish(self):  # type: ignore[no-untyped-def]
        self._count()
        super().finish()

    def _count(self) -> None:
        if self._matched:
            for name, values in self._segment.facets.items():
                self.facets[name].update(map(values.__getitem__, self._matched))
            self._matched = []
