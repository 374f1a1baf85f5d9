"""The pure parsers of the ingest pipeline: decode, sniff, transcripts and court records.

Every input is built here (fpdf2 for PDFs, python-docx and zipfile for DOCX), so nothing binary is
committed. Each refusal is checked for its exact error class and for not quoting the file: the
hostile inputs carry the name ``Karimov``, which must never appear in a message.
"""

from __future__ import annotations

import io
import json
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import docx
import pytest
from docx.enum.text import WD_BREAK
from fpdf import FPDF

from vault._ingest._decode import decode_text
from vault._ingest._limits import Limits
from vault._ingest._model import Format, Page, Turn
from vault._ingest._docx import parse_docx
from vault._ingest._records import parse_html, parse_pdf, parse_text_record
from vault._ingest._sniff import sniff
from vault._ingest._transcripts import (
    looks_like_transcript,
    parse_json_transcript,
    parse_srt,
    parse_transcript_text,
    parse_webvtt,
)
from vault.errors import (
    EncodingFailed,
    InvalidInput,
    MalformedDocument,
    ParserLimitExceeded,
    TypeMismatch,
    UnsupportedType,
    VaultError,
)

SECRET = "Karimov"


def refused(error_type: type[VaultError], call: Callable[..., Any], *args: Any, **kwargs: Any) -> VaultError:
    """Call, expect exactly ``error_type``, and check the message does not quote the file."""
    with pytest.raises(VaultError) as caught:
        call(*args, **kwargs)
    error = caught.value
    assert type(error) is error_type, f"expected {error_type.__name__}, got {type(error).__name__}: {error.message}"
    assert SECRET not in error.message, f"the message quotes the file: {error.message!r}"
    assert error.message, "a refusal must say what is wrong"
    return error


def short_id(value: object) -> str | None:
    """Test ids that fit on a line: the first bytes of a file, the start of a long name."""
    if isinstance(value, bytes):
        return repr(value[:12])[2:-1]
    if isinstance(value, str) and len(value) > 24:
        return value[:20] + "..."
    return None


# -- fixtures built in memory ------------------------------------------------------------------


def make_pdf(pages: list[list[str]], *, title: str | None = None, user_password: str | None = None,
             owner_password: str | None = None) -> bytes:
    pdf = FPDF()
    if title is not None:
        pdf.set_title(title)
    if owner_password is not None:
        pdf.set_encryption(owner_password=owner_password, user_password=user_password)
    pdf.set_font("helvetica", size=12)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(text=line)
            pdf.ln()
    return bytes(pdf.output())


THREE_PAGES = [
    ["Tribunal de grande instance", "Témoin : Gérard Hélène"],
    ["Deuxième page", "Audience du 3 mars"],
    ["Troisième page"],
]


