"""Word (DOCX) court records: the ZIP container checked entry by entry before anything is
inflated, then paragraphs and table cells in document order, split into pages.

Run in the sandboxed child process like the PDF parser (``vault._ingest._records``), with every
limit set, so a bomb is refused with a clear message before the sandbox has to kill anything.
"""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

import docx
from docx.document import Document as WordDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement

from vault._ingest._limits import MiB, Limits
from vault._ingest._model import Extracted, Format, Page
from vault._ingest._records import check_page_count, clean_text, dropped_note, first_line, shorten
from vault.errors import IngestError, MalformedDocument, ParserLimitExceeded


def parse_docx(stream: BinaryIO, limits: Limits = Limits()) -> Extracted:
    """A Word (DOCX) court record: paragraphs and table cells in document order.

    The ZIP container is checked entry by entry before anything is inflated (entry count,
    declared sizes, compression ratios, overlapping entries, unsafe or duplicate names, symbolic
    links). A hard page break, a paragraph set to start on a new page and a section break start a
    new page.
    """
    _inspect_zip(stream, limits)
    stream.seek(0)
    try:
        document = docx.Document(stream)
        pages, notes = _docx_pages(document.element.body, limits)
        title = _docx_title(document) or first_line("\n".join(pages))
    except IngestError:
        raise
    except MemoryError:
        raise ParserLimitExceeded("the document needs more memory to read than the limits allow") from None
    except Exception:
        # python-docx and lxml raise KeyError, ValueError, XMLSyntaxError and others on damaged
        # packages; their messages may quote the file.
        raise MalformedDocument(
            "the file is not a Word document that can be read (damaged, or another kind of Office "
            "file); open it in Word or LibreOffice and save it again as .docx"
        ) from None
    return Extracted(
        Format.DOCX,
        title=title,
        pages=tuple(Page(number, page) for number, page in enumerate(pages, start=1)),
        notes=notes,
    )


_LOCAL_HEADER_BYTES = 30  # fixed part of a ZIP local file header, before the name and extra field


def _inspect_zip(stream: BinaryIO, limits: Limits) -> None:
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise MalformedDocument(
            "the file is not a readable Word document (its ZIP container is damaged); save it again as .docx"
        ) from None
    with archive:
        entries = archive.infolist()

    if len(entries) > limits.max_zip_entries:
        raise ParserLimitExceeded(
            f"the document's archive has more than {limits.max_zip_entries} entries; "
            "a Word document needs far fewer, so it was refused"
        )
    if sum(entry.file_size for entry in entries) > limits.max_decompressed_bytes:
        raise ParserLimitExceeded(
            f"the document would inflate to more than {limits.max_decompressed_bytes // MiB} MiB; "
            "it was refused as a possible decompression bomb"
        )
    names: set[str] = set()
    for entry in entries:
        _check_entry(entry, names, limits)
        names.add(entry.filename)
    _refuse_overlapping_entries(entries)
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise MalformedDocument(
            "the ZIP archive is not a Word document (it has no word/document.xml); save it as .docx"
        )
    # Python's zipfile stops inflating an entry at its declared size, so the declared sizes
    # checked here bound what python-docx can make it inflate.


def _check_entry(entry: zipfile.ZipInfo, seen: set[str], limits: Limits) -> None:
    name = entry.filename
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or ".." in parts or re.match(r"[A-Za-z]:", name):
        raise MalformedDocument(
            "the document's archive holds an entry with an unsafe path (absolute or going up with ..); "
            "it was refused"
        )
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise MalformedDocument("the document's archive holds a symbolic link; it was refused")
    if name in seen:
        raise MalformedDocument(
            "the document's archive holds two entries with the same name (a file built to be read "
            "differently by different programs); it was refused"
        )
    if entry.flag_bits & 0x1:
        raise MalformedDocument("the document is password-protected; remove the password and upload it again")
    # XML compresses about 10:1 and images barely at all; a small entry may compress very well
    # without harm, so only entries over 1 MiB are judged by their ratio.
    if entry.file_size > MiB and entry.file_size > limits.max_compression_ratio * max(entry.compress_size, 1):
        raise ParserLimitExceeded(
            f"an entry of the document's archive inflates more than {limits.max_compression_ratio} "
            "times (a decompression bomb); it was refused"
        )


def _refuse_overlapping_entries(entries: list[zipfile.ZipInfo]) -> None:
    # A bomb can point many central-directory entries at one compressed stream (Fifield's
    # "better zip bomb"). Each entry's local header and data must end before the next begins; the
    # local extra field is not counted, so the check can only under-estimate an entry's extent.
    ordered = sorted(entries, key=lambda entry: entry.header_offset)
    for current, following in zip(ordered, ordered[1:]):
        name_bytes = len(current.filename.encode("utf-8" if current.flag_bits & 0x800 else "cp437", "replace"))
        end = current.header_offset + _LOCAL_HEADER_BYTES + name_bytes + current.compress_size
        if end > following.header_offset:
            raise ParserLimitExceeded(
                "entries of the document's archive overlap (a decompression bomb); it was refused"
            )


