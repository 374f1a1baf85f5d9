"""The backup archive: one tar file, its manifest first, then the database tables, then the blobs.

The manifest names the format, the release and the schema that wrote it, the backend, the time,
counts, and the size and SHA-256 of every member, and carries an HMAC of itself under a key of
the vault (so only someone with the passphrase can alter an archive consistently; the SHA-256s
alone catch a flipped byte). The member hashes are computed while the members are streamed into
the tar: the manifest is written first with zeroed hashes of the same length and rewritten in
place at the end, so every member is read once. The archive is written to a temporary name beside
its final name, fsynced, then renamed: there is never a half-written archive under that name.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import re
import secrets
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from packaging.version import InvalidVersion, Version

from keys import SecretKey, keyed_digest
from vault import _schema as schema
from vault._blobs import fsync_dir
from vault.errors import BackupFailed, BackupTooNew, BackupUnreadable

FORMAT = "casevault-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_ZERO_HASH = "0" * 64
_MEMBER_NAME = re.compile(r"database/[a-z_]{1,60}\.jsonl|blobs/[0-9a-f]{2}/[0-9a-f]{32}")
_MAC_PURPOSE = "backup-manifest"
_CHUNK = 1 << 20


def schema_revision() -> str:
    """The schema this code writes and reads: the head of the Alembic migrations."""
    return "+".join(sorted(schema.heads()))


def known_schema_revisions() -> frozenset[str]:
    """Every schema a backup may name that this release can rebuild (by its migrations)."""
    return frozenset(script.revision for script in schema.scripts().walk_revisions())


def release() -> str:
    return importlib.metadata.version("casevault")


def blob_member(storage_name: str) -> str:
    return f"blobs/{storage_name[:2]}/{storage_name}"


def table_member(table: str) -> str:
    return f"database/{table}.jsonl"


@dataclass
class Manifest:
    backend: str
    created_at: str
    counts: dict[str, object]
    members: list[dict[str, object]] = field(default_factory=list)  # name, size, sha256 in archive order
    release: str = field(default_factory=release)
    schema: str = field(default_factory=schema_revision)
    format_version: int = FORMAT_VERSION
    mac: str = _ZERO_HASH

    def body(self) -> dict[str, object]:
        return {"format": FORMAT, "format_version": self.format_version, "release": self.release,
                "schema": self.schema, "backend": self.backend, "created_at": self.created_at,
                "counts": self.counts, "members": self.members}

    def to_bytes(self) -> bytes:
        return json.dumps(self.body() | {"mac": self.mac}, sort_keys=True, indent=1).encode()

    def seal(self, key: SecretKey) -> None:
        self.mac = keyed_digest(key, _MAC_PURPOSE, json.dumps(self.body(), sort_keys=True).encode()).hex()

    def check_seal(self, key: SecretKey) -> None:
        expected = keyed_digest(key, _MAC_PURPOSE, json.dumps(self.body(), sort_keys=True).encode()).hex()
        if not secrets.compare_digest(expected, self.mac):
            raise BackupUnreadable("the backup's manifest was altered (its MAC does not match); "
                                   "nothing was restored: use another copy of the backup")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                raise ValueError
            manifest = cls(backend=str(raw["backend"]), created_at=str(raw["created_at"]), counts=dict(raw["counts"]),
                           members=[dict(m) for m in raw["members"]], release=str(raw["release"]),
                           schema=str(raw["schema"]), format_version=int(raw["format_version"]), mac=str(raw["mac"]))
            for member in manifest.members:
                if not (isinstance(member.get("name"), str) and _MEMBER_NAME.fullmatch(member["name"])
                        and isinstance(member.get("size"), int) and isinstance(member.get("sha256"), str)):
                    raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BackupUnreadable("this file is not a casevault backup (its manifest cannot be read)") from None
        return manifest

    def check_known(self) -> None:
        """BackupTooNew unless this release can read what wrote the archive."""
        try:
            newer = Version(self.release) > Version(release())
        except InvalidVersion:
            newer = True
        if newer or self.format_version > FORMAT_VERSION or self.schema not in known_schema_revisions():
            raise BackupTooNew(f"this backup was written by casevault {self.release} (schema {self.schema}), "
                               f"newer than this release ({release()}); restore it with that release or a later one")

    @property
    def digest(self) -> str:
        """Names this archive (the resume marker of a restore records it)."""
        return hashlib.sha256(self.to_bytes()).hexdigest()


class Quiet:
    """Progress that nobody watches (of a backup or a restore)."""

    def snapshot_taken(self, rows: dict[str, int]) -> None:
        pass

    def blobs_replaced(self, count: int) -> None:
        pass

    def begin(self, total_bytes: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass


class _Hashing(io.RawIOBase):
    """Reads a file once, hashing it and reporting progress on the way into the tar."""

    def __init__(self, source: BinaryIO, advance: Callable[[int], None]) -> None:
        self.source, self.advance, self.sha = source, advance, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self.source.read(len(buffer))
        buffer[:len(data)] = data
        self.sha.update(data)
        self.advance(len(data))
        return len(data)


def write_archive(target: Path, manifest: Manifest, files: list[tuple[str, Path]], key: SecretKey,
                  advance: Callable[[int], None]) -> None:
    """Write ``files`` (member name, file on disk; none of them changes while this runs) under
    ``manifest`` into ``target``, atomically."""
    manifest.members = [{"name": name, "size": path.stat().st_size, "sha256": _ZERO_HASH} for name, path in files]
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        with temp.open("xb") as out:
            with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
                placeholder = manifest.to_bytes()
                tar.addfile(_info(MANIFEST, len(placeholder)), io.BytesIO(placeholder))
                manifest_at = tar.offset - _padded(len(placeholder))
                for member, (name, path) in zip(manifest.members, files, strict=True):
                    with path.open("rb") as source:
                        hashing = _Hashing(source, advance)
                        tar.addfile(_info(name, int(member["size"])), hashing)  # type: ignore[arg-type]
                    member["sha256"] = hashing.sha.hexdigest()
            manifest.seal(key)
            final = manifest.to_bytes()
            if len(final) != len(placeholder):
                raise AssertionError("the manifest changed length")
            out.seek(manifest_at)
            out.write(final)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
        fsync_dir(target.parent)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise BackupFailed(f"the backup could not be written to {target} ({error.strerror}); "
                           "nothing was left under that name") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, 0
    return info


def _padded(size: int) -> int:
    return -(-size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE


def read_manifest(path: Path) -> Manifest:
    try:
        with tarfile.open(path, mode="r|") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile() or first.size > 64 << 20:
                raise BackupUnreadable("this file is not a casevault backup (no manifest first)")
            data = tar.extractfile(first).read()  # type: ignore[union-attr]
    except (OSError, tarfile.TarError, EOFError):
        raise BackupUnreadable(f"{path} is not a readable casevault backup") from None
    return Manifest.from_bytes(data)


def members(path: Path, manifest: Manifest, advance: Callable[[int], None]) -> Iterator[tuple[str, BinaryIO]]:
    """Each member after the manifest, in order, as a stream checked against the manifest: a
    member that is not listed, not a plain file, out of order, of another size or hash raises
    BackupUnreadable (the hash when the stream is read to its end, which the caller must do)."""
    try:
        with tarfile.open(path, mode="r|") as tar:
            tar.next()  # the manifest
            for expected in manifest.members:
                info = tar.next()
                if info is None or info.name != expected["name"] or not info.isfile() or info.size != expected["size"]:
                    raise BackupUnreadable(f"the backup is damaged: member {expected['name']} is missing or "
                                           "altered; nothing was restored")
                stream = _Checked(tar.extractfile(info), str(expected["sha256"]), info.name, advance)  # type: ignore[arg-type]
                yield info.name, io.BufferedReader(stream, _CHUNK)
                stream.finish()
            if tar.next() is not None:
                raise BackupUnreadable("the backup is damaged: it holds members its manifest does not list")
    except (OSError, tarfile.TarError, EOFError):
        raise BackupUnreadable(f"{path} is damaged or truncated; nothing was restored") from None


class _Checked(_Hashing):
    """A member's stream that, read to its end (``finish``), must match its SHA-256."""

    def __init__(self, source: BinaryIO, sha256: str, name: str, advance: Callable[[int], None]) -> None:
        super().__init__(source, advance)
        self.expected, self.name = sha256, name

    def finish(self) -> None:
        while self.read(_CHUNK):
            pass
        if not secrets.compare_digest(self.sha.hexdigest(), self.expected):
            raise BackupUnreadable(f"the backup is damaged: member {self.name} does not match its SHA-256; "
                                   "nothing was restored: use another copy of the backup")