def raw_pdf(content: bytes, filters: str = "") -> bytes:
    """A one-page PDF written by hand, whose content stream is ``content`` encoded with ``filters``."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d %s >>\nstream\n" % (len(content), filters.encode()) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_docx(*, title: str | None = "Arrêt n° 12", page_breaks: int = 1) -> bytes:
    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    document.add_paragraph("Cour d'appel de Paris")
    paragraph = document.add_paragraph("Le témoin Gérard Hélène ")
    paragraph.add_run("déclare.")
    for number in range(page_breaks):
        paragraph = document.add_paragraph()
        paragraph.add_run().add_break(WD_BREAK.PAGE)
        paragraph.add_run(f"Page {number + 2}.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Juge"
    table.cell(0, 1).text = "Gérard Hélène"
    table.cell(1, 0).text = "Greffier"
    table.cell(1, 1).text = "Anna Novák"
    document.add_paragraph("Fin de l'arrêt.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


DOCX_SKELETON = [("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>")]


# -- decode_text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "legacy", "text", "label"),
    [
        # UTF-8, with and without a byte-order mark
        ("Gérard Hélène".encode(), "cp1252", "Gérard Hélène", "utf-8"),
        (b"\xef\xbb\xbf" + "Gérard Hélène".encode(), "cp1252", "Gérard Hélène", "utf-8"),
        # UTF-16 and UTF-32 with a byte-order mark
        (b"\xff\xfe" + "Gérard Hélène".encode("utf-16-le"), "cp1252", "Gérard Hélène", "utf-16-le"),
        (b"\xfe\xff" + "Gérard Hélène".encode("utf-16-be"), "cp1252", "Gérard Hélène", "utf-16-be"),
        (b"\xff\xfe\x00\x00" + "Hélène".encode("utf-32-le"), "cp1252", "Hélène", "utf-32-le"),
        # legacy single-byte files, recorded in the label
        ("Gérard Hélène – “cité”".encode("cp1252"), "cp1252", "Gérard Hélène – “cité”", "cp1252 (legacy fallback)"),
        ("Gérard Hélène".encode("latin-1"), "latin-1", "Gérard Hélène", "latin-1 (legacy fallback)"),
        # newlines normalised, NFD turned into NFC, form feeds kept as page separators
        (b"a\r\nb\rc\fd", "cp1252", "a\nb\nc\fd", "utf-8"),
        ("He\u0301le\u0300ne".encode(), None, "Hélène", "utf-8"),
    ],
    ids=short_id,
)
def test_decode_text_accepts(data: bytes, legacy: str | None, text: str, label: str) -> None:
    assert decode_text(data, legacy_encoding=legacy) == (text, label)


@pytest.mark.parametrize(
    ("data", "legacy", "says"),
    [
        # not UTF-8, and no legacy encoding to fall back on
        (f"{SECRET} Hélène".encode("latin-1"), None, "no legacy encoding configured"),
        # valid UTF-8 and Latin-1 in one file: never guessed
        (f"{SECRET} Hélène ".encode() + "Gérard".encode("latin-1"), "cp1252", "mixes UTF-8"),
        # bytes cp1252 leaves undefined
        (f"{SECRET} \x81".encode("latin-1"), "cp1252", "cp1252"),
        # NUL, other control characters, and UTF-16 without a byte-order mark
        (f"{SECRET}\x00".encode(), "cp1252", "NUL"),
        (f"{SECRET}\x1b[31m".encode(), "cp1252", "U+001B"),
        (f"{SECRET}\x85".encode(), "cp1252", "U+0085"),
        (SECRET.encode("utf-16-le"), "cp1252", "NUL"),
        # a lone surrogate in UTF-16, and a truncated UTF-16 file
        (b"\xff\xfe" + SECRET.encode("utf-16-le") + b"\x00\xd8" + b"a\x00", "cp1252", "lone surrogate"),
        (b"\xff\xfe" + SECRET.encode("utf-16-le") + b"a", "cp1252", "truncated"),
        # a UTF-8 byte-order mark is a promise: no fallback after it
        (b"\xef\xbb\xbf" + f"{SECRET} Hélène".encode("latin-1"), "cp1252", "UTF-8 byte-order mark"),
        # surrogates encoded in UTF-8 (CESU) are invalid UTF-8, and look like UTF-8 to nobody
        (SECRET.encode() + b"\xed\xa0\x80", None, "no legacy encoding"),
    ],
    ids=short_id,
)
def test_decode_text_refuses(data: bytes, legacy: str | None, says: str) -> None:
    error = refused(EncodingFailed, decode_text, data, legacy_encoding=legacy)
    assert says in error.message
    assert error.code == "ENCODING"


@pytest.mark.parametrize("legacy", ["no-such-codec", "base64"])
def test_decode_text_refuses_a_bad_legacy_setting_as_configuration(legacy: str) -> None:
    with pytest.raises(InvalidInput):
        decode_text(b"abc", legacy_encoding=legacy)


# -- sniff -----------------------------------------------------------------------------------------

PDF = make_pdf(THREE_PAGES, title="Jugement")
DOCX = make_docx()
SRT_TEXT = "1\n00:00:01,000 --> 00:00:02,500\nH: Hello\n\n2\n00:00:03,000 --> 00:00:04,000\n[MA] Yes\n"
VTT_TEXT = "WEBVTT\n\n00:00:01.500 --> 00:00:02.250\n<v H>Hello\n"


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        # each format by its content, with its own extension and with none
        (PDF, "jugement.pdf", Format.PDF),
        (PDF, None, Format.PDF),
        (PDF, "JUGEMENT.PDF", Format.PDF),
        (DOCX, "arret.docx", Format.DOCX),
        (DOCX, "arret", Format.DOCX),
        (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "a.html", Format.HTML),
        (b"  <P>fragment</P>", "a.htm", Format.HTML),
        (b"\xef\xbb\xbfWEBVTT\n\n", "a.vtt", Format.WEBVTT),
        (VTT_TEXT.encode(), None, Format.WEBVTT),
        (SRT_TEXT.encode(), "a.srt", Format.SRT),
        (b'{"segments": []}', "a.json", Format.JSON),
        (b' [{"start": 0, "end": 1, "text": "x"}]', None, Format.JSON),
        (b"H: Hello\nMA: Yes\n", "call.txt", Format.TEXT),
        (b"[00:01:07] MA: a bracket is not JSON\n", "call.txt", Format.TEXT),
        ("Jugement\fPage 2".encode("cp1252"), "a.txt", Format.TEXT),
        (b"\xff\xfe" + "Jugement Hélène".encode("utf-16-le"), "a.txt", Format.TEXT),
        # UTF-16 without a byte-order mark, or a stray NUL: text, for decode_text to refuse by name
        ("Jugement".encode("utf-16-le"), "a.txt", Format.TEXT),
        (b"H: hello\x00world\n", "a.txt", Format.TEXT),
        # the name is only read for its last extension, never used as a path
        (PDF, "../../x.pdf", Format.PDF),
        (PDF, "C:\\Users\\x\\..\\a.pdf", Format.PDF),
        (b"root:x:0:0", "/etc/passwd", Format.TEXT),
        (b"plain", "CON", Format.TEXT),
        (b"plain", "x" * 5000 + ".txt", Format.TEXT),
        # both readings of a name with a NUL agree with the content
        (PDF, "a.pdf\0.exe", Format.PDF),
        (b"H: Hello\nMA: Yes\n", "a.txt\0.exe", Format.TEXT),
        # U+202E shows "invoiceexe.pdf"; the real extension is ".exe", unknown, so the content decides
        (PDF, "invoice\u202efdp.exe", Format.PDF),
    ],
    ids=short_id,
)
def test_sniff_decides_from_content(head: bytes, name: str | None, expected: Format) -> None:
    assert sniff(head[: 64 * 1024], name) is expected


POLYGLOT_PDF_ZIP = PDF[:9] + b"%PK\x03\x04\n" + PDF[9:]
POLYGLOT_PDF_HTML = PDF[:9] + b"%<html><script>alert(1)</script>\n" + PDF[9:]
HIDDEN_PDF_HEADER = b"<html><!-- " + SECRET.encode() + b" -->\n" + PDF


def _stored_zip(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("head", "name", "error_type", "says"),
    [
        # the name and the content disagree
        (PDF, "arret.docx", TypeMismatch, "name says a Word document (.docx) but the content is PDF"),
        (DOCX, "jugement.pdf", TypeMismatch, "name says PDF (.pdf) but the content is a ZIP archive"),
        (SECRET.encode(), "jugement.pdf", TypeMismatch, "content is plain text"),
        # text with a stray NUL is text: decode_text refuses it as an encoding problem
        (f"H: {SECRET}\x00\n".encode(), "a.pdf", TypeMismatch, "content is plain text"),
        (SRT_TEXT.encode(), "call.txt", TypeMismatch, "content is SRT"),
        (b"<html><body>" + SECRET.encode(), "a.txt", TypeMismatch, "content is HTML"),
        (PDF, "a.json", TypeMismatch, "name says JSON"),
        # "a.pdf\0.exe" is "a.pdf" to C code: never a PDF by name
        (SECRET.encode(), "a.pdf\0.exe", TypeMismatch, "name says PDF (.pdf) but the content is plain text"),
        (b"MZ\x90\x00\x03\x00" + SECRET.encode(), "a.pdf\0.exe", UnsupportedType, "NUL bytes"),
        (SECRET.encode(), "a.pdf. ", TypeMismatch, "name says PDF (.pdf)"),  # Windows reads "a.pdf"
        # polyglots
        (POLYGLOT_PDF_ZIP, "a.pdf", TypeMismatch, "also contains a ZIP archive"),
        (POLYGLOT_PDF_HTML, "a.pdf", TypeMismatch, "HTML or script"),
        (_stored_zip([*DOCX_SKELETON, ("word/media/x.pdf", PDF)]), "a.docx", TypeMismatch, "PDF header"),
        (HIDDEN_PDF_HEADER, None, TypeMismatch, "hides a PDF header"),
        # not a type we take
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + SECRET.encode(), "scan.png", UnsupportedType, "PNG image"),
        (b"\x7fELF\x02\x01\x01\x00", None, UnsupportedType, "executable"),
        (b"\x1f\x8b\x08\x00" + SECRET.encode(), "a.txt", UnsupportedType, "gzip"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + SECRET.encode(), "a.exe", UnsupportedType, "NUL bytes"),
        (f"{SECRET} Hélène\x00".encode("cp1252"), None, UnsupportedType, "NUL bytes"),
        (b"{\\rtf1\\ansi " + SECRET.encode(), "a.rtf", UnsupportedType, "RTF"),
        (make_zip([("notes/" + SECRET + ".txt", b"x")]), "a.zip", UnsupportedType, "ZIP archive, not a Word document"),
        (make_zip([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<x/>")]), "a.xlsx",
         UnsupportedType, "Excel or PowerPoint"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "a.doc", UnsupportedType, "legacy Office"),
    ],
    ids=short_id,
)
def test_sniff_refuses(head: bytes, name: str | None, error_type: type[VaultError], says: str) -> None:
    error = refused(error_type, sniff, head[: 64 * 1024], name)
    assert says in error.message
    assert "accepted types" in error.message or error_type is TypeMismatch


def test_sniff_says_which_types_are_accepted() -> None:
    error = refused(UnsupportedType, sniff, b"\x89PNG\r\n\x1a\n", None)
    assert "PDF, DOCX, HTML, plain text, WebVTT, SRT or JSON" in error.message


def test_sniff_refuses_an_empty_file() -> None:
    refused(MalformedDocument, sniff, b"", "a.txt")


# -- transcripts: plain text --------------------------------------------------------------------

TRANSCRIPT = """\
Call of 3 March, line 2
H: Hello, is that you?
[00:01:07] MA: Yes. I am at the office
  of Gérard Hélène.
