"""The indexes of a vault, kept in step with its outbox.

The database is the authority. Every change to a document's searchable form leaves an outbox row
in the same transaction; ``catch_up`` applies the rows after each index's mark, commits the
index, then moves the mark, so a crash anywhere replays (idempotently) instead of losing a
change. An index that is missing or unreadable is rebuilt from the vault.

Who applies the rows: whoever wrote them, right after the write (an app before it answers the
write, the command line after its command: ``catch_up``); a search, for the cases it reads,
before it runs (``before_search``); and a background thread (``start``, ``stop``), which picks
up what other processes wrote: a command-line ingest, another app node on the same database.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from search._engine import CaseIndex, replace_documents
from search.errors import IndexCorrupt
from vault import DocumentStatus, IndexChange, Vault

log = logging.getLogger(__name__)

REBUILD_BATCH = 1000  # documents per commit while rebuilding
INDEX_PROCS = 2  # processes that index a large batch (the machine has two cores)
POLL_SECONDS = 1.0  # how often the background thread looks at the outbox
_CASE_DIR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HOUSEKEEPING_SECONDS = 300.0  # how often it records its position and prunes the outbox
NODE_FILE = "node.id"  # this node's name for its indexes' position in the database
_STATUS_DIR = {DocumentStatus.RELEASED: "released", DocumentStatus.IN_REVIEW: "review"}

Progress = Callable[[int], None] | None


class Follower:
    """The indexes under ``root`` (a directory per case, an index per document status), and the
    outbox mark each case's indexes have reached."""

    def __init__(self, vault: Vault, root: Path, *, cache_bytes: int) -> None:
        self.vault = vault
        self.root = root
        self.lock = threading.RLock()  # held while the indexes are written
        self._cache_bytes = cache_bytes
        self._indexes: dict[tuple[str, DocumentStatus], CaseIndex] = {}
        self.marks: dict[str, int] = {}  # case id -> the last outbox id its indexes hold
        self._reconciled = False
        self._seen = -1  # the newest outbox id when the last catch_up ended
        self._horizon = 0  # the highest outbox id pruned, as last read
        self._housekept = 0.0  # when the background thread last did housekeeping (monotonic)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def index(self, case_id: str, status: DocumentStatus) -> CaseIndex:
        """The index of one case's documents of one status, opened (or created) once."""
        key = (case_id, status)
        if key not in self._indexes:
            name = _STATUS_DIR[status]
            self._indexes[key] = CaseIndex(self._case_dir(case_id) / name, self.vault.feed.index_key(case_id),
                                           f"{case_id}/{name}", cache_bytes=self._cache_bytes)
        return self._indexes[key]

    def indexes(self) -> Iterator[CaseIndex]:
        """Every index open now."""
        return iter(list(self._indexes.values()))

    # -- applying the outbox ---------------------------------------------------------------------

    def catch_up(self, progress: Progress = None, *, high: int | None = None) -> int:
        """Apply every pending change now, in this thread; returns the number of documents (re)indexed.
        Cheap when nothing changed: one query for the newest outbox id (none when the caller
        read it already: ``high``). The first call also reconciles every case (opens its indexes,
        sweeping orphans, and rebuilds those missing or unreadable)."""
        with self.lock:
            if high is None:
                high = self.vault.feed.latest_index_change()
            done = 0
            if not self._reconciled:  # at open: every case, including those with no change pending
                self._horizon = self.vault.outbox_horizon()
                cases = self.vault.cases()
                self._sweep_destroyed({c.id for c in cases})
                for case_info in cases:
                    done += self._reconcile(case_info.id, progress)
                self._reconciled = True
            start = min(self.marks.values(), default=high)
            while start < high:
                changes = self.vault.feed.index_changes(start, limit=500)
                # read after the changes: a pruning that went past a mark before they were read
                # shows here, and those cases rebuild rather than silently miss the pruned rows
                self._horizon = self.vault.outbox_horizon()
                behind = [case_id for case_id, mark in self.marks.items() if mark < self._horizon]
                if behind:
                    for case_id in behind:
                        log.warning("search index of case %s is behind the pruned outbox; rebuilding it", case_id)
                        done += self.rebuild(case_id, progress)
                    start = min(self.marks.values(), default=high)
                    continue
                if not changes:
                    break
                live = self.vault.feed.existing_cases({c.case_id for c in changes})
                for gone in {c.case_id for c in changes} - live:
                    self._drop_case(gone)  # a destroyed case: its index goes with it
                by_case: dict[str, list[IndexChange]] = {}
                for change in (c for c in changes if c.case_id in live):
                    if change.case_id not in self.marks:  # a case new since the indexes opened
                        done += self._reconcile(change.case_id, progress)
                    if change.id > self.marks[change.case_id]:
                        by_case.setdefault(change.case_id, []).append(change)
                for case_id, case_changes in by_case.items():
                    done += self._apply(case_id, case_changes)
                    if progress:
                        progress(len(case_changes))
                start = changes[-1].id
            self._seen = high
            return done

    def before_search(self, case_ids: list[str], high: int) -> None:
        """Before a search: bring its cases' indexes up to outbox id ``high``, without queueing
        behind another thread's write. When the write lock is free the search applies what is
        pending itself. When another thread holds it (an upload's answer waits on its own
        indexing, see web), the search does not wait for additions: it answers from the last
        commit, as if it had come a moment earlier. It waits only when a pending change could
        leave terms in the index that are gone from the documents (a re-masking's purge, or rows
        pruned from the outbox past its mark, which may have been one), or when a case has no
        open index yet: those are never served stale."""
        marks = [self.marks.get(case_id, -1) for case_id in case_ids]
        if min(marks, default=high) >= high:
            return
        if self.lock.acquire(blocking=False):
            try:
                self.catch_up(high=high)
            finally:
                self.lock.release()
        elif (min(marks) < 0 or self.vault.feed.purge_pending(case_ids, min(marks))
              or min(marks) < self.vault.outbox_horizon()):  # a purge may be among the rows pruned
            self.catch_up(high=high)

    def rebuild(self, case_id: str, progress: Progress = None) -> int:
        """Build a case's indexes again from the vault; returns the number of documents."""
        with self.lock:
            high = self.vault.feed.latest_index_change()  # changes from here on are replayed after
            self._drop_case(case_id)
            document_ids = self.vault.feed.searchable_documents(case_id)
            for start in range(0, len(document_ids), REBUILD_BATCH):
                batch = document_ids[start:start + REBUILD_BATCH]
                self._write(case_id, [], batch, purge=False)
                if progress:
                    progress(len(batch))
            for status in _STATUS_DIR:  # both exist, even for a case without documents
                self.index(case_id, status)
            self._set_mark(case_id, high)
            return len(document_ids)

    def _case_dir(self, case_id: str) -> Path:
        return self.root / case_id

    def _open_case(self, case_id: str) -> int:
        """Open a case's indexes (sweeping orphans) and return its mark; -1 when it must be rebuilt."""
        if case_id in self.marks:
            return self.marks[case_id]
        if not (self._case_dir(case_id) / _STATUS_DIR[DocumentStatus.RELEASED]).exists():
            return -1
        try:
            for status in _STATUS_DIR:
                self.index(case_id, status).check()
            mark = self.index(case_id, DocumentStatus.RELEASED).mark()
        except (IndexCorrupt, OSError, ValueError) as error:
            log.warning("search index of case %s is unreadable (%s); rebuilding it", case_id, error)
            self._drop_case(case_id)
            return -1
        if mark < self._horizon:  # the outbox rows it has not applied may be pruned
            log.warning("search index of case %s is behind the pruned outbox; rebuilding it", case_id)
            self._drop_case(case_id)
            return -1
        self.marks[case_id] = mark
        return mark

    def _drop_case(self, case_id: str) -> None:
        for status in _STATUS_DIR:
            index = self._indexes.pop((case_id, status), None)
            if index is not None:
                index.close()
        self.marks.pop(case_id, None)
        if _CASE_DIR.fullmatch(case_id):  # ids come from the database; a path never from elsewhere
            shutil.rmtree(self._case_dir(case_id), ignore_errors=True)

    def _sweep_destroyed(self, cases: set[str]) -> None:
        """Remove the index directory of every case that no longer exists: one destroyed while
        this node was down, or whose follower stopped before it dropped the index."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.is_dir() and _CASE_DIR.fullmatch(path.name) and path.name not in cases:
                log.info("removing the search index of a destroyed case")
                self._drop_case(path.name)

    def _reconcile(self, case_id: str, progress: Progress) -> int:
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
        the index of its status."""
        indexes = {status: self.index(case_id, status) for status in _STATUS_DIR}
        replace_documents(indexes, remove, self.vault.feed.searchables(document_ids), purge=purge, procs=INDEX_PROCS)

    def _set_mark(self, case_id: str, value: int) -> None:
        self.index(case_id, DocumentStatus.RELEASED).set_mark(value)
        self.marks[case_id] = value

    # -- housekeeping ------------------------------------------------------------------------------

    @property
    def node(self) -> str:
        """This set of indexes' name in the database: made once, kept in the index directory."""
        path = self.root / NODE_FILE
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            self.root.mkdir(parents=True, exist_ok=True)
            node = str(uuid.uuid4())
            try:
                with path.open("x") as out:
                    out.write(node)
            except FileExistsError:  # another process of this node made it first
                return path.read_text().strip()
            return node

    def record_position(self) -> int | None:
        """Tell the database how far these indexes have applied the outbox, after catching up:
        every case holds every change up to that id (a case with no change since its mark has
        its mark moved up to it first, so a restart does not need the rows it skipped). None
        before the first catch-up."""
        with self.lock:
            self.catch_up()
            position = self._seen
            for case_id, mark in list(self.marks.items()):
                if mark < position:
                    self._set_mark(case_id, position)
            self.vault.record_index_position(self.node, position)
            return position

    def housekeeping(self) -> tuple[int, int]:
        """Record this node's position, then prune the outbox rows every node has passed;
        returns (position, rows pruned)."""
        position = self.record_position()
        return position or 0, self.vault.prune_outbox()

    # -- the background thread -------------------------------------------------------------------

    def start(self, interval: float = POLL_SECONDS) -> None:
        """Follow the outbox in a background thread, looking every ``interval`` seconds, until
        ``stop``. Starting a follower that runs already does nothing."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._housekept = time.monotonic()  # the first housekeeping once the app has settled
        self._thread = threading.Thread(target=self._follow, args=(interval,), name="search-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread, after the change it may be applying."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _follow(self, interval: float) -> None:
        while not self._stopping.wait(interval):
            try:
                high = self.vault.feed.latest_index_change()
                # the write lock only when the outbox moved: a search running meanwhile applies
                # what its cases need itself, unless this thread holds the lock
                if high != self._seen:
                    self.catch_up(high=high)
                if time.monotonic() - self._housekept > HOUSEKEEPING_SECONDS:
                    self._housekept = time.monotonic()
                    self.housekeeping()
            except Exception as error:  # noqa: BLE001 - the next look tries again; the type only: no text
                log.warning("search indexes could not follow the outbox (%s); trying again", type(error).__name__)

    def close(self) -> None:
        self.stop()
        with self.lock:
            for index in self._indexes.values():
                index.close()
            self._indexes.clear()
