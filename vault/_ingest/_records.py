"""Court records: plain text, HTML and PDF, each turned into numbered pages (DOCX: ``_docx``).

PDF and DOCX come from the outside world and their libraries are large parsers of hostile
input; ``parse_pdf`` and ``parse_docx`` are run in a sandboxed child process by the pipeline, but
they still set every limit the libraries offer, so a bomb is refused with a clear message before
the sandbox has to kill anything. Whatever a library raises on a damaged file becomes a
``MalformedDocument`` without the library's message, which may quote the file.
"""

from __future__ import annotations

import contextlib
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import BinaryIO

import pypdf
from pypdf.errors import LimitReachedError

from vault._ingest._limits import Limits
from vault._ingest._model import Extracted, Format, Page
from vault.errors import IngestError, MalformedDocument, ParserLimitExceeded, TypeMismatch

_TITLE_CHARS = 200

# Text extracted from PDF fonts and DOCX runs sometimes carries control characters (C0 and C1; unmapped
# glyphs come out as NUL) and, from broken ToUnicode maps, lone surrogates, which cannot even be
# encoded for storage. They are dropped and the drop is recorded in the notes. Tab, newline and
# the form feed that separates pages are kept.
_STRAY_CHARACTERS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def parse_text_record(text: str, *, limits: Limits = Limits()) -> Extracted:
    """A plain-text court record: pages split on form feeds, the title its first non-empty line."""
    parts = text.split("\f")
    if len(parts) > 1 and not parts[-1].strip():
        parts.pop()  # a form feed after the last page ends it; it does not start an empty one
    check_page_count(len(parts), limits)
    pages = tuple(Page(number, _nfc(part)) for number, part in enumerate(parts, start=1))
    return Extracted(Format.TEXT, title=first_line(text), pages=pages)


def parse_html(text: str, *, limits: Limits = Limits()) -> Extracted:
    """An HTML court record: its visible text, block by block, and its <title> or first <h1>.

    Uses the standard library's tolerant tokenizer, which never fetches anything and knows only
    the HTML named character references (no DTD, so no entity bombs). Scripts, styles, templates
    and the head are left out; an element styled ``page-break-before: always`` (or
    ``break-before: page``) starts a new page.
    """
    reader = _HtmlText()
    reader.feed(text)
    reader.close()
    pages = reader.pages()
    check_page_count(len(pages), limits)
    return Extracted(
        Format.HTML,
        title=shorten(reader.title or reader.first_heading),
        pages=tuple(Page(number, _nfc(page)) for number, page in enumerate(pages, start=1)),
    )


def parse_pdf(stream: BinaryIO, limits: Limits = Limits()) -> Extracted:
    """A PDF court record: one page per PDF page, the title from the metadata or the first line.

    A PDF with a user password is refused; one protected only by an owner password (it opens
    without asking, e.g. to stop printing) is read.
    """
    _refuse_trailing_zip(stream)
    try:
        with pypdf.apply_configuration(**_pypdf_limits(limits)), _pypdf_silenced():
            return _read_pdf(stream, limits)
    except IngestError:
        raise
    except LimitReachedError:
        raise ParserLimitExceeded(
            "the PDF goes past the parser's limits (data that inflates too far, or structures "
            "nested or repeated too often); it may be built to exhaust the parser, and nothing was stored"
        ) from None
    except MemoryError:
        raise ParserLimitExceeded("the PDF needs more memory to read than the limits allow") from None
    except Exception:
        # pypdf raises PdfReadError on what it recognises as damage, and ValueError, KeyError,
        # TypeError, AttributeError, IndexError, RecursionError or zlib.error on what it does
        # not. The type and the message describe the file, and the message may quote it.
        raise MalformedDocument(
            "the PDF is damaged or not a PDF that can be read; re-export it from the original "
            "application or print it to a new PDF"
        ) from None


# -- shared -----------------------------------------------------------------------------------


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def shorten(line: str | None) -> str | None:
    if line is None:
        line = ""
    line = _nfc(" ".join(line.split()))
    return line[:_TITLE_CHARS] or None


def first_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip():
            return shorten(line)
    return None


def check_page_count(count: int, limits: Limits) -> None:
    if count > limits.max_pages:
        raise ParserLimitExceeded(
            f"the document has more than {limits.max_pages} pages; split it into smaller files"
        )


