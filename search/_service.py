"""Search over the vault: indexes that follow the outbox, and queries answered per the policy.

The database is the authority. Every change to a document's searchable form leaves an outbox row
in the same transaction; ``sync`` applies the rows after each index's mark, commits the index,
then moves the mark, so a crash anywhere replays (idempotently) instead of losing a change. An
index that is missing or unreadable is rebuilt from the vault.

A search runs only over indexes the user may see (a user who may see nothing gets an empty
answer without Whoosh being called: an empty Whoosh filter would match everything), every hit is
re-checked against the database, snippets are cut from the masked text held in the vault and
rendered through the same policy as document views, and the search, with every real name its
answer shows, is audited before the answer is returned.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from whoosh.collectors import TimeLimit, TimeLimitCollector

from redaction import TOKEN_PATTERN, AliasMatcher, render
from search._analysis import term_spans
from search import _bulk
from search._index import FACETS, CaseIndex, CountingCollector, Sort, units_of
from search._query import check_text, expand, parse, vocabulary_matcher
from search._storage import DEFAULT_CACHE_BYTES
from search.errors import IndexCorrupt, SearchTimeout
from vault import CaseInfo, Display, DocumentStatus, IndexChange, MaskedDocument, UserInfo, Vault
from vault.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

PER_PAGE = 10
MAX_PAGE = 100
TIME_LIMIT_SECONDS = 5.0
SNIPPET_CHARS = 180
MASKED_CACHE_CHARS = 64 * 1024 * 1024  # masked text kept for snippets, in characters
SNIPPETS_PER_HIT = 2
REBUILD_BATCH = 1000  # documents per commit while rebuilding
INDEX_PROCS = 2  # processes that index a large batch (the machine has two cores)
VOCABULARIES_KEPT = 256  # query vocabulary matchers kept (one per case and kind of viewer, mostly)
_STATUS_DIR = {DocumentStatus.RELEASED: "released", DocumentStatus.IN_REVIEW: "review"}


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


@dataclass
class _Found:
    """One hit from one index, before it is re-checked and given snippets."""

    score: float
    day: int  # the day its document came in, as ``date.toordinal()``
    case: CaseInfo
    status: DocumentStatus
    docnum: int  # in its index: Whoosh keeps the lower docnum among equal keys
    document_id: str
    version: int
    position: int
    kind: str


def _merge_order(sort: Sort) -> Callable[[_Found], tuple[object, ...]]:
    """The order of the hits of several indexes, merged: each index's own order (the key of the
    sort, best first, then the lower docnum), so the first ``page * per_page`` of the merge are
    made of the first of each index, and a page boundary between equal keys falls at the same
    place for every page (no hit on two pages, none on no page)."""
    sign = sort.day_sign
    return lambda f: (-sign * f.day, -f.score, f.case.id, f.status.value, f.docnum)


class Search:
    """The indexes under ``root`` (one directory per case) and the searches over them."""

    def __init__(self, vault: Vault, root: Path, *, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 time_limit: float = TIME_LIMIT_SECONDS) -> None:
        self.vault = vault
        self.root = root
        self.time_limit = time_limit
        self.bulk = True  # answer from whole posting lists where the query allows (search._bulk)
        self._cache_bytes = cache_bytes
        self._indexes: dict[tuple[str, DocumentStatus], CaseIndex] = {}
        self._marks: dict[str, int] = {}
        self._reconciled = False
        self._sync_lock = threading.RLock()
        # the masked text of recent hits, for snippets (pseudonymised: the index holds the same)
        self._masked: OrderedDict[tuple[str, int], tuple[MaskedDocument, int]] = OrderedDict()
        self._masked_chars = 0
        self._masked_lock = threading.Lock()
        # query vocabularies (labels, and the names a user may type) -> their matcher
        self._vocabularies: OrderedDict[tuple[tuple[str, str], ...], AliasMatcher | None] = OrderedDict()
        self._vocabularies_lock = threading.Lock()

    @classmethod
    def open(cls, vault: Vault, root: Path | None = None, *, progress: Callable[[int], None] | None = None,
             **options: object) -> Search:
        """Open the indexes and reconcile them with the database: sweep what interrupted writers
        left, rebuild what is missing or unreadable, replay the outbox."""
        search = cls(vault, root or vault.settings.index_dir, **options)  # type: ignore[arg-type]
        search.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        search.sync(progress)
        return search

    def close(self) -> None:
        with self._sync_lock:
            for index in self._indexes.values():
                index.close()
            self._indexes.clear()
            self._masked.clear()
            self._masked_chars = 0
            with self._vocabularies_lock:
                self._vocabularies.clear()

    def __enter__(self) -> Search:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- following the vault ---------------------------------------------------------------------

    def _case_dir(self, case_id: str) -> Path:
        return self.root / case_id

    def _index(self, case_id: str, status: DocumentStatus) -> CaseIndex:
        key = (case_id, status)
        if key not in self._indexes:
            name = _STATUS_DIR[status]
            self._indexes[key] = CaseIndex(self._case_dir(case_id) / name, self.vault.index_key(case_id),
                                           f"{case_id}/{name}", cache_bytes=self._cache_bytes)
        return self._indexes[key]

    def _open_case(self, case_id: str) -> int:
        """Open a case's indexes (sweeping orphans) and return its mark; -1 when it must be rebuilt."""
        if case_id in self._marks:
            return self._marks[case_id]
        if not (self._case_dir(case_id) / _STATUS_DIR[DocumentStatus.RELEASED]).exists():
            return -1
        try:
            for status in _STATUS_DIR:
                index = self._index(case_id, status)
                index.storage.sweep_orphans()
                index.verify()
            mark = self._index(case_id, DocumentStatus.RELEASED).mark()
        except (IndexCorrupt, OSError, ValueError) as error:
            log.warning("search index of case %s is unreadable (%s); rebuilding it", case_id, error)
            self._drop_case(case_id)
            return -1
        self._marks[case_id] = mark
        return mark

    def _drop_case(self, case_id: str) -> None:
        for status in _STATUS_DIR:
            index = self._indexes.pop((case_id, status), None)
            if index is not None:
                index.close()
        self._marks.pop(case_id, None)
        shutil.rmtree(self._case_dir(case_id), ignore_errors=True)

    def sync(self, progress: Callable[[int], None] | None = None, *, high: int | None = None) -> int:
        """Bring every index up to the outbox; returns the number of documents (re)indexed.
        Cheap when nothing changed: one query for the newest outbox id (none when the caller
        read it already: ``high``)."""
        with self._sync_lock:
            if high is None:
                high = self.vault.latest_index_change()
            done = 0
            if not self._reconciled:  # at open: every case, including those with no change pending
                for case_info in self.vault.cases():
                    done += self._reconcile(case_info.id, progress)
                self._reconciled = True
            start = min(self._marks.values(), default=high)
            while start < high:
                changes = self.vault.index_changes(start, limit=500)
                if not changes:
                    break
                by_case: dict[str, list[IndexChange]] = {}
                for change in changes:
                    if change.case_id not in self._marks:  # a case new since the indexes opened
                        done += self._reconcile(change.case_id, progress)
                    if change.id > self._marks[change.case_id]:
                        by_case.setdefault(change.case_id, []).append(change)
                for case_id, case_changes in by_case.items():
                    done += self._apply(case_id, case_changes)
                    if progress:
                        progress(len(case_changes))
                start = changes[-1].id
            return done

    def _catch_up(self, case_ids: list[str], high: int) -> None:
        """Before a search: bring its cases' indexes up to outbox id ``high``, without queueing
        behind another thread's write. When the write lock is free the search applies what is
        pending itself. When another thread holds it (an upload's answer waits on its own
        indexing, see web), the search does not wait for additions: it answers from the last
        commit, as if it had come a moment earlier. It waits only when a pending change could
        leave terms in the index that are gone from the documents (a re-masking's purge), or
        when a case has no open index yet: those are never served stale."""
        marks = [self._marks.get(case_id, -1) for case_id in case_ids]
        if min(marks, default=high) >= high:
            return
        if self._sync_lock.acquire(blocking=False):
            try:
                self.sync(high=high)
            finally:
                self._sync_lock.release()
        elif min(marks) < 0 or self.vault.purge_pending(case_ids, min(marks)):
            self.sync(high=high)

    def _reconcile(self, case_id: str, progress: Callable[[int], None] | None) -> int:
        """Open a case's indexes, rebuilding them if never built or unreadable; returns the
        number of documents rebuilt."""
        return self.rebuild(case_id, progress) if self._open_case(case_id) < 0 else 0

    def _apply(self, case_id: str, changes: list[IndexChange]) -> int:
        documents = list(dict.fromkeys(c.document_id for c in changes))
        self._write(case_id, documents, documents, purge=any(c.purge for c in changes))
        self._set_mark(case_id, changes[-1].id)
        return len(documents)

    def _write(self, case_id: str, remove: list[str], document_ids: list[str], *, purge: bool) -> None:
        """Remove the units of ``remove`` and add the current units of ``document_ids``, each to
        the index of its status. Documents are read from the vault while the units before them
        are being indexed (by other processes, in a large batch)."""
        with ExitStack() as stack:
            writers = {status: stack.enter_context(self._index(case_id, status).writing(purge=purge, procs=INDEX_PROCS))
                       for status in _STATUS_DIR}
            for writer in writers.values():
                for document_id in remove:
                    writer.delete_by_term("document", document_id)
            for document in self.vault.searchables(document_ids):
                if document.status in writers:
                    writers[document.status].add_units(units_of(document))

    def _set_mark(self, case_id: str, value: int) -> None:
        self._index(case_id, DocumentStatus.RELEASED).set_mark(value)
        self._marks[case_id] = value

    def rebuild(self, case_id: str, progress: Callable[[int], None] | None = None) -> int:
        """Build a case's indexes again from the vault; returns the number of documents."""
        with self._sync_lock:
            high = self.vault.latest_index_change()  # changes from here on are replayed after
            self._drop_case(case_id)
            document_ids = self.vault.searchable_documents(case_id)
            for start in range(0, len(document_ids), REBUILD_BATCH):
                batch = document_ids[start:start + REBUILD_BATCH]
                self._write(case_id, [], batch, purge=False)
                if progress:
                    progress(len(batch))
            for status in _STATUS_DIR:  # both exist, even for a case without documents
                self._index(case_id, status)
            self._set_mark(case_id, high)
            return len(document_ids)

    def reindex(self, case: CaseInfo | None = None, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild one case's indexes, or all of them."""
        cases = [case] if case else self.vault.cases()
        return sum(self.rebuild(c.id, progress) for c in cases)

    # -- searching --------------------------------------------------------------------------------

    def search(self, user: UserInfo, text: str, *, actor: str, case: CaseInfo | None = None,
               page: int = 1, per_page: int = PER_PAGE, sort: str = Sort.RELEVANCE) -> SearchResults:
        """What ``user`` finds for ``text``: only what the policy lets them see, in the order
        ``sort`` (relevance, newest or oldest: by the day each document came in)."""
        if not 1 <= page <= MAX_PAGE:
            raise InvalidInput(f"page is a number from 1 to {MAX_PAGE}")
        order = Sort.named(sort)
        check_text(text)  # a query that breaks a rule is refused before any other work
        # one read: has the policy (grants, identities, cases) or the outbox moved since?
        epoch, high = self.vault.heads()
        targets = self.vault.visible_cases(user, epoch=epoch)
        if case is not None:
            targets = [(c, s) for c, s in targets if c.id == case.id]
            if not targets:
                raise NotFound("no such case; `casevault case list` shows the cases")
        displays = {c.id: self.vault.display(c.id, user, epoch=epoch) for c, _ in targets}
        # parse for every case before searching any: a bad query fails the same way for everyone
        parsed = {c.id: parse(text, self._vocabulary(displays[c.id].vocabulary)) for c, _ in targets}
        if not targets:  # nothing visible: answer without touching an index
            parse(text)  # but refuse a bad query the same way as for anyone else
            self._audit(user, text, actor, [], 0, [])
            return SearchResults(0, page, ())
        self._catch_up([c.id for c, _ in targets], high)
        deadline = time.monotonic() + self.time_limit
        found: list[_Found] = []
        facets: dict[str, Counter[str]] = {"kind": Counter(), "year": Counter(), "speaker": Counter()}
        highlight: dict[str, set[str]] = {}
        revealed: set[str] = set()  # identity ids whose real names the answer shows
        for case_info, statuses in targets:
            terms = highlight.setdefault(case_info.id, set(parsed[case_info.id].highlight))
            for status in statuses:
                arguments = (case_info, status, parsed[case_info.id].query, order, page * per_page, deadline,
                             facets, displays[case_info.id], terms, revealed)
                try:
                    found += self._search_index(*arguments)
                except IndexCorrupt as error:  # a file changed under a running process: rebuild, once
                    log.warning("search index of case %s is unreadable (%s); rebuilding it", case_info.id, error)
                    self.rebuild(case_info.id)
                    found += self._search_index(*arguments)
        total = sum(facets["kind"].values())
        found.sort(key=_merge_order(order))
        states = self.vault.document_states(f.document_id for f in found)
        visible = {c.id: s for c, s in targets}
        checked = [f for f in found if (state := states.get(f.document_id)) is not None and state[0] == f.case.id
                   and state[1] in visible[f.case.id] and state[2] == f.version]
        total -= len(found) - len(checked)  # a stale hit (changed since it was indexed) is not counted
        hits = []
        for f in checked[(page - 1) * per_page: page * per_page]:
            hit, shown = self._hit(f, displays[f.case.id], highlight[f.case.id])
            hits.append(hit)
            revealed |= shown
        self._audit(user, text, actor, [c.id for c, _ in targets], total, sorted(revealed))
        rendered = {name: dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) for name, counts in facets.items()}
        return SearchResults(max(total, 0), page, tuple(hits), rendered)

    def _vocabulary(self, vocabulary: tuple[tuple[str, str], ...]) -> AliasMatcher | None:
        """The matcher of a query vocabulary, built once per distinct vocabulary (it changes
        only with the identities or the grants behind it)."""
        with self._vocabularies_lock:
            if vocabulary in self._vocabularies:
                self._vocabularies.move_to_end(vocabulary)
                return self._vocabularies[vocabulary]
        matcher = vocabulary_matcher(vocabulary)
        with self._vocabularies_lock:
            self._vocabularies[vocabulary] = matcher
            while len(self._vocabularies) > VOCABULARIES_KEPT:
                self._vocabularies.popitem(last=False)
        return matcher

    def _search_index(self, case_info: CaseInfo, status: DocumentStatus, query, sort: Sort, limit: int,
                      deadline: float, facets: dict[str, Counter[str]], display: Display, terms: set[str],
                      revealed: set[str]) -> list[_Found]:
        index = self._index(case_info.id, status)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SearchTimeout()
        # one searcher serves every thread: Whoosh's matchers seek, then read, in a file they share,
        # and the storage gives each thread its own position in it (search._storage); tests hold
        # answers from many threads equal to answers given one at a time
        searcher = index.searcher()
        expanded = expand(query, searcher.reader(), terms)
        counts: dict[str, Counter[object]]
        matched = None
        if self.bulk and _bulk.supported(expanded):
            try:
                matched = _bulk.run(expanded, searcher, limit, index.segment_lengths, index.columns, deadline,
                                    day_sign=sort.day_sign)
            except _bulk.Unsupported:  # a posting list or scorer it does not read: the walk answers
                matched = None
        if matched is not None:
            counts = {name: Counter() for name in FACETS}
            for reader, docnums in matched.segments:
                for name, values in index.columns(reader).facets.items():
                    counts[name].update(map(values.__getitem__, docnums))
            stored = [(score, day, docnum, searcher.stored_fields(docnum)) for score, day, docnum in matched.top]
        else:  # the matcher walk, for what the bulk path does not answer (date ranges)
            collector = CountingCollector(limit, index.columns, sort)
            timed = TimeLimitCollector(collector, timelimit=remaining, use_alarm=False)
            try:
                searcher.search_with_collector(expanded, timed)
            except TimeLimit:
                raise SearchTimeout() from None
            stored = [(collector.relevance(hit.score), collector.day(hit.docnum), hit.docnum, hit.fields())
                      for hit in timed.results()]
            counts = collector.facets
        for name in ("kind", "year"):
            for key, count in counts[name].items():
                facets[name][str(key)] += count
        for key, count in counts["speaker"].items():
            if key:
                facets["speaker"][render(str(key), display.shown)] += count
                revealed.update(display.revealing[t] for t in TOKEN_PATTERN.findall(str(key)) if t in display.revealing)
        return [_Found(score, day, case_info, status, docnum, fields["document"], fields["version"],
                       fields["position"], fields["kind"])
                for score, day, docnum, fields in stored]

    def _masked_document(self, document_id: str, version: int) -> MaskedDocument | None:
        key = (document_id, version)
        with self._masked_lock:
            if key in self._masked:
                self._masked.move_to_end(key)
                return self._masked[key][0]
        searchable = self.vault.searchable(document_id)
        if searchable is None or searchable.version != version:
            return None
        size = sum(len(unit.text) for unit in searchable.masked.units)
        with self._masked_lock:
            if key not in self._masked:
                self._masked[key] = (searchable.masked, size)
                self._masked_chars += size
            while self._masked_chars > MASKED_CACHE_CHARS and len(self._masked) > 1:
                self._masked_chars -= self._masked.popitem(last=False)[1][1]
        return searchable.masked

    def _hit(self, found: _Found, display: Display, terms: set[str]) -> tuple[Hit, set[str]]:
        masked = self._masked_document(found.document_id, found.version)
        unit = next((u for u in masked.units if u.position == found.position), None) if masked else None
        location: dict[str, object] = {"page": found.position} if found.kind == "court_record" else {"turn": found.position}
        snippets: tuple[Snippet, ...] = ()
        revealed: set[str] = set()
        if unit is not None:
            if unit.speaker is not None:
                location |= {"speaker": render(unit.speaker, display.shown), "start_ms": unit.start_ms, "end_ms": unit.end_ms}
            snippets = self._snippets(unit.text, terms, display)
            tokens = set(TOKEN_PATTERN.findall(unit.text)) | set(TOKEN_PATTERN.findall(unit.speaker or ""))
            revealed = {display.revealing[t] for t in tokens if t in display.revealing}
        location["date"] = date.fromordinal(found.day).isoformat()  # the day it came in, as the index has it
        return Hit(found.document_id, found.kind, found.case.name, found.score, location, snippets), revealed

    def _snippets(self, text: str, terms: set[str], display: Display) -> tuple[Snippet, ...]:
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

    def _audit(self, user: UserInfo, text: str, actor: str, cases: list[str], total: int, revealed: list[str]) -> None:
        details: dict[str, object] = {"user": user.id, "query": text, "cases": cases, "total": total}
        if revealed:
            details["revealed"] = revealed
        self.vault.record(actor=actor, action="search", details=details)


_SPACE = re.compile(r"\s")


MAX_WORD = 40  # text without spaces (CJK) is cut anywhere beyond this


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
