"""What the vault hands out: frozen views, never database rows.

Each carries only what its reader may see; a ``DocumentView`` holds no real name unless the
policy allowed it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from keys import KdfParams
from vault._ingest._model import Format, Kind
from vault._masking import MaskedDocument


class DocumentStatus(enum.StrEnum):
    IN_REVIEW = "in_review"
    RELEASED = "released"


class BlobPurpose(enum.StrEnum):
    ORIGINAL = "original"
    CONTENT = "content"  # the extracted text, in clear inside the ciphertext
    MASKED = "masked"  # the masked text and the review's suggestions
    AUDIO = "audio"  # a call's recording, uploaded with its transcript (vault._originals)


@dataclass(frozen=True, slots=True)
class CaseInfo:
    id: str
    name: str
    created_at: datetime
    documents: int = 0
    archive_scope: bool = False  # pseudonyms shared with the other archive-scope cases


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: str
    case_id: str
    case_name: str
    kind: Kind
    format: Format
    status: DocumentStatus
    title: str
    filename: str
    size_bytes: int
    pages: int
    turns: int
    text_encoding: str | None
    uploaded_by: str
    created_at: datetime  # the upload
    pending_suggestions: int = 0
    document_date: date | None = None  # its own date, found in it or set by a reviewer


@dataclass(frozen=True, slots=True)
class ViewUnit:
    position: int  # page number, or turn index
    text: str
    speaker: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    marks: tuple[tuple[int, int, bool], ...] = ()  # where identities stand in ``text``: (start, end, real name)


@dataclass(frozen=True, slots=True)
class IndexChange:
    id: int
    case_id: str
    document_id: str
    purge: bool = False


@dataclass(frozen=True, slots=True)
class SearchableDocument:
    """A document's masked form with what an index filters and checks on."""

    id: str
    case_id: str
    kind: Kind
    status: DocumentStatus
    version: int  # of the masked form: a hit from an older version is stale
    created_at: datetime
    masked: MaskedDocument
    document_date: date | None = None


@dataclass(frozen=True, slots=True)
class Display:
    """How one user sees one case's identity tokens: ``shown`` maps each token to its label or,
    where the policy allows, the real name; ``revealing`` holds the tokens shown as real names
    (with their identity ids, for the audit); ``vocabulary`` pairs what the user may type in a
    query (labels, and the names and aliases they may see) with its token."""

    shown: dict[str, str]
    revealing: dict[str, str]
    vocabulary: tuple[tuple[str, str], ...]

    def revealed_in(self, tokens: Iterable[str]) -> list[str]:
        """The identity ids whose real names a text holding ``tokens`` reveals, in a stable order."""
        return sorted({self.revealing[t] for t in tokens if t in self.revealing})


@dataclass(frozen=True, slots=True)
class DocumentView:
    """A document as one user may see it. It carries no real name unless the policy allowed it,
    and no field that could (no file name, no original title)."""

    id: str
    case_name: str
    kind: Kind
    format: Format
    status: DocumentStatus
    title: str
    units: tuple[ViewUnit, ...]
    pending_suggestions: int
    document_date: date | None = None  # its own date (a decision's, a call's), if it has one
    uploaded: date | None = None  # the day it came in (UTC)


@dataclass(frozen=True, slots=True)
class ReviewView:
    """A reviewer's view of a document in review: identity spans and suggestions, in clear."""

    id: str
    status: DocumentStatus
    spans: list[dict[str, object]]
    suggestions: list[dict[str, object]]
    units: tuple[tuple[int, str, str], ...] = ()  # (position, "speaker" or "text", the text in clear)


@dataclass(frozen=True, slots=True)
class SealInfo:
    """How the root key is sealed (no secret): by a passphrase (its Argon2id parameters), by the
    shares of a split (``threshold`` of ``shares``), or both. ``split_id`` is the SLIP-39
    identifier of the split, which every one of its shares carries."""

    passphrase: KdfParams | None
    threshold: int | None = None
    shares: int | None = None
    split_id: int | None = None

    @property
    def by_shares(self) -> bool:
        return self.threshold is not None

    def describe(self) -> str:
        ways = []
        if self.passphrase is not None:
            ways.append("passphrase")
        if self.threshold is not None:
            ways.append(f"shares ({self.threshold} of {self.shares})")
        return " or ".join(ways) or "release 1 (passphrase; converted when next opened)"


@dataclass(frozen=True, slots=True)
class MasterVersion:
    """A master key version: when made, whether retired, and how many keys it still wraps."""

    version: int
    created_at: str
    retired_at: str | None
    system_keys: int = 0
    case_keys: int = 0
    scope_keys: int = 0

    @property
    def wraps(self) -> int:
        return self.system_keys + self.case_keys + self.scope_keys


@dataclass(frozen=True, slots=True)
class CaseKeyUse:
    """What one case key version still protects, counted over the cases (never key material).
    ``blobs`` are files under document keys made while it was current: a rewrap moves the
    wrapped keys, only a re-encryption moves the files."""

    version: int
    cases: int  # cases holding this version
    retired_cases: int  # cases where it was retired (its key destroyed)
    documents: int = 0  # document keys wrapped under it
    blobs: int = 0
    justifications: int = 0
    case_names: int = 0
    index_keys: int = 0

    @property
    def retired(self) -> bool:
        return self.retired_cases > 0 and self.cases == 0

    @property
    def in_use(self) -> bool:
        return any((self.documents, self.blobs, self.justifications, self.case_names, self.index_keys))


@dataclass(frozen=True, slots=True)
class KeyStatus:
    seal: SealInfo
    master_versions: list[MasterVersion]
    system_keys: dict[str, list[int]]
    case_key_versions: dict[int, int]  # version -> number of cases
    documents_by_case_key_version: dict[int, int]
    blobs_by_key_version: dict[int, int]
    audit_public_key: str = ""  # hex: the Ed25519 key audit exports are signed with (not a secret)
    audit_key_fingerprint: str = ""
    case_key_uses: tuple[CaseKeyUse, ...] = ()  # oldest version first
