"""Search: encrypted Whoosh indexes over the masked text only, and the queries over them.

``Search.open(vault)`` opens (and reconciles) the indexes of a vault; ``search(user, query)``
answers what the policy lets that user find, by relevance or by date (``Sort``). After a write,
``catch_up()`` indexes it at once; ``follower.start()`` and ``follower.stop()`` follow the vault
from a background thread (what other processes write). See DESIGN.md, rules 1, 7 and 8.
"""

from search._engine import DEFAULT_CACHE_BYTES, EncryptedStorage
from search._filters import Filter, query_filters, without_filter
from search._highlight import DocumentHighlights
from search._query import Sort
from search._results import DocumentHits, GroupedResults, Hit, SearchResults, Snippet
from search._service import Search
from search.errors import (
    IndexCorrupt,
    IndexLocked,
    QueryNotAllowed,
    QueryTooComplex,
    QueryTooLong,
    SearchError,
    SearchTimeout,
)

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "DocumentHighlights",
    "DocumentHits",
    "EncryptedStorage",
    "Filter",
    "GroupedResults",
    "Hit",
    "IndexCorrupt",
    "IndexLocked",
    "QueryNotAllowed",
    "QueryTooComplex",
    "QueryTooLong",
    "Search",
    "SearchError",
    "SearchResults",
    "SearchTimeout",
    "Snippet",
    "Sort",
    "query_filters",
    "without_filter",
]
