"""Search over the vault: queries answered per the policy, over indexes that follow the outbox.

A search runs only over indexes the user may see (a user who may see nothing gets an empty
answer without the engine being called: an empty Whoosh filter would match everything), every
hit is re-checked against the database, snippets are cut from the masked text held in the vault
and rendered through the same policy as document views (``search._results``), and the search,
with every real name its answer shows, is audited before the answer is returned. The indexes and
how they follow the vault are ``search._follower``'s; running a query over one is the engine's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from redaction import TOKEN_PATTERN, AliasMatcher, render
from search import _highlight, _results
from search._engine import DEFAULT_CACHE_BYTES, IndexAnswer, IndexQuery, answer, parse
from search._follower import Follower
from search._query import Sort, check_text, vocabulary_matcher
from search._highlight import DocumentHighlights
from search._results import Found, GroupedResults, Hit, SearchResults
from search.errors import IndexCorrupt
from vault import CaseInfo, Display, DocumentStatus, DocumentView, MaskedDocument, UserInfo, Vault
from vault.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

PER_PAGE = 10
MAX_PAGE = 100
HITS_LISTED = 3  # hits of one document listed under it on a page of documents
MAX_GROUPED_HITS = MAX_PAGE * PER_PAGE * HITS_LISTED  # hits read at most to fill a page of documents
TIME_LIMIT_SECONDS = 5.0
MASKED_CACHE_CHARS = 64 * 1024 * 1024  # masked text kept for snippets, in characters
VOCABULARIES_KEPT = 256  # query vocabulary matchers kept (one per case and kind of viewer, mostly)


@dataclass(frozen=True, slots=True)
class _Run:
    """A query run over the indexes a user may see: its checked hits, before any page is cut."""

    case_ids: list[str]
    displays: dict[str, Display]
    checked: list[Found]
    total: int
    facets: dict[str, dict[str, int]]
    revealed: frozenset[str]
    highlight: dict[str, frozenset[str]]


class Search:
    """The searches over a vault's indexes (``follower``: the indexes, kept in step with it)."""

    def __init__(self, vault: Vault, root: Path, *, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 time_limit: float = TIME_LIMIT_SECONDS) -> None:
        self.vault = vault
        self.root = root
        self.time_limit = time_limit
        self.bulk = True  # answer from whole posting lists where the query allows (the engine's _bulk)
        self.follower = Follower(vault, root, cache_bytes=cache_bytes)
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
        search.catch_up(progress)
        return search

    def close(self) -> None:
        self.follower.close()
        with self._masked_lock:
            self._masked.clear()
            self._masked_chars = 0
        with self._vocabularies_lock:
            self._vocabularies.clear()

    def __enter__(self) -> Search:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- following the vault (the follower's) -----------------------------------------------------

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Apply every change the vault has written for the indexes, now, in this thread; returns
        the number of documents (re)indexed. What a writer calls after its write (the app before
        it answers one, the command line after ingest, decide or release), so the next search
        neither misses the change nor has to apply it first."""
        return self.follower.catch_up(progress)

    def rebuild(self, case_id: str, progress: Callable[[int], None] | None = None) -> int:
        """Build a case's indexes again from the vault; returns the number of documents."""
        return self.follower.rebuild(case_id, progress)

    def housekeeping(self) -> tuple[int, int]:
        """Record how far these indexes have applied the outbox, and prune the rows every node's
        indexes have passed; returns (position, rows pruned). The app's follower thread does it
        every few minutes; ``casevault housekeeping`` on demand."""
        return self.follower.housekeeping()

    def reindex(self, case: CaseInfo | None = None, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild one case's indexes, or all of them."""
        cases = [case] if case else self.vault.cases()
        return sum(self.rebuild(c.id, progress) for c in cases)

    @property
    def _marks(self) -> dict[str, int]:
        return self.follower.marks  # a web test reads them: a write is indexed before its answer

    # -- searching --------------------------------------------------------------------------------

    def search(self, user: UserInfo, text: str, *, actor: str, case: CaseInfo | None = None,
               page: int = 1, per_page: int = PER_PAGE, sort: str = Sort.RELEVANCE) -> SearchResults:
        """What ``user`` finds for ``text``: only what the policy lets them see, in the order
        ``sort`` (relevance, newest or oldest: by the day each document came in)."""
        if not 1 <= page <= MAX_PAGE:
            raise InvalidInput(f"page is a number from 1 to {MAX_PAGE}")
        run = self._run(user, text, case=case, limit=page * per_page, order=Sort.named(sort))
        if run is None:  # nothing visible: answered without touching an index
            self._audit(user, text, actor, [], 0, [])
            return SearchResults(0, page, ())
        revealed = set(run.revealed)
        hits = self._hits(run, run.checked[(page - 1) * per_page: page * per_page], revealed)
        self._audit(user, text, actor, run.case_ids, run.total, sorted(revealed))
        return SearchResults(max(run.total, 0), page, tuple(hits), run.facets)

    def grouped(self, user: UserInfo, text: str, *, actor: str, case: CaseInfo | None = None, page: int = 1,
                per_page: int = PER_PAGE, sort: str = Sort.RELEVANCE) -> GroupedResults:
        """``search``, a page of documents at a time: each document found once, in the order of its
        best hit, with its masked title and up to ``HITS_LISTED`` of its hits. Hits are read until
        the page is full of documents or every hit is read (at most ``MAX_GROUPED_HITS``)."""
        if not 1 <= page <= MAX_PAGE:
            raise InvalidInput(f"page is a number from 1 to {MAX_PAGE}")
        order = Sort.named(sort)
        limit = page * per_page * HITS_LISTED
        while True:
            run = self._run(user, text, case=case, limit=limit, order=order)
            if run is None:
                self._audit(user, text, actor, [], 0, [])
                return GroupedResults(0, 0, True, page, per_page, ())
            groups = _results.by_document(run.checked)
            complete = len(run.checked) >= run.total
            if complete or len(groups) > page * per_page or limit >= MAX_GROUPED_HITS:
                break
            limit = min(limit * 4, MAX_GROUPED_HITS)
        revealed = set(run.revealed)
        shown = list(groups.items())[(page - 1) * per_page: page * per_page]
        masked = {d: self._masked_document(d, found[0].hit.version) for d, found in shown}
        titles = self.vault.feed.masked_titles((d, m) for d, m in masked.items() if m is not None)
        entries = []
        for document_id, found in shown:
            display = run.displays[found[0].case.id]
            title = titles.get(document_id, "")
            revealed.update(display.revealed_in(TOKEN_PATTERN.findall(title)))
            hits = self._hits(run, found[:HITS_LISTED], revealed)
            entries.append(_results.document_hits(hits, len(found) - len(hits), render(title, display.shown)))
        self._audit(user, text, actor, run.case_ids, run.total, sorted(revealed))
        return GroupedResults(max(run.total, 0), len(groups), complete, page, per_page, tuple(entries), run.facets)

    def _hits(self, run: _Run, found: list[Found], revealed: set[str]) -> list[Hit]:
        """The hits of ``found`` as the user sees them; the identities they show join ``revealed``."""
        hits = []
        for f in found:
            hit, shown = _results.hit(f, self._masked_document(f.hit.document_id, f.hit.version),
                                      run.displays[f.case.id], run.highlight[f.case.id])
            hits.append(hit)
            revealed |= shown
        return hits

    def documents(self, user: UserInfo, text: str, *, actor: str, case: CaseInfo | None = None,
                  limit: int = MAX_PAGE * PER_PAGE) -> list[str]:
        """The documents ``user`` finds for ``text`` (at most ``limit`` hits' worth, most relevant
        first, each once), without snippets: what a saved search counts its new hits by. Audited
        as a search, like any other."""
        run = self._run(user, text, case=case, limit=limit, order=Sort.named(Sort.RELEVANCE))
        if run is None:
            self._audit(user, text, actor, [], 0, [])
            return []
        self._audit(user, text, actor, run.case_ids, run.total, sorted(run.revealed))
        return list(dict.fromkeys(f.hit.document_id for f in run.checked[:limit]))

    def highlights(self, user: UserInfo, text: str, view: DocumentView, case: CaseInfo) -> DocumentHighlights:
        """Where the words of ``text`` stand in ``view`` (a document of ``case`` that ``user`` was
        just shown), as the search's snippets highlight them (``search._highlight``). The query is
        parsed and expanded as it was for the search, through ``user``'s own vocabulary. Not
        audited again: it answers no hit, and the search it belongs to was audited when it ran."""
        run = self._run(user, text, case=case, limit=1, order=Sort.named(Sort.RELEVANCE))
        terms = run.highlight.get(case.id, frozenset()) if run is not None else frozenset()
        return _highlight.highlights(view, self.vault.masked(view.id), terms)

    def _run(self, user: UserInfo, text: str, *, case: CaseInfo | None, limit: int, order: Sort) -> _Run | None:
        """The checked hits of ``text`` over what ``user`` may see, up to ``limit``; None when
        they may see nothing (the query refused all the same if it breaks a rule)."""
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
        if not targets:
            parse(text)  # refuse a bad query the same way as for anyone else
            return None
        self.follower.before_search([c.id for c, _ in targets], high)
        deadline = time.monotonic() + self.time_limit
        answers: list[tuple[CaseInfo, DocumentStatus, IndexAnswer]] = []
        for case_info, statuses in targets:
            request = IndexQuery(parsed[case_info.id], limit=limit, day_sign=order.day_sign,
                                 deadline=deadline, bulk=self.bulk)
            answers += [(case_info, status, self._answer(case_info, status, request)) for status in statuses]
        rendered, revealed = _results.facets((a, displays[c.id]) for c, _, a in answers)
        found = sorted((Found(hit, c, s) for c, s, a in answers for hit in a.hits), key=_results.merge_order(order.day_sign))
        # a stale hit (changed since it was indexed) is neither shown nor counted
        states = self.vault.feed.document_states(f.hit.document_id for f in found)
        visible = {c.id: s for c, s in targets}
        checked = [f for f in found if (state := states.get(f.hit.document_id)) is not None
                   and state[0] == f.case.id and state[1] in visible[f.case.id] and state[2] == f.hit.version]
        total = sum(a.total for _, _, a in answers) - (len(found) - len(checked))
        highlight: dict[str, frozenset[str]] = {}
        for case_info, _, index_answer in answers:  # the words of a case's query, as each of its indexes expanded them
            highlight[case_info.id] = highlight.get(case_info.id, frozenset()) | index_answer.highlight
        return _Run([c.id for c, _ in targets], displays, checked, total, rendered, frozenset(revealed), highlight)

    def _answer(self, case_info: CaseInfo, status: DocumentStatus, request: IndexQuery) -> IndexAnswer:
        try:
            return answer(self.follower.index(case_info.id, status), request)
        except IndexCorrupt as error:  # a file changed under a running process: rebuild, once
            log.warning("search index of case %s is unreadable (%s); rebuilding it", case_info.id, error)
            self.rebuild(case_info.id)
            return answer(self.follower.index(case_info.id, status), request)

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

    def _masked_document(self, document_id: str, version: int) -> MaskedDocument | None:
        key = (document_id, version)
        with self._masked_lock:
            if key in self._masked:
                self._masked.move_to_end(key)
                return self._masked[key][0]
        searchable = self.vault.feed.searchable(document_id)
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

    def _audit(self, user: UserInfo, text: str, actor: str, cases: list[str], total: int, revealed: list[str]) -> None:
        details: dict[str, object] = {"user": user.id, "query": text, "cases": cases, "total": total}
        if revealed:
            details["revealed"] = revealed
        self.vault.record(actor=actor, action="search", details=details)
