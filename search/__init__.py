"""Search: an encrypted Whoosh index over the masked text only (issue 5)."""

from search._storage import DEFAULT_CACHE_BYTES, EncryptedStorage
from search.errors import IndexCorrupt, IndexLocked, SearchError

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "EncryptedStorage",
    "IndexCorrupt",
    "IndexLocked",
    "SearchError",
]
