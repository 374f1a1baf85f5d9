"""Limits on what one uploaded file may cost, enforced while reading, never after."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 100 * MiB  # the original as uploaded
    max_text_bytes: int = 20 * MiB  # text formats are decoded whole, so they get a tighter cap
    max_pages: int = 2_000
    max_turns: int = 200_000
    max_decompressed_bytes: int = 256 * MiB  # sum over a DOCX's entries, or a PDF's streams
    max_zip_entries: int = 2_000
    max_compression_ratio: int = 200  # per zip entry; XML compresses ~10x, bombs 1000x+
    parse_seconds: float = 60.0  # wall clock for the sandboxed PDF/DOCX parser
    parse_memory_bytes: int = 1536 * MiB  # address space of the sandboxed parser