def clean_text(text: str) -> tuple[str, int]:
    """Drop stray control characters and surrogates; return the text and how many were dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned, dropped = _STRAY_CHARACTERS.subn("", text)
    return _nfc(cleaned), dropped


def dropped_note(dropped: int) -> tuple[str, ...]:
    if not dropped:
        return ()
    return (f"{dropped} control characters or broken characters in the extracted text were removed",)


# -- HTML -------------------------------------------------------------------------------------

_SKIPPED_ELEMENTS = frozenset({"script", "style", "template", "head", "noscript"})
_BLOCK_ELEMENTS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
        "tr", "table", "section", "article", "header", "footer", "aside", "main", "nav",
        "blockquote", "pre", "address", "figure", "figcaption", "hr", "caption", "form", "fieldset",
    }
)
_CELL_ELEMENTS = frozenset({"td", "th"})
_PAGE_BREAK_STYLE = re.compile(r"(?:page-)?break-before\s*:\s*(?:always|page)", re.IGNORECASE)
_PAGE_BREAK = "\f"  # the data never holds one: HTML whitespace in data is collapsed to spaces


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skipping: list[str] = []  # open skipped elements, innermost last
        self._in_title = False
        self._in_heading = False
        self._title: list[str] = []
        self._heading: list[str] = []
        self.title: str | None = None
        self.first_heading: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._in_title:
            self._end_title()  # an unclosed <title> must not swallow the body
        if tag == "body":
            self._skipping = [t for t in self._skipping if t != "head"]  # </head> is optional
        if tag == "title" and self.title is None:
            self._in_title = True
            return
        if tag in _SKIPPED_ELEMENTS:
            self._skipping.append(tag)
            return
        if self._skipping:
            return
        style = next((value for name, value in attrs if name == "style" and value), "")
        if _PAGE_BREAK_STYLE.search(style):
            self._parts.append(_PAGE_BREAK)
        if tag in _BLOCK_ELEMENTS:
            self._parts.append("\n")
        elif tag in _CELL_ELEMENTS:
            self._parts.append(" ")
        if tag == "h1" and self.first_heading is None:
            self._in_heading = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and friends: a start without content; a self-closed skipped element skips nothing.
        if tag in _SKIPPED_ELEMENTS or tag == "title":
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._end_title()
            return
        if self._skipping:
            if tag in self._skipping:
                while self._skipping.pop() != tag:
                    pass
            return
        if tag in _BLOCK_ELEMENTS:
            self._parts.append("\n")
        if tag == "h1" and self._in_heading:
            self._in_heading = False
            self.first_heading = "".join(self._heading)

    def _end_title(self) -> None:
        self._in_title = False
        self.title = "".join(self._title)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
            return
        if self._skipping:
            return
        # HTML collapses every run of white space (the non-breaking space too, here, so that a
        # name written "Gérard&nbsp;Hélène" matches) into one space.
        data = re.sub(r"\s+", " ", data)
        self._parts.append(data)
        if self._in_heading:
            self._heading.append(data)

    def pages(self) -> list[str]:
        pages = [_tidy_lines(page) for page in "".join(self._parts).split(_PAGE_BREAK)]
        while len(pages) > 1 and not pages[0]:
            pages.pop(0)  # a break before the first content starts no page
        while len(pages) > 1 and not pages[-1]:
            pages.pop()
        return pages


def _tidy_lines(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{2,}", "\n", text).strip("\n")


# -- PDF --------------------------------------------------------------------------------------


def _pypdf_limits(limits: Limits) -> dict[str, int]:
    # pypdf 7 reads its caps from pypdf.Configuration; assigning the old module constants
    # (pypdf.filters.ZLIB_MAX_OUTPUT_LENGTH ...) makes every later PdfReader raise
    # DeprecationError. The caps are per stream and per decoding stage, so a nested FlateDecode
    # chain is stopped at the first stage that inflates past the cap.
    cap = limits.max_decompressed_bytes
    return {
        "zlib_maximum_output_length": cap,
        "lzw_maximum_output_length": cap,
        "run_length_maximum_output_length": cap,
        "brotli_maximum_output_length": cap,
        "jbig2_maximum_output_length": cap,
        "array_based_stream_maximum_output_length": cap,
        "image_maximum_buffer_size": cap,
        "maximum_declared_stream_length": cap,
        "stream_decoding_work_maximum_length": cap,
        "xmp_maximum_input_length": min(cap, 5_000_000),
    }


def _refuse_trailing_zip(stream: BinaryIO) -> None:
    # A ZIP is read from its end and a PDF from its start, so a ZIP appended to a PDF makes a
    # polyglot that the 64 KiB head the type was sniffed from cannot show. zipfile.is_zipfile
    # would accept any "PK\5\6" in the last 64 KiB (1 PDF in ~65,000 by chance); a central
    # directory with a real entry is needed here.
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            is_zip = bool(archive.infolist())
    except Exception:  # whatever zipfile trips on, the tail is not a readable archive
        is_zip = False
    stream.seek(0)
    if is_zip:
        raise TypeMismatch(
            "the PDF is also a ZIP archive (a polyglot file); re-export the document as a plain PDF"
        )


@contextlib.contextmanager
def _pypdf_silenced() -> Iterator[None]:
    # pypdf logs its recoveries from damage as warnings, and the messages quote the bytes around
    # the damage: document text. Nothing of a document may reach a log.
    logger = logging.getLogger("pypdf")
    previous = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _read_pdf(stream: BinaryIO, limits: Limits) -> Extracted:
    reader = pypdf.PdfReader(stream, strict=False)
    if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
        raise MalformedDocument("the PDF is password-protected; remove the password and upload it again")
    page_count = len(reader.pages)
    check_page_count(page_count, limits)
    pages: list[Page] = []
    dropped = 0
    for number, page in enumerate(reader.pages, start=1):
        text, removed = clean_text(page.extract_text())
        dropped += removed
        pages.append(Page(number, text))
    title = _pdf_title(reader) or first_line("\n".join(page.text for page in pages))
    return Extracted(Format.PDF, title=title, pages=tuple(pages), notes=dropped_note(dropped))


def _pdf_title(reader: pypdf.PdfReader) -> str | None:
    metadata = reader.metadata
    title = metadata.title if metadata is not None else None
    if not isinstance(title, str):
        return None
    return shorten(clean_text(title)[0])