def _docx_title(document: WordDocument) -> str | None:
    # python-docx invents core properties (title "Word Document") for a package without them, so
    # they are read only when the package has its own.
    package = document.part.package
    if not any(rel.reltype == RELATIONSHIP_TYPE.CORE_PROPERTIES for rel in package.rels.values()):
        return None
    return shorten(document.core_properties.title)


_W_P = qn("w:p")
_W_T = qn("w:t")
_W_TAB = qn("w:tab")
_W_TABS = qn("w:tabs")
_W_BR = qn("w:br")
_W_CR = qn("w:cr")
_W_NO_BREAK_HYPHEN = qn("w:noBreakHyphen")
_W_TR = qn("w:tr")
_W_TC = qn("w:tc")
_W_PPR = qn("w:pPr")
_W_PAGE_BREAK_BEFORE = qn("w:pageBreakBefore")
_W_SECT_PR = qn("w:sectPr")
_W_TYPE = qn("w:type")
_W_VAL = qn("w:val")

# What the walk over a DOCX body yields: text, or one of these marks.
_PARAGRAPH = "paragraph"
_CELL = "cell"
_PAGE = "page"


def _docx_pages(body: BaseOxmlElement, limits: Limits) -> tuple[list[str], tuple[str, ...]]:
    """Cut the body into pages of lines, one line per paragraph and one per table row."""
    pages: list[list[str]] = [[]]
    line: list[str] = []
    in_later_cell = False  # the next paragraph opens the second or later cell of a table row
    section_ended = False  # the last paragraph ended a section, so the next one opens a page

    def break_line() -> None:
        pages[-1].append("".join(line))
        line.clear()

    def break_page() -> None:
        break_line()
        pages.append([])
        check_page_count(len(pages), limits)

    for mark, value in _docx_events(body):
        if mark == _PARAGRAPH:
            paragraph_properties = value.find(_W_PPR)
            if section_ended or _starts_page(paragraph_properties):
                break_page()
            elif in_later_cell:
                line.append("\t")  # cells of a row share a line, so a row reads across
            else:
                break_line()
            in_later_cell = False
            section_ended = _ends_section(paragraph_properties)
        elif mark == _CELL:
            in_later_cell = True
        elif mark == _PAGE:
            break_page()
        else:
            line.append(value)
    break_line()

    texts: list[str] = []
    dropped = 0
    for page in pages:
        text, removed = clean_text("\n".join(page).strip("\n"))
        texts.append(text)
        dropped += removed
    while len(texts) > 1 and not texts[-1].strip():
        texts.pop()  # a break after the last paragraph opens no page
    return texts, dropped_note(dropped)


def _docx_events(body: BaseOxmlElement) -> Iterator[tuple[str, Any]]:
    """The body's paragraphs, cells, breaks and text in document order.

    One pass of lxml's iterator, so a hostile nesting depth costs no Python recursion. Text in
    tracked insertions, hyperlinks, content controls and text boxes is included; deleted text
    (w:delText) and field codes (w:instrText) are not.
    """
    first_cell_of_row = False
    tags = (_W_P, _W_T, _W_TAB, _W_BR, _W_CR, _W_NO_BREAK_HYPHEN, _W_TR, _W_TC)
    for element in body.iter(*tags):
        tag = element.tag
        if tag == _W_P:
            yield _PARAGRAPH, element
        elif tag == _W_T:
            yield "text", element.text or ""
        elif tag == _W_TAB:
            if element.getparent().tag != _W_TABS:  # a tab character, not a tab stop
                yield "text", "\t"
        elif tag == _W_BR:
            kind = element.get(_W_TYPE)
            if kind == "page":
                yield _PAGE, None
            elif kind != "column":
                yield "text", "\n"
        elif tag == _W_CR:
            yield "text", "\n"
        elif tag == _W_NO_BREAK_HYPHEN:
            yield "text", "-"
        elif tag == _W_TR:
            first_cell_of_row = True
        elif tag == _W_TC:
            if not first_cell_of_row:
                yield _CELL, None
            first_cell_of_row = False


def _starts_page(paragraph_properties: BaseOxmlElement | None) -> bool:
    if paragraph_properties is None:
        return False
    flag = paragraph_properties.find(_W_PAGE_BREAK_BEFORE)
    return flag is not None and flag.get(_W_VAL, "true") not in ("0", "false", "off")


def _ends_section(paragraph_properties: BaseOxmlElement | None) -> bool:
    # A section's properties sit in its last paragraph; every section type but "continuous"
    # (and "nextColumn") starts the next section on a new page.
    if paragraph_properties is None:
        return False
    section = paragraph_properties.find(_W_SECT_PR)
    if section is None:
        return False
    kind = section.find(_W_TYPE)
    return kind is None or kind.get(_W_VAL) not in ("continuous", "nextColumn")