[01:09] Caller 2: I can hear you.
(00:01:20) H: Send it to https://example.org/x
00:01:30.5 Gérard Hélène: Bye.
张三：你好
00:02:00 (inaudible)
"""


def test_transcript_text_round_trip() -> None:
    extracted = parse_transcript_text(TRANSCRIPT)
    assert extracted.format is Format.TRANSCRIPT_TEXT
    assert extracted.turns == (
        Turn(0, None, None, None, "Call of 3 March, line 2"),
        Turn(1, "H", None, None, "Hello, is that you?"),
        Turn(2, "MA", 67_000, 69_000, "Yes. I am at the office\nof Gérard Hélène."),
        Turn(3, "Caller 2", 69_000, 80_000, "I can hear you."),
        Turn(4, "H", 80_000, 90_500, "Send it to https://example.org/x"),
        Turn(5, "Gérard Hélène", 90_500, None, "Bye."),
        Turn(6, "张三", None, None, "你好"),
        Turn(7, None, 120_000, None, "(inaudible)"),
    )


@pytest.mark.parametrize(
    ("line", "speaker", "start_ms"),
    [
        ("H: Hello", "H", None),
        ("[00:01:07] MA: Hello", "MA", 67_000),
        ("[01:07] Caller 2: Hello", "Caller 2", 67_000),
        ("(00:01:07) H: Hello", "H", 67_000),
        ("00:01:07 H: Hello", "H", 67_000),
        ("[1:02:03,250] Dr. O'Brien-Smith: Hello", "Dr. O'Brien-Smith", 3_723_250),
        ("SPEAKER_00: Hello", "SPEAKER_00", None),
        ("Hélène Ñúñez: Hello", "Hélène Ñúñez", None),
    ],
)
def test_transcript_text_prefix_shapes(line: str, speaker: str, start_ms: int | None) -> None:
    (turn,) = parse_transcript_text(line).turns
    assert (turn.speaker, turn.start_ms, turn.end_ms, turn.text) == (speaker, start_ms, None, "Hello")


@pytest.mark.parametrize(
    "line",
    [
        "https://example.org is where it is",  # a URL scheme is not a speaker
        "tel: +33 1 23 45 67 89",
        "14.30: the hearing resumes",  # a time of day is not a speaker
        "2024: a year",
        "A label far longer than forty characters in total: text",
        "no colon at all",
    ],
)
def test_transcript_text_lines_without_a_speaker(line: str) -> None:
    assert parse_transcript_text("H: first\n" + line).turns == (Turn(0, "H", None, None, "first\n" + line),)


def test_transcript_text_time_out_of_range_is_refused() -> None:
    error = refused(MalformedDocument, parse_transcript_text, f"[00:61:00] H: {SECRET}")
    assert "line 1" in error.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TRANSCRIPT, True),
        ("H: one\nMA: two\n", True),
        ("H: only one speaker line\n", False),
        # a court record with the odd "Article 1:" line stays a court record
        ("JUDGMENT\nThe court, having heard\nArticle 1: the appeal\nis dismissed.\nArticle 2: costs\n"
         "are borne by the appellant.\nDone at Paris.\n", False),
        ("", False),
    ],
)
def test_looks_like_transcript(text: str, expected: bool) -> None:
    assert looks_like_transcript(text) is expected


# -- transcripts: WebVTT, SRT, JSON -------------------------------------------------------------


def test_webvtt_round_trip() -> None:
    text = (
        "WEBVTT - call 12\n\n"
        "NOTE recorded by the team\n\n"
        "1\n00:00:01.500 --> 00:00:02.250 align:start\n<v Gérard Hélène>Bonjour &amp; <b>bienvenue</b></v>\n\n"
        "00:00:03.001 --> 00:00:04.999\n<v.loud Anna>Hi\n<v Bob>Hey there\n\n"
        "00:01:05.000 --> 00:01:06.000\nMA: no voice tag\nsecond line\n\n"
        "00:01:07.000 --> 00:01:08.000\njust text\n\n"
        "00:01:08.000 --> 00:01:08.500\n<v M&amp;S>Oui\n\n"
        "00:01:09.000 --> 00:01:10.000\n\n"
    )
    extracted = parse_webvtt(text)
    assert extracted.format is Format.WEBVTT
    assert extracted.turns == (
        Turn(0, "Gérard Hélène", 1_500, 2_250, "Bonjour & bienvenue"),
        Turn(1, "Anna", 3_001, 4_999, "Hi"),
        Turn(2, "Bob", 3_001, 4_999, "Hey there"),
        Turn(3, "MA", 65_000, 66_000, "no voice tag\nsecond line"),
        Turn(4, None, 67_000, 68_000, "just text"),
        Turn(5, "M&S", 68_000, 68_500, "Oui"),
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f"{SECRET}\n\n00:00:01.000 --> 00:00:02.000\nx\n", "not valid WebVTT"),
        (f"WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\n{SECRET}\n", "cannot be read"),
        (f"WEBVTT\n\n00:00:02.000 --> 00:00:01.000\n{SECRET}\n", "ends before it starts"),
    ],
)
def test_webvtt_refuses(text: str, says: str) -> None:
    assert says in refused(MalformedDocument, parse_webvtt, text).message


def test_srt_round_trip() -> None:
    text = (
        "1\n00:00:01,000 --> 00:00:02,500\nH: Hello <i>there</i>\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\n[Gérard Hélène] Oui\nstill him\n\n"
        "3\n00:00:05,000 --> 00:00:06,000\n[Music]\n\n"
        "4\n00:00:07,000 --> 00:00:08,000\nA: one\nB: two\n\n"
    )
    extracted = parse_srt(text)
    assert extracted.format is Format.SRT
    assert extracted.turns == (
        Turn(0, "H", 1_000, 2_500, "Hello there"),
        Turn(1, "Gérard Hélène", 3_000, 4_000, "Oui\nstill him"),
        Turn(2, None, 5_000, 6_000, "[Music]"),
        Turn(3, "A", 7_000, 8_000, "one"),
        Turn(4, "B", 7_000, 8_000, "two"),
    )


@pytest.mark.parametrize(
    "text",
    [
        f"{SECRET} is not a subtitle block\n\n1\n00:00:01,000 --> 00:00:02,000\nok\n",
        f"1\n00:00:02,000 --> 00:00:01,000\n{SECRET}\n",
        f"1\n99999999999999999999:00:00,000 --> 00:00:05,000\n{SECRET}\n",
    ],
)
def test_srt_refuses(text: str) -> None:
    refused(MalformedDocument, parse_srt, text)


def test_json_round_trip_list_shape() -> None:
    segments = [
        {"start": 0.5, "end": 1.25, "text": " Bonjour ", "speaker": "Gérard Hélène"},
        {"start": 2, "end": "00:00:03.500", "text": "Yes", "speaker_label": "SPEAKER_01"},
        {"start": "00:01:07.000", "end": 68.0, "text": "no speaker", "speaker": None},
        {"start": 70, "end": 71, "text": "   "},
    ]
    extracted = parse_json_transcript(json.dumps(segments))
    assert extracted.format is Format.JSON
    assert extracted.turns == (
        Turn(0, "Gérard Hélène", 500, 1_250, "Bonjour"),
        Turn(1, "SPEAKER_01", 2_000, 3_500, "Yes"),
        Turn(2, None, 67_000, 68_000, "no speaker"),
    )


def test_json_round_trip_whisper_shape() -> None:
    whisper = {
        "text": "Hello. Hi.",
        "language": "en",
        "segments": [
            {"id": 0, "start": 0.0, "end": 1.2, "text": " Hello.", "speaker": "SPEAKER_00", "words": []},
            {"id": 1, "start": 1.2, "end": 2.0, "text": " Hi.", "speaker": "SPEAKER_01"},
        ],
    }
    assert parse_json_transcript(json.dumps(whisper)).turns == (
        Turn(0, "SPEAKER_00", 0, 1_200, "Hello."),
        Turn(1, "SPEAKER_01", 1_200, 2_000, "Hi."),
    )


def _segment(**fields: Any) -> str:
    base: dict[str, Any] = {"start": 1, "end": 2, "text": SECRET}
    base.update(fields)
    return json.dumps([{"start": 0, "end": 1, "text": "fine"}, base])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (_segment(start=True), 'segment 1: "start" must be a number'),
        (_segment(end=None), 'segment 1: "end" must be a number'),
        (_segment(start=-1), 'segment 1: "start" must be a finite, non-negative'),
        (_segment(start=1e300), 'segment 1: "start" must be a finite, non-negative'),
        (_segment(start="soon"), 'segment 1: "start" must be seconds or a time'),
        (_segment(start=3), 'segment 1: "end" is before "start"'),
        (_segment(text=42), 'segment 1: "text" must be a string'),
        (_segment(speaker=7), 'segment 1: "speaker" must be a string'),
        (_segment(speaker_label=["x"]), 'segment 1: "speaker_label" must be a string'),
        (json.dumps([{"start": 0, "end": 1, "text": "fine"}, SECRET]), "segment 1 is not an object"),
        ('[{"start": NaN, "end": 1, "text": "%s"}]' % SECRET, "not valid JSON"),
        ('[{"start": 1e999, "end": 1, "text": "%s"}]' % SECRET, "finite, non-negative"),
        ('[{"start": 0, "end": 1, "text": "a", "text": "%s"}]' % SECRET, "not valid JSON"),
        ('[{"start": 0, "end": 1, "text": "%s"' % SECRET, "not valid JSON at line 1"),
        (json.dumps({"results": [SECRET]}), 'a "segments" list'),
        (json.dumps(SECRET), 'a "segments" list'),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_json_refuses(text: str, says: str) -> None:
    assert says in refused(MalformedDocument, parse_json_transcript, text).message


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_transcript_text, "H: a\nMA: b\nH: c\n"),
        (parse_webvtt, "WEBVTT\n\n" + "".join(f"00:00:0{n}.000 --> 00:00:0{n}.500\nx\n\n" for n in range(3))),
        (parse_srt, "".join(f"{n}\n00:00:0{n},000 --> 00:00:0{n},500\nx\n\n" for n in range(1, 4))),
        (parse_json_transcript, json.dumps([{"start": n, "end": n + 1, "text": "x"} for n in range(3)])),
    ],
)
def test_every_transcript_parser_enforces_max_turns(parse: Callable[..., Any], text: str) -> None:
    assert len(parse(text, limits=Limits(max_turns=3)).turns) == 3
    refused(ParserLimitExceeded, parse, text, limits=Limits(max_turns=2))


# -- court records: text and HTML -------------------------------------------------------------


def test_text_record_round_trip() -> None:
    extracted = parse_text_record("\n  Jugement du 3 mars  \nGérard Hélène\fPage deux\f\fPage quatre\f")
    assert extracted.format is Format.TEXT
    assert extracted.title == "Jugement du 3 mars"
    assert extracted.pages == (
        Page(1, "\n  Jugement du 3 mars  \nGérard Hélène"),
        Page(2, "Page deux"),
        Page(3, ""),
        Page(4, "Page quatre"),
    )


def test_text_record_title_is_at_most_200_characters() -> None:
    assert parse_text_record("x" * 500).title == "x" * 200


def test_text_record_page_limit() -> None:
    refused(ParserLimitExceeded, parse_text_record, "a\fb\fc", limits=Limits(max_pages=2))


def test_text_record_is_nfc() -> None:
    assert parse_text_record("He\u0301le\u0300ne").pages[0].text == "Hélène"


HTML = """<!DOCTYPE html>
<html><head><title> Arrêt   n° 12 </title>
<style>p { color: red }</style><script>var secret = "script text";</script>
<meta charset="utf-8">
</head>
<body>
<h1>Cour d'appel</h1>
<p>Le témoin   Gérard&nbsp;Hélène<br>a déclaré&nbsp;: &laquo;&#160;non&#160;&raquo;.</p>
<template><p>template text</p></template>
<table><tr><th>Juge</th><td>Anna Novák</td></tr></table>
<div style="page-break-before: always">Deuxième <b>page</b></div>
<ul><li>un</li><li>deux</li></ul>
<section style="break-before: page">Troisième</section>
</body></html>"""


def test_html_round_trip() -> None:
    extracted = parse_html(HTML)
    assert extracted.format is Format.HTML
    assert extracted.title == "Arrêt n° 12"
    assert extracted.pages == (
        Page(1, "Cour d'appel\nLe témoin Gérard Hélène\na déclaré : « non ».\nJuge Anna Novák"),
        Page(2, "Deuxième page\nun\ndeux"),
        Page(3, "Troisième"),
    )


def test_html_title_falls_back_to_the_first_h1_and_an_unclosed_head_ends_at_body() -> None:
    extracted = parse_html("<html><head><meta x><body><h1>Décision  42</h1><p>texte</p>")
    assert extracted.title == "Décision 42"
    assert extracted.pages == (Page(1, "Décision 42\ntexte"),)


def test_html_unclosed_title_does_not_swallow_the_body() -> None:
    extracted = parse_html("<title>Arrêt<p>Gérard Hélène</p>")
    assert (extracted.title, extracted.pages) == ("Arrêt", (Page(1, "Gérard Hélène"),))


# -- court records: PDF ---------------------------------------------------------------------------


def test_pdf_round_trip() -> None:
    extracted = parse_pdf(io.BytesIO(PDF), Limits())
    assert extracted.format is Format.PDF
    assert extracted.title == "Jugement"
    assert extracted.pages == (
        Page(1, "Tribunal de grande instance\nTémoin : Gérard Hélène"),
        Page(2, "Deuxième page\nAudience du 3 mars"),
        Page(3, "Troisième page"),
    )


def test_pdf_title_falls_back_to_the_first_line() -> None:
    assert parse_pdf(io.BytesIO(make_pdf([["  Arrêt  du 3 mars "]])), Limits()).title == "Arrêt du 3 mars"


def test_pdf_with_only_an_owner_password_is_read() -> None:
    # Opens without a password (the owner password only restricts printing or copying).
    extracted = parse_pdf(io.BytesIO(make_pdf([["Gérard Hélène"]], owner_password="owner")), Limits())
    assert extracted.pages == (Page(1, "Gérard Hélène"),)


def test_pdf_with_a_user_password_is_refused() -> None:
    data = make_pdf([[SECRET]], owner_password="owner", user_password="user")
    error = refused(MalformedDocument, parse_pdf, io.BytesIO(data), Limits())
    assert "password-protected" in error.message


def test_pdf_with_a_zip_appended_is_a_polyglot() -> None:
    # Past the 64 KiB head the type is sniffed from, so the parser looks at the end itself.
    polyglot = PDF + b"%" + b"\n" * 70_000 + make_zip([("payload.html", SECRET.encode())])
    error = refused(TypeMismatch, parse_pdf, io.BytesIO(polyglot), Limits())
    assert "polyglot" in error.message


def test_pdf_with_stray_zip_signature_bytes_at_its_end_is_read() -> None:
    # zipfile.is_zipfile says yes to this; a PDF must not be refused for four unlucky bytes.
    data = raw_pdf(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET") + b"%PK\x05\x06" + bytes(range(40)) + b"\n"
    assert zipfile.is_zipfile(io.BytesIO(data))
    assert parse_pdf(io.BytesIO(data), Limits()).pages == (Page(1, "Hello"),)


def test_pdf_over_max_pages_is_refused() -> None:
    error = refused(ParserLimitExceeded, parse_pdf, io.BytesIO(PDF), Limits(max_pages=2))
    assert "more than 2 pages" in error.message


@pytest.mark.parametrize(
    "data",
    [
        PDF[: len(PDF) // 2],  # truncated
        b"%PDF-1.7\n" + SECRET.encode() * 10,  # a header and nothing else
        raw_pdf(b"BT (x) Tj ET").replace(b"/Pages 2 0 R", b"/Pages 9 0 R"),  # a dangling root
        b"",
    ],
)
def test_damaged_pdf_is_malformed(data: bytes) -> None:
    refused(MalformedDocument, parse_pdf, io.BytesIO(data), Limits())


def test_pdf_with_a_prev_loop_is_read_once() -> None:
    data = raw_pdf(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET")
    xref_offset = int(data[data.rindex(b"startxref\n") + 10 :].split(b"\n")[0])
    looped = data.replace(b"/Root 1 0 R >>", b"/Root 1 0 R /Prev %d >>" % xref_offset)
    assert parse_pdf(io.BytesIO(looped), Limits()).pages == (Page(1, "Hello"),)


def test_pdf_recoveries_are_not_logged_with_document_text(caplog: pytest.LogCaptureFixture) -> None:
    # pypdf logs the bytes around damage it recovers from; that would put document text in a log.
    damaged = raw_pdf(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET").replace(b"/Count 1", b"/Count " + SECRET.encode())
    with caplog.at_level("DEBUG"):
        assert parse_pdf(io.BytesIO(damaged), Limits()).pages == (Page(1, "Hello"),)
    assert SECRET not in caplog.text


def test_pdf_flate_bomb_hits_the_decompression_cap() -> None:
    content = b"BT /F1 12 Tf 72 720 Td (" + SECRET.encode() + b") Tj ET\n" + b" " * 2_000_000
    bomb = raw_pdf(zlib.compress(content, 9), "/Filter /FlateDecode")
    assert len(bomb) < 10_000
    # Under the default cap the same file reads; under a small one it is refused.
    assert parse_pdf(io.BytesIO(bomb), Limits()).pages == (Page(1, SECRET),)
    refused(ParserLimitExceeded, parse_pdf, io.BytesIO(bomb), Limits(max_decompressed_bytes=100_000))


def test_pdf_nested_flate_bomb_hits_the_decompression_cap() -> None:
    content = b"BT /F1 12 Tf 72 720 Td (x) Tj ET\n" + b" " * 5_000_000
    bomb = raw_pdf(zlib.compress(zlib.compress(content, 9), 9), "/Filter [/FlateDecode /FlateDecode]")
    assert len(bomb) < 2_000
    refused(ParserLimitExceeded, parse_pdf, io.BytesIO(bomb), Limits(max_decompressed_bytes=1_000_000))


def test_pdf_drops_stray_control_characters_and_says_so() -> None:
    extracted = parse_pdf(io.BytesIO(raw_pdf(b"BT /F1 12 Tf 72 720 Td (A\\000B\\033C) Tj ET")), Limits())
    assert extracted.pages == (Page(1, "ABC"),)
    assert extracted.notes and "2 control characters" in extracted.notes[0]


# -- court records: DOCX ---------------------------------------------------------------------------


def test_docx_round_trip() -> None:
    extracted = parse_docx(io.BytesIO(DOCX), Limits())
    assert extracted.format is Format.DOCX
    assert extracted.title == "Arrêt n° 12"
    assert extracted.pages == (
        Page(1, "Cour d'appel de Paris\nLe témoin Gérard Hélène déclare."),
        Page(2, "Page 2.\nJuge\tGérard Hélène\nGreffier\tAnna Novák\nFin de l'arrêt."),
    )


def test_docx_title_falls_back_to_the_first_paragraph() -> None:
    assert parse_docx(io.BytesIO(make_docx(title=None)), Limits()).title == "Cour d'appel de Paris"


def test_docx_over_max_pages_is_refused() -> None:
    refused(ParserLimitExceeded, parse_docx, io.BytesIO(make_docx(page_breaks=3)), Limits(max_pages=2))


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _duplicate_names() -> bytes:
    with warnings.catch_warnings():
        # zipfile warns when it writes a name twice; writing one twice is the point here.
        warnings.simplefilter("ignore", UserWarning)
        return make_zip([*DOCX_SKELETON, ("word/document.xml", SECRET.encode())])


def _overlapping_entries() -> bytes:
    # Two central-directory entries pointing at one local entry (the "better zip bomb" shape).
    data = bytearray(make_zip([*DOCX_SKELETON, ("word/other.xml", SECRET.encode())]))
    directory = data.index(b"PK\x01\x02")
    first_offset = struct.unpack_from("<I", data, directory + 42)[0]
    last = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, last + 42, first_offset)
    return bytes(data)


def _zip_bomb() -> bytes:
    # one entry of 50 MB of zeros, deflated about a thousand times
    return make_zip([*DOCX_SKELETON, ("word/media/zeros.bin", bytes(50_000_000))])


def _many_entries() -> bytes:
    return make_zip([*DOCX_SKELETON, *((f"word/media/{n}.xml", b"") for n in range(3_000))])


def _with_entry(name: str | zipfile.ZipInfo, data: bytes = SECRET.encode()) -> Callable[[], bytes]:
    return lambda: make_zip([*DOCX_SKELETON, (name, data)])


@pytest.mark.parametrize(
    ("build", "limits", "error_type", "says"),
    [
        pytest.param(_zip_bomb, Limits(), ParserLimitExceeded, "inflates more than 200 times", id="ratio-bomb"),
        pytest.param(_many_entries, Limits(), ParserLimitExceeded, "more than 2000 entries", id="3000-entries"),
        pytest.param(lambda: DOCX, Limits(max_decompressed_bytes=10_000), ParserLimitExceeded,
                     "would inflate to more than", id="declared-size-over-cap"),
        pytest.param(_overlapping_entries, Limits(), ParserLimitExceeded, "overlap", id="overlapping-entries"),
        pytest.param(_with_entry("../evil"), Limits(), MalformedDocument, "unsafe path", id="dot-dot"),
        pytest.param(_with_entry("/etc/evil"), Limits(), MalformedDocument, "unsafe path", id="absolute"),
        pytest.param(_with_entry("word\\..\\evil"), Limits(), MalformedDocument, "unsafe path", id="backslashes"),
        pytest.param(_with_entry(_symlink("word/link.xml"), b"/etc/passwd"), Limits(), MalformedDocument,
                     "symbolic link", id="symlink"),
        pytest.param(_duplicate_names, Limits(), MalformedDocument, "same name", id="duplicate-names"),
        pytest.param(lambda: make_zip([("[Content_Types].xml", b"<Types/>"), ("other.xml", SECRET.encode())]),
                     Limits(), MalformedDocument, "no word/document.xml", id="no-document-xml"),
        pytest.param(lambda: SECRET.encode() * 100, Limits(), MalformedDocument, "ZIP container is damaged",
                     id="not-a-zip"),
        pytest.param(lambda: DOCX[: len(DOCX) // 2], Limits(), MalformedDocument, "ZIP container is damaged",
                     id="truncated"),
        # a sound container whose document.xml is not WordprocessingML
        pytest.param(lambda: make_zip([*DOCX_SKELETON[:1], ("word/document.xml", SECRET.encode())]), Limits(),
                     MalformedDocument, "not a Word document that can be read", id="not-wordprocessingml"),
    ],
)
def test_docx_refuses(build: Callable[[], bytes], limits: Limits, error_type: type[VaultError], says: str) -> None:
    assert says in refused(error_type, parse_docx, io.BytesIO(build()), limits).message
