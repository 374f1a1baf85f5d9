"""What a search answers, shaped for the user who asked: hits with snippets, facets, a total.

Everything here is rendered through the user's ``Display`` (the same policy as document views):
a token the user may not see unmasked shows its pseudonym, and each identity whose real name an
answer shows is reported back, for the audit entry. Snippets are cut from the masked text held
in the vault, never from the index, around the words the query matched.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from redaction import TOKEN_PATTERN, render
from search._engine import NO_DAY, NO_YEAR, IndexAnswer, IndexHit, term_spans
from vault import CaseInfo, Display, DocumentStatus, MaskedDocument

SNIPPET_CHARS = 180
SNIPPETS_PER_HIT = 2
MAX_WORD = 40  # text without spaces (CJK) is cut anywhere beyond this
FACET_NAMES = ("kind", "year", "upload_year", "speaker")
NO_DATE = "none"  # the year facet's bucket of documents without a date of their own


@dataclass(frozen=True, slots=True)
class Snippet:
    text: str
    highlights: tuple[tuple[int, int], ...]  # [start, end) in ``text``

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "highlights": [list(h) for h in self.highlights]}


@dataclass(frozen=True, slots=True)
class Hit:
    document_id: str
    kind: str
    case: str
    score: float
    location: dict[str, object]
    snippets: tuple[Snippet, ...]

    def to_json(self) -> dict[str, object]:
        return {"id": self.document_id, "kind": self.kind, "case": self.case, "score": round(self.score, 4),
                "location": self.location, "snippets": [s.to_json() for s in self.snippets]}


@dataclass(frozen=True, slots=True)
class SearchResults:
    total: int
    page: int
    hits: tuple[Hit, ...]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"total": self.total, "page": self.page, "hits": [h.to_json() for h in self.hits],
                "facets": self.facets}


@dataclass(frozen=True, slots=True)
class DocumentHits:
    """One document found, with the hits (pages or turns) of it a results page lists beneath its
    title: its masked title rendered for the reader, its own date (None when it has none) and its
    upload day, and how many more of its hits the search found than are listed."""

    document_id: str
    kind: str
    case: str
    title: str
    date: str | None
    uploaded: str | None
    hits: tuple[Hit, ...]
    more: int


@dataclass(frozen=True, slots=True)
class GroupedResults:
    """A page of documents, each with its hits: ``total`` hits in ``documents`` documents
    (``complete`` False: at least that many documents, the search found more hits than it read)."""

    total: int
    documents: int
    complete: bool
    page: int
    per_page: int
    entries: tuple[DocumentHits, ...]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.documents > self.page * self.per_page


def by_document(found: Iterable[Found]) -> dict[str, list[Found]]:
    """Hits grouped by their document, documents in the order of their best hit, each document's
    hits in the order of the search."""
    groups: dict[str, list[Found]] = {}
    for f in found:
        groups.setdefault(f.hit.document_id, []).append(f)
    return groups


def document_hits(hits: list[Hit], more: int, title: str) -> DocumentHits:
    first = hits[0]
    return DocumentHits(first.document_id, first.kind, first.case, title, first.location["date"],
                        first.location["uploaded"], tuple(hits), more)


@dataclass(frozen=True, slots=True)
class Found:
    """One hit of one index of one case, before it is re-checked and given snippets."""

    hit: IndexHit
    case: CaseInfo
    status: DocumentStatus


def merge_order(day_sign: int) -> Callable[[Found], tuple[object, ...]]:
    """The order of the hits of several indexes, merged: each index's own order (the key of the
    sort, best first, then the lower docnum), so the first ``page * per_page`` of the merge are
    made of the first of each index, and a page boundary between equal keys falls at the same
    place for every page (no hit on two pages, none on no page)."""
    return lambda f: (-day_sign * f.hit.day, -f.hit.score, f.case.id, f.status.value, f.hit.docnum)


def facets(answers: Iterable[tuple[IndexAnswer, Display]]) -> tuple[dict[str, dict[str, int]], frozenset[str]]:
    """The facet counts of every answer, speakers rendered for the user (most frequent first),
    and the identities whose real names the rendered speakers show."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in FACET_NAMES}
    revealed: set[str] = set()
    for answer, display in answers:
        counts["kind"].update(answer.facets["kind"])
        counts["year"].update({NO_DATE if year == str(NO_YEAR) else year: n for year, n in answer.facets["year"].items()})
        counts["upload_year"].update(answer.facets["upload_year"])
        for speaker, count in answer.facets["speaker"].items():
            counts["speaker"][render(speaker, display.shown)] += count
            revealed.update(display.revealing[t] for t in TOKEN_PATTERN.findall(speaker) if t in display.revealing)
    rendered = {name: dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))) for name, found in counts.items()}
    return rendered, frozenset(revealed)


