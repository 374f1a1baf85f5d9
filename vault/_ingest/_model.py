"""The normalised document every format is turned into.

A court record is a list of pages, a transcript a list of turns. Parsers produce these; the vault
stores them encrypted; redaction masks them; search indexes the masked result.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field


class Kind(enum.StrEnum):
    COURT_RECORD = "court_record"
    TRANSCRIPT = "transcript"


class Format(enum.StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    HTML = "html"
    TEXT = "text"  # plain text court record, pages split on form feeds
    TRANSCRIPT_TEXT = "transcript_text"  # "H: ..." / "[00:01:07] MA: ..." lines
    WEBVTT = "webvtt"
    SRT = "srt"
    JSON = "json"  # speech-to-text segments

    @property
    def kind(self) -> Kind:
        if self in (Format.PDF, Format.DOCX, Format.HTML, Format.TEXT):
            return Kind.COURT_RECORD
        return Kind.TRANSCRIPT


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 1-based
    text: str


@dataclass(frozen=True, slots=True)
class Turn:
    index: int  # 0-based position in the transcript
    speaker: str | None
    start_ms: int | None
    end_ms: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a parser found in one file, before anything is stored."""

    format: Format
    title: str | None = None
    pages: tuple[Page, ...] = ()
    turns: tuple[Turn, ...] = ()
    encoding: str | None = None  # the text encoding used, e.g. "utf-8", "utf-16", "cp1252 (legacy)"
    notes: tuple[str, ...] = field(default=())
    # a transcript's header (WebVTT NOTE blocks, a JSON transcript's metadata), read for the
    # document's date (vault._ingest._dating); never stored, indexed or shown
    header: str = ""

    @property
    def kind(self) -> Kind:
        return self.format.kind

    @property
    def text(self) -> str:
        """The whole text: pages joined by form feeds, or turns one per line."""
        if self.kind is Kind.COURT_RECORD:
            return "\f".join(p.text for p in self.pages)
        return "\n".join(f"{t.speaker}: {t.text}" if t.speaker else t.text for t in self.turns)

    def to_json(self) -> bytes:
        return json.dumps({
            "format": self.format.value, "title": self.title, "encoding": self.encoding,
            "pages": [[p.number, p.text] for p in self.pages],
            "turns": [[t.index, t.speaker, t.start_ms, t.end_ms, t.text] for t in self.turns],
        }, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Extracted:
        data = json.loads(raw)
        return cls(
            format=Format(data["format"]), title=data["title"], encoding=data["encoding"],
            pages=tuple(Page(*p) for p in data["pages"]),
            turns=tuple(Turn(*t) for t in data["turns"]),
        )
