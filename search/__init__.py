"""Search: encrypted Whoosh indexes over the masked text only, and the queries over them.

``Search.open(vault)`` opens (and reconciles) the indexes of a vault; ``search(user, query)``
answers what the policy lets that user find, by relevance or by date (``Sort``). See DESIGN.md, rules 1, 7 and 8.
"""

from search._index import Sort
from search._service import Hit, Search, SearchResults, Snippet
from search._storage import DEFAULT_CACHE_BYTES, EncryptedStorage
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
    "EncryptedStorage",
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
]
