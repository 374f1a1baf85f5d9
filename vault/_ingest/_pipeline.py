"""From an untrusted byte stream to an ``Extracted`` document, within limits.

The upload is read once, in pieces: counted against the size limit as it arrives (so a 10 GB
body stops at the limit, with memory bounded), fed to the keyed digest, and handed on to the
encryptor. Its first 64 KiB decide the type. Extraction then reads the plaintext back through a
decrypting reader: text formats in this process, PDF and DOCX in the sandbox.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from typing import BinaryIO

from keys import KeyedDigest
from vault._ingest._decode import check_text, decode_text
from vault._ingest._limits import MiB, Limits
from vault._ingest._model import Extracted, Format, Kind, Page, Turn
from vault._ingest._records import parse_text_record
from vault._ingest._sandbox import SANDBOXED, ParserSlots, extract_in_sandbox
from vault._ingest._transcripts import (
    looks_like_transcript,
    parse_json_transcript,
    parse_srt,
    parse_transcript_text,
    parse_webvtt,
)
from vault.errors import MalformedDocument, TooLarge

HEAD_BYTES = 64 * 1024
_PIECE_BYTES = 1024 * 1024


class Upload:
    """The pieces of an upload as they arrive, with its size, head and keyed digest."""

    def __init__(self, source: BinaryIO, limits: Limits, digest: KeyedDigest) -> None:
        self._source = source
        self._limit = limits.max_file_bytes
        self._digest = digest
        self.size = 0
        self.head = b""

    def pieces(self) -> Iterator[bytes]:
        while piece := self._source.read(_PIECE_BYTES):
            self.size += len(piece)
            if self.size > self._limit:
                raise TooLarge(
                    f"the file is larger than the limit of {self._limit // MiB} MiB and was not stored"
                )
            if len(self.head) < HEAD_BYTES:
                self.head += piece[: HEAD_BYTES - len(self.head)]
            self._digest.update(piece)
            yield piece

    def digest(self) -> bytes:
        return self._digest.finalize()


def extract(fmt: Format, plaintext: BinaryIO, *, limits: Limits, legacy_encoding: str | None,
            parsers: ParserSlots, kind: Kind | None = None) -> Extracted:
    """Turn the plaintext of an upload of format ``fmt`` into pages or turns (PDF, DOCX and HTML
    in a sandboxed parser, once one of ``parsers`` is free)."""
    if fmt in SANDBOXED:
        extracted = extract_in_sandbox(fmt, plaintext, limits, legacy_encoding, parsers)
    else:
        data = plaintext.read(limits.max_text_bytes + 1)
        if len(data) > limits.max_text_bytes:
            raise TooLarge(
                f"text files are limited to {limits.max_text_bytes // MiB} MiB; split the file and "
                "upload the parts"
            )
        text, encoding = decode_text(data, legacy_encoding=legacy_encoding)
        extracted = replace(_parse_text(fmt, text, limits, kind), encoding=encoding)
    if kind is not None and extracted.kind is not kind:
        raise MalformedDocument(
            f"the file was declared a {kind.value.replace('_', ' ')} but its format "
            f"({extracted.format.value}) is a {extracted.kind.value.replace('_', ' ')}"
        )
    extracted = _checked(extracted)
    if not extracted.text.strip():
        raise MalformedDocument("the file holds no text to archive (a scan without a text layer?)")
    return extracted


def _clean(text: str) -> str:
    check_text(text)
    return unicodedata.normalize("NFC", text)


def _checked(extracted: Extracted) -> Extracted:
    """Every string of every format passes the same check before anything is stored: a JSON
    escape or a parser can make characters that the byte-level decoding never saw."""
    return replace(
        extracted,
        title=_clean(extracted.title) if extracted.title else extracted.title,
        pages=tuple(Page(p.number, _clean(p.text)) for p in extracted.pages),
        turns=tuple(Turn(t.index, _clean(t.speaker) if t.speaker else t.speaker, t.start_ms, t.end_ms, _clean(t.text))
                    for t in extracted.turns),
    )


def _parse_text(fmt: Format, text: str, limits: Limits, kind: Kind | None) -> Extracted:
    if fmt is Format.TEXT:
        if kind is Kind.TRANSCRIPT or (kind is None and looks_like_transcript(text)):
            return parse_transcript_text(text, limits=limits)
        return parse_text_record(text, limits=limits)
    parser = {
        Format.TRANSCRIPT_TEXT: lambda: parse_transcript_text(text, limits=limits),
        Format.WEBVTT: lambda: parse_webvtt(text, limits=limits),
        Format.SRT: lambda: parse_srt(text, limits=limits),
        Format.JSON: lambda: parse_json_transcript(text, limits=limits),
    }[fmt]
    return parser()
