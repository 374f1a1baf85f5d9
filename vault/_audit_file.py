"""The audit log's off-host copy: a JSON-lines file anyone can check without the vault.

The vault's own chain is an HMAC under a vault key, so only the vault can check it. An export
adds a layer that needs no secret: each entry's clear fields (seq, at, actor, action, target;
never details, which may hold a query, a justification or a name) are chained with SHA-256 from
a start bound to the vault id, and the final link (the head) is signed with the vault's Ed25519
audit key. The file::

    {"format": ..., "release": ..., "vault_id": ..., "public_key": hex, "fingerprint": ..., "count": n, "exported_at": ...}
    {"seq": 1, "at": ..., "actor": ..., "action": ..., "target": ..., "chain": hex}
    ...
    {"count": n, "head": hex, "signature": hex}

``check_export`` walks such a file and names the first position where it breaks: an edited,
deleted, reordered or truncated entry, a signature that does not match, a key other than the
one the operator trusts, and (``previous``) an earlier export that is not a prefix of this one.
The public key inside the file proves nothing by itself: whoever rewrote the file can sign it
with a key of their own. Only a key (or fingerprint) the operator kept elsewhere is trusted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from keys import fingerprint, signature_valid
from vault.errors import ExportBroken, InvalidInput

FORMAT = "casevault-audit-export/1"
ENTRY_FIELDS = ("seq", "at", "actor", "action", "target")
HEADER_FIELDS = frozenset({"format", "release", "vault_id", "public_key", "fingerprint", "count", "exported_at"})
TRAILER_FIELDS = frozenset({"count", "head", "signature"})


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def genesis(vault_id: str) -> bytes:
    return hashlib.sha256(canonical([FORMAT, vault_id])).digest()


def link(prev: bytes, entry: dict[str, object]) -> bytes:
    """The chain value of ``entry`` after ``prev``: SHA-256 over both, the fields in a fixed order."""
    return hashlib.sha256(prev + canonical([entry[f] for f in ENTRY_FIELDS])).digest()


def signed_message(header: dict[str, object], count: int, head: bytes) -> bytes:
    """What the signature covers: the whole header, the number of entries and the chain head."""
    return canonical({"header": header, "count": count, "head": head.hex()})


def line(record: dict[str, object]) -> str:
    return canonical(record).decode() + "\n"


@dataclass(frozen=True, slots=True)
class ExportCheck:
    """What ``check_export`` found. ``first_broken``: the entry position where the file breaks
    (0: its header or its key); None when intact."""

    entries: int
    head: str
    fingerprint: str | None
    vault_id: str | None
    key_given: bool
    first_broken: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def trusted_fingerprint(given: str) -> str:
    """The fingerprint of a key the operator passes: the hex public key, or its fingerprint."""
    given = given.strip().lower()
    if given.startswith("ed25519:") and len(given) == 40 and all(c in "0123456789abcdef" for c in given[8:]):
        return given
    try:
        raw = bytes.fromhex(given)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise InvalidInput("give the audit public key as 64 hex digits or its fingerprint (ed25519:...), "
                           "as `casevault audit export` or `casevault keys status` printed it")
    return fingerprint(raw)


def _records(path: Path) -> Iterator[object]:
    try:
        with path.open("rb") as handle:
            for raw in handle:
                try:
                    yield json.loads(raw)
                except ValueError:
                    yield None  # not JSON: the walker names its position
    except OSError:
        raise InvalidInput(f"cannot read {path.name}; check the path and its permissions") from None


@dataclass
class _Walk:
    header: dict[str, object]
    public_key: bytes
    count: int
    head: bytes
    remembered: bytes | None  # the chain value at the position asked for (an earlier export's count)


def _header(record: object) -> tuple[dict[str, object], bytes]:
    if not isinstance(record, dict) or set(record) != HEADER_FIELDS or record.get("format") != FORMAT:
        raise ExportBroken(0, "the first line is not the header of a casevault audit export")
    try:
        public_key = bytes.fromhex(str(record["public_key"]))
    except ValueError:
        raise ExportBroken(0, "the header's public key is not hex") from None
    if not isinstance(record["count"], int) or not isinstance(record["vault_id"], str):
        raise ExportBroken(0, "the header is malformed")
    return record, public_key


def _walk(path: Path, remember: int | None = None) -> _Walk:
    records = _records(path)
    header, public_key = _header(next(records, None))
    prev, expected, remembered = genesis(str(header["vault_id"])), 1, None
    trailer = None
    for record in records:
        if isinstance(record, dict) and set(record) == TRAILER_FIELDS:
            trailer = record
            break
        if not isinstance(record, dict) or set(record) != {*ENTRY_FIELDS, "chain"} \
                or not isinstance(record["seq"], int) or isinstance(record["seq"], bool):
            raise ExportBroken(expected, f"entry {expected} is not a well-formed entry line")
        seq = record["seq"]
        if seq > expected:
            raise ExportBroken(expected, f"entry {expected} is missing or out of order (entry {seq} is in its place)")
        if seq < expected:
            raise ExportBroken(expected, f"entry {seq} appears again, or out of order, at position {expected}")
        computed = link(prev, record)
        if record["chain"] != computed.hex():
            raise ExportBroken(seq, f"entry {seq} was altered (its chain value does not match)")
        if seq == remember:
            remembered = computed
        prev, expected = computed, expected + 1
    count = expected - 1
    if trailer is None:
        raise ExportBroken(count + 1, f"the file ends after entry {count} without its signature line: it was truncated")
    if next(records, None) is not None:
        raise ExportBroken(count + 1, "lines follow the signature line")
    if trailer["count"] != count or header["count"] != count:
        raise ExportBroken(count + 1, f"the file holds {count} entries but its header says {header['count']} and its "
                                 f"signature line {trailer['count']}: entries were removed")
    try:
        signature = bytes.fromhex(str(trailer["signature"]))
    except ValueError:
        signature = b""
    if trailer["head"] != prev.hex() or not signature_valid(public_key, signed_message(header, count, prev), signature):
        raise ExportBroken(count, "the signature does not match the entries: the file was changed after it was signed")
    return _Walk(header, public_key, count, prev, remembered)


def check_export(path: Path, *, public_key: str | None = None, previous: Path | None = None) -> ExportCheck:
    """Check an audit export without the vault: its chain, its signature, the key the operator
    trusts (``public_key``: hex or fingerprint) and, with ``previous``, that an earlier export
    of the same vault is a prefix of this one (the log only grew)."""
    trusted = trusted_fingerprint(public_key) if public_key else None
    earlier = None
    if previous is not None:
        try:
            earlier = _walk(previous)
        except ExportBroken as broken:
            return ExportCheck(0, "", None, None, trusted is not None, broken.position,
                               f"the earlier export is broken itself: {broken.message}")
    try:
        walk = _walk(path, remember=earlier.count if earlier else None)
    except ExportBroken as broken:
        return ExportCheck(0, "", None, None, trusted is not None, broken.position, broken.message)
    found = ExportCheck(walk.count, walk.head.hex(), fingerprint(walk.public_key), str(walk.header["vault_id"]),
                        trusted is not None)
    if trusted is not None and found.fingerprint != trusted:
        return _broken(found, 0, f"the file is signed by {found.fingerprint}, not by the key given ({trusted}): "
                                 "it was rewritten and signed again, or it is another vault's")
    if earlier is None:
        return found
    if earlier.public_key != walk.public_key or earlier.header["vault_id"] != walk.header["vault_id"]:
        return _broken(found, 0, "the earlier export is of another vault, or signed by another key")
    if earlier.count <= walk.count and (not earlier.count or walk.remembered == earlier.head):
        return found
    position = _first_difference(previous, path)  # type: ignore[arg-type]
    if 0 < position <= walk.count:
        return _broken(found, position, f"entry {position} differs from the earlier export: the log was rewritten")
    return _broken(found, walk.count + 1, f"the earlier export holds {earlier.count} entries, this one only "
                                          f"{walk.count}: entries were removed from the end")


def _first_difference(earlier: Path, later: Path) -> int:
    """The first position whose chain value differs between two exports (both checked already)."""
    pairs = zip(_records(earlier), _records(later), strict=False)
    next(pairs)  # the headers
    for position, (old, new) in enumerate(pairs, start=1):
        if not isinstance(old, dict) or not isinstance(new, dict) or old.get("chain") != new.get("chain"):
            return position
    return 0


def _broken(found: ExportCheck, position: int, reason: str) -> ExportCheck:
    return ExportCheck(found.entries, found.head, found.fingerprint, found.vault_id, found.key_given, position, reason)
