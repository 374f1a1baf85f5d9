"""Whoosh storage that keeps every file encrypted at rest, each bound to its index and its name.

The index holds the masked text of every released document, so its files must be as opaque as the
vault's blobs (DESIGN.md, rule 2). Whoosh writes each file once and never changes it afterwards,
which makes a whole-file AEAD both simple and cheap:

* ``create_file`` hands Whoosh a buffer in memory. Closing that buffer, however it is closed,
  encrypts it under the index key, with associated data naming the index and the file, and puts it
  on disk atomically (temporary name, fsync, ``os.replace``, fsync of the directory). The hook is
  on the raw buffer, not on ``StructFile.onclose``: ``PostingPool`` closes the raw file directly.
* ``open_file`` decrypts the whole file into memory. A file renamed, swapped, truncated or made
  under another key fails authentication and raises ``IndexCorrupt``; nothing of it reaches
  Whoosh, which matters because the TOC holds pickles. Decrypted files are kept in a bounded LRU
  cache, checked against the file's inode, size and mtime, so a warm searcher decrypts nothing.
  ``close()`` keeps the cache: Whoosh closes the shared storage whenever a segment reader closes.
* Each thread reads an opened file from its own position. A segment reader opens its postings
  file once, every matcher shares it, and a posting block is read by a seek, then reads; two
  threads searching one searcher read each other's places (UnpicklingError "invalid load key",
  zlib errors, or silently other hits).
* ``rename_file`` re-encrypts under the new name (Whoosh writes the TOC under a temporary name).
* ``temp_storage`` is encrypted too. Whoosh spills posting runs (of a merge) and column buffers
  there; ``RamStorage`` would spill to the system temporary directory.
* The storage refuses to be pickled, so the key never crosses a pipe: the processes that write a
  large batch (``_writer``) are forked and inherit it; under ``spawn`` or ``forkserver``
  they would fail loudly.
* Whoosh never fsyncs and a killed commit leaves orphans; ``sweep_orphans`` removes them.

Open and create indexes through ``storage.create_index(schema)`` and ``storage.open_index()``:
``whoosh.index.create_in`` and ``open_dir`` build a plain ``FileStorage``. ``BufferedWriter``
must not be used either: its in-memory index spills through ``RamStorage`` into the system
temporary directory. One file is at most 2 GiB (AES-GCM in ``cryptography``); a commit that
would write a larger segment fails and leaves the index at its last commit.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import NoReturn, Self

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.index import _DEF_INDEX_NAME, TOC

from keys import Context, IntegrityFailed, SecretKey
from search.errors import IndexCorrupt, IndexLocked

DEFAULT_CACHE_BYTES = 256 * 1024 * 1024
_PARTIAL = ".partial"  # a file being written; the leading dot also hides it from Whoosh's cleanup

# (inode, size, mtime): a file rewritten under the same name, e.g. by a rebuild in another
# process, no longer matches what was cached
_Signature = tuple[int, int, int]


def _signature(stat: os.stat_result) -> _Signature:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _SealOnClose(io.BytesIO):
    """A file being written: its content is handed to ``seal`` when it is closed, however."""

    def __init__(self, seal: Callable[[bytes], None]) -> None:
        super().__init__()
        self._seal = seal

    def close(self) -> None:
        if not self.closed:
            try:
                self._seal(self.getvalue())
            finally:
                super().close()

    def __del__(self) -> None:
        # A file dropped unclosed (a writer abandoned without commit or cancel) is discarded, not
        # written from the garbage collector; io's finaliser would otherwise call close().
        pass


class _PlaintextCache:
    """Decrypted files, least recently used first, within a budget in bytes. Thread-safe."""

    def __init__(self, budget: int) -> None:
        if budget < 0:
            raise ValueError("a cache budget is zero or more bytes")
        self.budget = budget
        self.size = 0
        self._entries: OrderedDict[str, tuple[_Signature, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _guard(self) -> threading.Lock:
        # A forked writer must not inherit a lock that another thread held at the fork.
        if self._pid != os.getpid():
            self._pid, self._lock = os.getpid(), threading.Lock()
            self._entries.clear()
            self.size = 0
        return self._lock

    def get(self, name: str, path: str) -> bytes | None:
        with self._guard():
            entry = self._entries.get(name)
            if entry is None:
                return None
            if entry[0] != _signature(os.stat(path)):
                self._pop(name)
                return None
            self._entries.move_to_end(name)
            return entry[1]

    def put(self, name: str, signature: _Signature, plaintext: bytes) -> None:
        with self._guard():
            self._pop(name)
            if len(plaintext) > self.budget:
                return
            self._entries[name] = (signature, plaintext)
            self.size += len(plaintext)
            while self.size > self.budget:
                _, (_, evicted) = self._entries.popitem(last=False)
                self.size -= len(evicted)

    def discard(self, name: str) -> None:
        with self._guard():
            self._pop(name)

    def _pop(self, name: str) -> None:
        entry = self._entries.pop(name, None)
        if entry is not None:
            self.size -= len(entry[1])


class _PlaintextFile(BufferFile):
    """A decrypted file, read by each thread from its own position (module docstring)."""

    def __init__(self, buf: bytes, name: str | None = None, onclose: Callable[..., None] | None = None) -> None:
        # BufferFile.__init__ with the position per thread: ``file`` is the thread's own view
        self._buf = buf
        self._name = name
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False
        self._positions = threading.local()

    @property
    def file(self) -> io.BytesIO:  # type: ignore[override]
        try:
            return self._positions.file
        except AttributeError:
            # BytesIO shares the bytes it starts with until written to: no copy per thread
            self._positions.file = view = io.BytesIO(self._buf)
            return view

    def subset(self, position: int, length: int, name: str | None = None) -> _PlaintextFile:
        # a compound segment's postings file is a subset of the segment's file
        return _PlaintextFile(self.get(position, length), name=name or self._name)


class EncryptedStorage(FileStorage):
    """A Whoosh ``FileStorage`` whose files are AES-256-GCM ciphertexts, each of a whole file.

    ``index_id`` names the index in every file's associated data, so a file copied from another
    index fails like a tampered one. ``cache_bytes`` bounds the decrypted files kept in memory.
    """

    _purpose = "search/index-file"
    _durable = True  # fsync each file and the directory: the index must survive a power cut

    def __init__(self, path: str | os.PathLike[str], key: SecretKey, index_id: str, *,
                 cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if not index_id:
            raise ValueError("an encrypted index needs an id")
        super().__init__(os.fspath(path), supports_mmap=False)  # plaintext lives in memory only
        self._key = key
        self._index_id = index_id
        self._cache = _PlaintextCache(cache_bytes)
        # Every token has the same overhead; Whoosh asks for plaintext lengths before opening.
        self._overhead = len(key.encrypt(b"", self._context("")))

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "an EncryptedStorage holds the index key and is never pickled: write with one process, "
            "or with several only under the 'fork' start method"
        )

    @property
    def cached_bytes(self) -> int:
        """How many decrypted bytes the cache holds now (never more than ``cache_bytes``)."""
        return self._cache.size

    def create(self) -> Self:
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        return self

    def create_file(self, name: str, **kwargs: object) -> StructFile:
        # kwargs (excl, mode) concern real files; a buffer is always new and readable
        return StructFile(_SealOnClose(lambda plaintext: self._seal(name, plaintext)), name=name)

    def open_file(self, name: str, **kwargs: object) -> BufferFile:
        return _PlaintextFile(self._plaintext(name), name=name)

    def file_length(self, name: str) -> int:
        return max(os.path.getsize(self._fpath(name)) - self._overhead, 0)

    def delete_file(self, name: str) -> None:
        self._cache.discard(name)
        super().delete_file(name)

    def rename_file(self, oldname: str, newname: str, safe: bool = False) -> None:
        if safe and self.file_exists(newname):
            raise NameError(f"File {newname!r} exists")  # what FileStorage raises
        self._seal(newname, self._plaintext(oldname))
        self.delete_file(oldname)

    def temp_storage(self, name: str | None = None) -> EncryptedStorage:
        path = os.path.join(self.folder, name or f"{secrets.token_hex(14)}.tmp")
        return _ScratchStorage(path, self._key, self._index_id, cache_bytes=0).create()

    def sweep_orphans(self, indexname: str = _DEF_INDEX_NAME) -> list[str]:
        """Remove what interrupted writers left behind and return the names removed.

        Whoosh deletes unreferenced segments and old TOCs at every commit, but a writer killed
        mid-commit leaves segment files, a TOC under its temporary name, half-written files of
        this storage and the scratch directory until the next commit, or forever. Everything not
        referenced by the latest TOC goes; lock files and files of other indexes stay. Takes the
        index's write lock, and raises ``IndexLocked`` if a writer holds it.
        """
        lock = self.lock(f"{indexname}_WRITELOCK")
        if not lock.acquire():
            raise IndexLocked("a writer is using the search index; sweep again when it has finished")
        try:
            orphans = self._orphans(indexname)
            for name in orphans:
                path = self._fpath(name)
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    self.delete_file(name)
            return orphans
        finally:
            lock.release()

    def _orphans(self, indexname: str) -> list[str]:
        # Whoosh-Reloaded is frozen, so its private TOC naming is a stable contract.
        generation = TOC._latest_generation(self, indexname)
        live: set[str] = set()
        segments: tuple[str, ...] = ()
        if generation >= 0:
            live.add(TOC._filename(indexname, generation))
            segments = tuple(f"{s.segment_id()}." for s in TOC.read(self, indexname, generation).segments)
        segment_file = TOC._segment_pattern(indexname)
        orphans = []
        ours = (f"._{indexname}_", f".{indexname}_")  # half-written files of this index
        for name in sorted(os.listdir(self.folder)):
            if (name == f"{indexname}.tmp" or (name.startswith(ours) and name.endswith(_PARTIAL))
                    or (name.startswith(f"_{indexname}_") and name not in live)  # old or temporary TOC
                    or (segment_file.match(name) and not name.startswith(segments))):
                orphans.append(name)
        return orphans

    def _context(self, name: str) -> Context:
        # Context's fields are labels inside the associated data: here the index and the file.
        return Context(self._purpose, case_id=self._index_id, document_id=name)

    def _plaintext(self, name: str) -> bytes:
        path = self._fpath(name)
        cached = self._cache.get(name, path)
        if cached is not None:
            return cached
        with open(path, "rb") as source:
            signature = _signature(os.fstat(source.fileno()))
            token = source.read()
        try:
            plaintext = self._key.decrypt(token, self._context(name))
        except IntegrityFailed:
            raise IndexCorrupt(name) from None
        self._cache.put(name, signature, plaintext)
        return plaintext

    def _seal(self, name: str, plaintext: bytes) -> None:
        token = self._key.encrypt(plaintext, self._context(name))
        partial = os.path.join(self.folder, f".{name}.{secrets.token_hex(8)}{_PARTIAL}")
        try:
            with open(partial, "xb", opener=lambda path, flags: os.open(path, flags, 0o600)) as out:
                out.write(token)
                out.flush()
                if self._durable:
                    os.fsync(out.fileno())
                signature = _signature(os.fstat(out.fileno()))
            os.replace(partial, self._fpath(name))
        except BaseException:
            try:
                os.remove(partial)
            except OSError:
                pass  # a failure to clean up must not hide the first error
            raise
        if self._durable:
            _fsync_dir(self.folder)
        self._cache.put(name, signature, plaintext)


class _ScratchStorage(EncryptedStorage):
    """Posting runs, column buffers and job lists of one writer: read once, then deleted.

    Nothing here needs to survive a crash (``sweep_orphans`` removes it), and its own purpose in
    the associated data keeps a scratch file from passing for an index file.
    """

    _purpose = "search/scratch-file"
    _durable = False