def hit(found: Found, masked: MaskedDocument | None, display: Display, terms: frozenset[str]) -> tuple[Hit, frozenset[str]]:
    """A hit as the user sees it, from the masked form of its document (None if it is gone since),
    and the identities whose real names it shows."""
    unit = next((u for u in masked.units if u.position == found.hit.position), None) if masked else None
    kind = found.hit.kind
    location: dict[str, object] = {"page": found.hit.position} if kind == "court_record" else {"turn": found.hit.position}
    shown: tuple[Snippet, ...] = ()
    revealed: frozenset[str] = frozenset()
    if unit is not None:
        if unit.speaker is not None:
            location |= {"speaker": render(unit.speaker, display.shown), "start_ms": unit.start_ms, "end_ms": unit.end_ms}
        shown = snippets(unit.text, terms, display)
        tokens = set(TOKEN_PATTERN.findall(unit.text)) | set(TOKEN_PATTERN.findall(unit.speaker or ""))
        revealed = frozenset(display.revealing[t] for t in tokens if t in display.revealing)
    # the document's own date (None when it has none) and the day it came in, as the index has them
    location["date"] = date.fromordinal(found.hit.day).isoformat() if found.hit.day != NO_DAY else None
    location["uploaded"] = found.hit.uploaded.isoformat() if found.hit.uploaded else None
    return Hit(found.hit.document_id, kind, found.case.name, found.hit.score, location, shown), revealed


def snippets(text: str, terms: frozenset[str], display: Display) -> tuple[Snippet, ...]:
    """Up to two windows of the masked text around matched words, rendered for the user."""
    matches = [(start, end) for start, end, term in term_spans(text) if term in terms]
    if not matches:
        matches = [(0, 0)]
    windows: list[tuple[int, int]] = []
    for start, end in matches:
        if windows and start < windows[-1][1]:
            continue
        left = max(0, start - SNIPPET_CHARS // 3)
        right = min(len(text), max(end, left + SNIPPET_CHARS))
        windows.append((_word_start(text, left), _word_end(text, right)))
        if len(windows) == SNIPPETS_PER_HIT:
            break
    out = []
    for left, right in windows:
        pieces, highlights, cursor, length = [], [], left, 0
        for start, end in matches:
            if start < left or end > right or end == start:
                continue
            before = render(text[cursor:start], display.shown)
            word = render(text[start:end], display.shown)
            pieces += [before, word]
            length += len(before)
            highlights.append((length, length + len(word)))
            length += len(word)
            cursor = end
        pieces.append(render(text[cursor:right], display.shown))
        prefix = "…" if left > 0 else ""
        suffix = "…" if right < len(text) else ""
        out.append(Snippet(prefix + "".join(pieces) + suffix,
                           tuple((s + len(prefix), e + len(prefix)) for s, e in highlights)))
    return tuple(out)


_SPACE = re.compile(r"\s")


def _word_start(text: str, index: int) -> int:
    """Move back to the start of the word at ``index``, so a window never cuts a token in two."""
    stop = max(0, index - MAX_WORD)
    while index > stop and not _SPACE.match(text[index - 1]):
        index -= 1
    return index


def _word_end(text: str, index: int) -> int:
    stop = min(len(text), index + MAX_WORD)
    while index < stop and not _SPACE.match(text[index]):
        index += 1
    return index
