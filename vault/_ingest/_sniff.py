"""Decide what an upload is from its first bytes, and refuse what it must not be.

The content decides; the file name is only a second opinion. A name is never used as a path and
only its final extension is read, so ``../../x.pdf``, ``a.pdf\\0.exe`` or a right-to-left override
cannot make a file anything its bytes are not. A file that is two things at once (a PDF that is
also a ZIP or an HTML page) is refused: one reader would see one document and another reader a
different one, and a browser might run the second as a page.
"""

from __future__ import annotations

import codecs
import re

from vault._ingest._decode import BYTE_ORDER_MARKS as _BYTE_ORDER_MARKS
from vault._ingest._model import Format
from vault.errors import MalformedDocument, TypeMismatch, UnsupportedType

ACCEPTED = "PDF, DOCX, HTML, plain text, WebVTT, SRT or JSON transcript segments"

_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"
# PDF readers look for the header anywhere in the first 1024 bytes, so a header there that is
# not at offset 0 is a file built to be read as a PDF by some programs and as something else by
# ours.
_PDF_HEADER_WINDOW = 1024

# Binary formats people upload by mistake, named so the refusal can say what was seen. Only
# magic numbers no text starts with: a two-letter one like "MZ" would refuse a transcript whose
# first speaker is "MZ:", and real executables are caught by their NUL bytes anyway.
_KNOWN_BINARY: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"PK\x07\x08", "a split ZIP archive"),
    (b"\x7fELF", "an executable program"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc); save it as .docx or PDF"),
    (b"{\\rtf", "an RTF file; save it as .docx or PDF"),
)

_WEBVTT_HEADER = re.compile(r"WEBVTT(?:[ \t]|\r?\n|\r|$)")
_SRT_CUE = re.compile(
    r"\s*\d+[ \t]*\r?\n"
    r"[ \t]*\d{1,3}:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->[ \t]*\d{1,3}:\d{2}:\d{2}[,.]\d{1,3}"
)
# JSON that starts like transcript segments (an object with a key, or an array of objects), not
# like a text line that opens with a bracket such as "[00:01:07] H: ..." or "[1] Attendu que".
_JSON_START = re.compile(r'\s*(?:\{\s*["}]|\[\s*[\[{\]])')
_HTML_MARKER = re.compile(r"<!doctype\s+html|<html[\s>]|<body[\s>]|<head[\s>]", re.IGNORECASE)
# An HTML fragment without <html>: its first non-space character opens a common HTML element.
_HTML_FRAGMENT = re.compile(
    r"\s*<(?:p|div|h[1-6]|table|section|article|title|meta|span|ul|ol)[\s>/]", re.IGNORECASE
)
_HTML_WINDOW = 1024
# Inside a PDF, HTML that a browser would render or run.
_HTML_IN_PDF = re.compile(rb"<\s*(?:html|script|body|iframe|svg)[\s>/]|<!doctype\s+html", re.IGNORECASE)

_EXTENSIONS: dict[str, frozenset[Format]] = {
    "pdf": frozenset({Format.PDF}),
    "docx": frozenset({Format.DOCX}),
    "html": frozenset({Format.HTML}),
    "htm": frozenset({Format.HTML}),
    "txt": frozenset({Format.TEXT, Format.TRANSCRIPT_TEXT}),
    "vtt": frozenset({Format.WEBVTT}),
    "srt": frozenset({Format.SRT}),
    "json": frozenset({Format.JSON}),
}

_DESCRIPTIONS: dict[Format, str] = {
    Format.PDF: "PDF",
    Format.DOCX: "a Word document",
    Format.HTML: "HTML",
    Format.TEXT: "plain text",
    Format.TRANSCRIPT_TEXT: "plain text",
    Format.WEBVTT: "WebVTT captions",
    Format.SRT: "SRT subtitles",
    Format.JSON: "JSON",
}


def sniff(head: bytes, filename: str | None) -> Format:
    """Return the format of a file from its first 64 KiB, checked against its name's extension.

    Raises ``UnsupportedType`` for content that is none of the accepted formats and
    ``TypeMismatch`` for a name that disagrees with the content or a polyglot. ``Format.TEXT``
    stands for both plain-text court records and plain-text transcripts; the text parser tells
    them apart.
    """
    if not head:
        raise MalformedDocument("the file is empty; there is nothing to archive")
    found = _sniff_content(head)
    _check_extension(found, filename)
    return found


def _sniff_content(head: bytes) -> Format:
    if head.startswith(_PDF_MAGIC):
        _refuse_pdf_polyglot(head)
        return Format.PDF
    if head.startswith(_ZIP_MAGIC):
        return _sniff_zip(head)
    if _PDF_MAGIC in head[:_PDF_HEADER_WINDOW]:
        raise TypeMismatch(
            "the file hides a PDF header after other content (a polyglot file); "
            "re-export the document as a plain PDF"
        )
    for magic, description in _KNOWN_BINARY:
        if head.startswith(magic):
            raise UnsupportedType(f"the file is {description}; accepted types are {ACCEPTED}")
    text = _head_as_text(head)
    return _sniff_text(text)


