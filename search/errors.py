"""Errors of the search index.

Every error carries a stable ``code`` (for the JSON API and the CLI) and a message a person can
act on. Messages never contain document text, queries or key material; a file name inside the
index (a random segment id) may appear, nothing that says why a decryption failed.
"""

from __future__ import annotations


class SearchError(Exception):
    """Base class of every search error."""

    code = "SEARCH_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IndexCorrupt(SearchError):
    """A file of the index did not authenticate: changed, truncated, moved or under another key.

    The index is a derived cache of the vault, so the remedy is always a rebuild.
    """

    code = "INDEX_CORRUPT"

    def __init__(self, filename: str) -> None:
        super().__init__(
            f"the search index file {filename!r} failed its integrity check and was not read; "
            "rebuild the index with `casevault reindex`"
        )


class IndexLocked(SearchError):
    """Another writer holds the index; the operation changed nothing and can be tried again."""

    code = "INDEX_LOCKED"


class QueryNotAllowed(SearchError):
    """The query breaks a rule of the query language; ``code`` names the rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class QueryTooLong(QueryNotAllowed):
    def __init__(self, message: str) -> None:
        super().__init__("QUERY_TOO_LONG", message)


class QueryTooComplex(QueryNotAllowed):
    def __init__(self, message: str) -> None:
        super().__init__("QUERY_TOO_COMPLEX", message)


class SearchTimeout(SearchError):
    """The search did not finish within its time limit; nothing partial is returned."""

    code = "SEARCH_TIMEOUT"

    def __init__(self) -> None:
        super().__init__("the search took too long and was stopped; make it more specific")


class IndexWriteFailed(SearchError):
    """A process writing part of a batch into the index failed; nothing of the batch was
    committed, and the outbox replays it."""

    code = "INDEX_WRITE_FAILED"
