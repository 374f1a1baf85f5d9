"""A document opened from a search: the search's words highlighted, the hit it was opened at,
the previous and next hits, and the way back to the same page of results.

The address carries the search's opaque id and where to stand (``unit``: the page or turn a
results page linked; ``hit``: a hit's number, as the previous/next links give it), never the
query: the words are read from the caller's own search record, and anyone else's id is a 404
like an id that never existed. What is highlighted is worked out in ``search._highlight``,
inside the text the reader is already shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from search import DocumentHighlights, Search, SearchError, Sort
from vault import DocumentView, SearchRecord, UserInfo, Vault
from vault.errors import InvalidInput, NotFound

ANCHOR = "current-hit"  # the id of the hit the page stands at: every link to a hit scrolls to it


@dataclass(frozen=True, slots=True)
class HitNavigation:
    """What a document page opened from a search shows: the highlights, the current hit, its
    neighbours' addresses and the results page's."""

    highlights: DocumentHighlights
    current: int  # 0: no hit
    previous: str | None
    next: str | None
    results: str


def owned_search(vault: Vault, user: UserInfo, search_id: str, *, page: int, sort: str) -> SearchRecord:
    """``user``'s search ``search_id``, checked before the document is read (NotFound for anyone
    else's id, as for none), with the results page to go back to."""
    record = vault.searches.get(search_id, user)
    Sort.named(sort)
    if page < 1:
        raise InvalidInput("page is a number from 1")
    return record


def navigation(vault: Vault, engine: Search, user: UserInfo, view: DocumentView, case_id: str, record: SearchRecord, *,
               unit: int | None, hit: int | None, page: int, sort: str) -> HitNavigation:
    """The navigation of ``view`` within ``user``'s search ``record`` (``owned_search``). A search
    that cannot run now (expired, a rule changed) highlights nothing."""
    highlights = DocumentHighlights({})
    if not record.expired:
        try:
            highlights = engine.highlights(user, record.query, view, vault.case(case_id))
        except (SearchError, InvalidInput, NotFound):
            pass  # its results page says why it cannot run
    count = highlights.count
    current = min(max(hit, 1), count) if hit is not None and count else (
        highlights.first_number(unit) if unit is not None else (1 if count else 0))
    extra = {"page": page, "sort": str(Sort.named(sort))}

    def at(number: int) -> str:
        return f"/documents/{view.id}?" + urlencode({"search": record.id, "hit": number, **extra}) + f"#{ANCHOR}"

    return HitNavigation(highlights, current, at(current - 1) if current > 1 else None,
                         at(current + 1) if 0 < current < count else None,
                         f"/search/{record.id}?" + urlencode(extra))