def _refuse_pdf_polyglot(head: bytes) -> None:
    if _ZIP_MAGIC in head:
        raise TypeMismatch(
            "the PDF also contains a ZIP archive (a polyglot file); re-export the document as a plain PDF"
        )
    if _HTML_IN_PDF.search(head):
        raise TypeMismatch(
            "the PDF also contains HTML or script markup (a polyglot file); "
            "re-export the document as a plain PDF"
        )


def _sniff_zip(head: bytes) -> Format:
    if _PDF_MAGIC in head:
        raise TypeMismatch(
            "the ZIP archive also contains a PDF header (a polyglot file); "
            "re-save the document as a plain DOCX"
        )
    # Entry names are stored uncompressed in each local header (and again in the central
    # directory at the end), so the names of the first entries are readable here. Word writes
    # [Content_Types].xml first; the DOCX parser later checks the whole archive properly.
    if b"[Content_Types].xml" not in head:
        raise UnsupportedType(f"the file is a ZIP archive, not a Word document; accepted types are {ACCEPTED}")
    if b"word/" in head:
        return Format.DOCX
    if b"xl/" in head or b"ppt/" in head:
        raise UnsupportedType(
            f"the file is an Excel or PowerPoint document; accepted types are {ACCEPTED}"
        )
    if b"PK\x05\x06" in head:  # the end of the archive is in view and no entry is under word/
        raise UnsupportedType(f"the file is a ZIP archive, not a Word document; accepted types are {ACCEPTED}")
    return Format.DOCX


def _head_as_text(head: bytes) -> str:
    for mark, encoding in _BYTE_ORDER_MARKS:
        if head.startswith(mark):
            # The head may end in the middle of a character; an incremental decoder that is not
            # told the input is final leaves it out. Anything else invalid is left for
            # decode_text to refuse with a precise message: this text is only looked at.
            decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
            try:
                return decoder.decode(head[len(mark) :], final=False)
            except UnicodeDecodeError:
                raise UnsupportedType(
                    f"the file has a {encoding.upper()} byte-order mark but is not {encoding.upper()} text; "
                    f"accepted types are {ACCEPTED}"
                ) from None
    if b"\x00" in head and not _is_utf8_prefix(head):
        # NUL bytes in what is not even UTF-8 is binary data. Text that is valid UTF-8 apart from a
        # stray NUL (or UTF-16 without a byte-order mark) is text with an encoding problem, which
        # decode_text refuses with a message that names it.
        raise UnsupportedType(f"the file is binary (it contains NUL bytes); accepted types are {ACCEPTED}")
    # Every marker looked for below is ASCII, and every encoding decode_text accepts without a
    # byte-order mark is ASCII-compatible, so reading the bytes as Latin-1 (which maps every
    # byte) finds the markers without deciding the encoding yet.
    return head.decode("latin-1")


def _is_utf8_prefix(head: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _sniff_text(text: str) -> Format:
    if _WEBVTT_HEADER.match(text):
        return Format.WEBVTT
    if _SRT_CUE.match(text):
        return Format.SRT
    if _JSON_START.match(text):
        return Format.JSON
    if _HTML_MARKER.search(text[:_HTML_WINDOW]) or _HTML_FRAGMENT.match(text):
        return Format.HTML
    return Format.TEXT


def _extension(filename: str) -> str | None:
    # Only the last path component's last extension is read; the name is never opened.
    base = re.split(r"[/\\]", filename)[-1]
    if "." not in base:
        return None
    return base.rsplit(".", 1)[1].lower()


def _check_extension(found: Format, filename: str | None) -> None:
    if not filename:
        return
    # "a.pdf\0.exe" is "a.pdf" to any C code that stops at the NUL, and Windows drops trailing
    # dots and spaces ("a.pdf. "), so every reading of the name must agree with the content (the
    # name itself is kept, encrypted, by the vault).
    names = {filename, filename.split("\0", 1)[0]}
    readings = names | {name.rstrip(" .") for name in names}
    for extension in sorted(filter(None, map(_extension, readings))):
        expected = _EXTENSIONS.get(extension)
        if expected is None or found in expected:
            continue
        said = _DESCRIPTIONS[next(iter(expected))]
        raise TypeMismatch(
            f"the name says {said} (.{extension}) but the content is {_content_description(found)}; "
            "rename or re-export the file"
        )


def _content_description(found: Format) -> str:
    if found is Format.DOCX:
        return "a ZIP archive (a Word document)"
    return _DESCRIPTIONS[found]
