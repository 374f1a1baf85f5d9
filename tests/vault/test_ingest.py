"""Ingest through the vault: what is stored, what is refused, and that a refusal leaves nothing."""

from __future__ import annotations

import io
import json
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
import sqlalchemy as sa

from keys import IntegrityFailed
from tests.conftest import ingest_bytes
from vault import DocumentStatus, Format, Kind, Limits, Settings, Vault
from vault.errors import (
    DuplicateDocument,
    EncodingFailed,
    IngestError,
    ParserLimitExceeded,
    ParsersBusy,
    TooLarge,
    TypeMismatch,
    UnsupportedType,
)

TRANSCRIPT = (
    "[00:00:04] H: Allô ? Qui est à l'appareil ?\n"
    "[00:00:09] QM: C'est moi. Ta mère va bien, mais tu dois rentrer.\n"
    "[00:01:07] H: Je ne rentrerai pas.\n"
    "Pas maintenant.\n"
).encode()


def _pdf(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def _stored_files(settings: Settings) -> list[Path]:
    return [p for p in settings.blob_dir.rglob("*") if p.is_file()]


def _table_count(vault: Vault, table: str) -> int:
    with vault.db.engine.connect() as connection:
        return connection.execute(sa.text(f'select count(*) from "{table}"')).scalar_one()


# -- what is stored ------------------------------------------------------------------------------

def test_transcript_round_trip(vault, case):
    document = ingest_bytes(vault, case, TRANSCRIPT, "appel-1.txt")
    assert (document.kind, document.format, document.status) == (Kind.TRANSCRIPT, Format.TRANSCRIPT_TEXT,
                                                                 DocumentStatus.IN_REVIEW)
    assert document.filename == "appel-1.txt" and document.case_name == "Affaire H"
    turns = vault.content(document.id, actor="tester").turns
    assert [(t.speaker, t.start_ms, t.end_ms) for t in turns] == [
        ("H", 4000, 9000), ("QM", 9000, 67000), ("H", 67000, None)]
    assert turns[1].text == "C'est moi. Ta mère va bien, mais tu dois rentrer."
    assert turns[2].text == "Je ne rentrerai pas.\nPas maintenant."


def test_pdf_round_trip_through_the_sandbox(vault, case):
    document = ingest_bytes(vault, case, _pdf(["Cour d'appel de Paris", "Page deux", "Page trois"]), "decision.pdf")
    assert (document.kind, document.format, document.pages) == (Kind.COURT_RECORD, Format.PDF, 3)
    pages = vault.content(document.id, actor="tester").pages
    assert [p.number for p in pages] == [1, 2, 3]
    assert "Page deux" in pages[1].text


def test_original_reads_back_byte_for_byte(vault, case):
    document = ingest_bytes(vault, case, TRANSCRIPT, "appel.txt")
    with vault.open_original(document.id, actor="tester") as original:
        assert original.read() == TRANSCRIPT


def test_large_original_is_chunked_and_reads_back(vault, case):
    body = ("Attendu que la demande est rejetée.\n" * 90_000).encode()  # ~3.2 MB: several chunks
    document = ingest_bytes(vault, case, body, "arret.txt")
    with vault.open_original(document.id, actor="tester") as original:
        assert original.read() == body
    assert document.size_bytes == len(body)


def test_every_action_is_audited(vault, case):
    document = ingest_bytes(vault, case, TRANSCRIPT)
    vault.content(document.id, actor="reader")
    actions = [(e.action, e.target) for e in vault.audit_entries()]
    assert ("document.ingest", document.id) in actions
    assert ("document.read", document.id) in actions
    assert vault.verify_audit().intact


def test_duplicate_is_recognised_within_a_case_only(vault, case):
    first = ingest_bytes(vault, case, TRANSCRIPT)
    with pytest.raises(DuplicateDocument) as caught:
        ingest_bytes(vault, case, TRANSCRIPT, "copy.txt")
    assert caught.value.existing_id == first.id
    other = vault.create_case("Another case", actor="tester")
    ingest_bytes(vault, other, TRANSCRIPT)  # the same file in another case is not linked to the first
    assert _table_count(vault, "document") == 2


def test_duplicate_digest_is_keyed_not_a_plain_hash(vault, case):
    import hashlib

    ingest_bytes(vault, case, TRANSCRIPT)
    with vault.db.engine.connect() as connection:
        digest = connection.execute(sa.text("select content_digest from document")).scalar_one()
    assert bytes(digest) != hashlib.sha256(TRANSCRIPT).digest()


@pytest.mark.parametrize("name", ["../../x.txt", "/etc/passwd", "a.txt\0.exe", "CON", "\u202etxt.exe",
                                  "x" * 5000 + ".txt", "dossier/sous-dossier/appel.txt"],
                         ids=["dotdot", "absolute", "nul", "con", "rtl", "long", "subdir"])
def test_hostile_file_names_never_become_paths(vault, case, settings, name):
    document = ingest_bytes(vault, case, TRANSCRIPT, name)
    assert document.filename == name  # kept, but only encrypted
    for stored in _stored_files(settings):
        assert stored.resolve().is_relative_to(settings.blob_dir.resolve())
        assert len(stored.name) == 32 and all(c in "0123456789abcdef" for c in stored.name)


# -- tampering -----------------------------------------------------------------------------------

def _blob_path(vault: Vault, settings: Settings, document_id: str, purpose: str) -> Path:
    with vault.db.engine.connect() as connection:
        name = connection.execute(sa.text("select storage_name from blob where document_id = :d and purpose = :p"),
                                  {"d": document_id, "p": purpose}).scalar_one()
    return settings.blob_dir / name[:2] / name


def test_blob_swapped_between_documents_fails(vault, case, settings):
    a = ingest_bytes(vault, case, TRANSCRIPT, "a.txt")
    b = ingest_bytes(vault, case, TRANSCRIPT + b"H: encore\n", "b.txt")
    path_a, path_b = (_blob_path(vault, settings, d.id, "content") for d in (a, b))
    path_a.write_bytes(path_b.read_bytes())
    with pytest.raises(IntegrityFailed):
        vault.content(a.id, actor="tester")


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "delete"])
def test_damaged_blob_fails_without_plaintext(vault, case, settings, damage):
    document = ingest_bytes(vault, case, TRANSCRIPT)
    path = _blob_path(vault, settings, document.id, "content")
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:-5] + bytes([data[-5] ^ 1]) + data[-4:])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
    with pytest.raises(IntegrityFailed):
        vault.content(document.id, actor="tester")


def test_title_moved_to_another_row_fails(vault, case):
    a = ingest_bytes(vault, case, TRANSCRIPT, "a.txt")
    b = ingest_bytes(vault, case, TRANSCRIPT + b"H: encore\n", "b.txt")
    with vault.db.engine.begin() as connection:
        title_b = connection.execute(sa.text("select title_ct from document where id = :i"), {"i": b.id}).scalar_one()
        connection.execute(sa.text("update document set title_ct = :t where id = :i"), {"t": title_b, "i": a.id})
    with pytest.raises(IntegrityFailed):
        vault.document(a.id)


# -- refusals leave nothing ----------------------------------------------------------------------

def _assert_nothing_stored(vault: Vault, settings: Settings) -> None:
    assert _table_count(vault, "document") == 0
    assert _table_count(vault, "blob") == 0
    assert _stored_files(settings) == [], "a refused upload left files behind"
    assert all(e.action != "document.ingest" for e in vault.audit_entries())


class EndlessZeros(io.RawIOBase):
    """A 10 GB upload that is never materialised, counting what was read from it."""

    def __init__(self, size: int = 10 * 1024**3) -> None:
        self.remaining, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self.remaining)
        buffer[:n] = b"a" * n
        self.remaining -= n
        self.read_bytes += n
        return n


@pytest.fixture
def small_vault(tmp_path, database_url):
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url,
                        limits=Limits(max_file_bytes=4 * 1024 * 1024, max_pages=2, parse_seconds=20))
    from tests.conftest import PASSPHRASE

    with Vault.initialize(settings, PASSPHRASE) as vault:
        yield vault, vault.create_case("Affaire H", actor="tester"), settings


def test_oversized_upload_stops_at_the_limit_with_bounded_memory(small_vault):
    vault, case, settings = small_vault
    source = EndlessZeros()
    tracemalloc.start()
    with pytest.raises(TooLarge, match="larger than the limit of 4 MiB"):
        vault.ingest(io.BufferedReader(source), case=case, filename="huge.txt", actor="tester")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert source.read_bytes <= 6 * 1024 * 1024, "the upload was read past its limit"
    assert peak < 32 * 1024 * 1024, f"peak memory {peak} bytes"
    _assert_nothing_stored(vault, settings)


@pytest.mark.parametrize("data, filename, error", [
    (b"H: hello\x00world\n", "a.txt", EncodingFailed),
    ("Cour d'appel: décision".encode() + b"\xe9\x80", "a.txt", EncodingFailed),  # mixed UTF-8 and Latin-1
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "scan.png", UnsupportedType),
    (b"%PDF-1.7\n" + b"x" * 50, "a.txt", TypeMismatch),
    (b"PK\x03\x04" + bytes(60), "a.pdf", UnsupportedType),
    (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "cut.pdf", IngestError),  # truncated PDF
    (b"", "empty.txt", IngestError),
], ids=["nul", "mixed-utf8", "png", "pdf-named-txt", "zip-named-pdf", "truncated-pdf", "empty"])
def test_bad_input_is_a_typed_error_and_leaves_nothing(vault, case, settings, data, filename, error):
    with pytest.raises(error) as caught:
        ingest_bytes(vault, case, data, filename)
    assert "hello" not in str(caught.value) and "appel" not in str(caught.value)
    _assert_nothing_stored(vault, settings)


def test_page_limit_is_enforced(small_vault):
    vault, case, settings = small_vault
    with pytest.raises(ParserLimitExceeded):
        ingest_bytes(vault, case, _pdf(["one", "two", "three"]), "long.pdf")
    _assert_nothing_stored(vault, settings)


def _inflating_pdf(inflated_bytes: int) -> bytes:
    """A one-page PDF whose content stream is small on disk and huge once inflated."""
    import zlib

    compressor = zlib.compressobj(9)
    block = b"BT /F1 12 Tf (A) Tj ET\n" * 50_000
    stream = b"".join(compressor.compress(block) for _ in range(inflated_bytes // len(block))) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_parser_that_runs_out_of_memory_dies_alone(tmp_path, database_url):
    from tests.conftest import PASSPHRASE

    # room for Python and pypdf to start, not for the 400 MB the content stream inflates to
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url,
                        limits=Limits(parse_memory_bytes=300 * 1024 * 1024, max_decompressed_bytes=2 * 1024**3))
    with Vault.initialize(settings, PASSPHRASE) as vault:
        case = vault.create_case("Affaire H", actor="tester")
        assert ingest_bytes(vault, case, _pdf(["page"]), "ok.pdf").pages == 1  # the cap lets real PDFs through
        with pytest.raises(ParserLimitExceeded):
            ingest_bytes(vault, case, _inflating_pdf(400 * 1024 * 1024), "bomb.pdf")
        assert ingest_bytes(vault, case, TRANSCRIPT).status is DocumentStatus.IN_REVIEW  # we are still here


def test_parser_that_runs_out_of_time_is_stopped(tmp_path, database_url):
    from tests.conftest import PASSPHRASE

    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, limits=Limits(parse_seconds=0.01))
    with Vault.initialize(settings, PASSPHRASE) as vault:
        case = vault.create_case("Affaire H", actor="tester")
        with pytest.raises(ParserLimitExceeded, match="longer than"):
            ingest_bytes(vault, case, _pdf(["page"]), "decision.pdf")
        _assert_nothing_stored(vault, settings)
        assert vault.parsers.running == 0, "a parser stopped at its limit kept its slot"


def test_disk_failure_leaves_nothing(vault, case, settings):
    incoming = settings.blob_dir / ".incoming"
    incoming.rmdir()
    incoming.write_bytes(b"")  # every write below it now fails with an OS error
    from vault.errors import StorageFailed

    with pytest.raises(StorageFailed, match="nothing was stored"):
        ingest_bytes(vault, case, TRANSCRIPT)
    incoming.unlink()
    incoming.mkdir()
    _assert_nothing_stored(vault, settings)


def test_database_failure_after_the_blobs_were_written_leaves_nothing(vault, case, settings):
    with vault.db.engine.begin() as connection:
        connection.execute(sa.text('alter table blob rename to blob_elsewhere'))
    from vault.errors import StorageFailed

    with pytest.raises(StorageFailed):
        ingest_bytes(vault, case, TRANSCRIPT)
    with vault.db.engine.begin() as connection:
        connection.execute(sa.text('alter table blob_elsewhere rename to blob'))
    _assert_nothing_stored(vault, settings)


# -- found in review: hostile HTML, JSON escapes, lookalike JSON ---------------------------------

def test_quadratic_html_is_stopped_by_the_sandbox(tmp_path, database_url):
    from tests.conftest import PASSPHRASE

    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, limits=Limits(parse_seconds=3))
    with Vault.initialize(settings, PASSPHRASE) as vault:
        case = vault.create_case("Affaire H", actor="tester")
        with pytest.raises(ParserLimitExceeded):
            ingest_bytes(vault, case, b"<html><body>" + b"<p x='" * 40_000, "page.html")
        _assert_nothing_stored(vault, settings)


def test_html_that_crashes_the_tokenizer_is_a_typed_error(vault, case, settings):
    from vault.errors import MalformedDocument

    with pytest.raises(MalformedDocument) as caught:
        ingest_bytes(vault, case, b"<html><body><p>ok</p><![ Karimov secret", "page.html")
    assert "Karimov" not in str(caught.value)
    _assert_nothing_stored(vault, settings)


@pytest.mark.parametrize("escaped", ["a\\u0000b", "a\\ud800b", "esc\\u001b[2J", "next\\u0085line"])
@pytest.mark.parametrize("field", ["text", "speaker"])
def test_json_escapes_cannot_smuggle_forbidden_characters(vault, case, settings, escaped, field):
    segment = {"start": 0, "end": 1, "text": "bonjour", "speaker": "H"}
    raw = json.dumps([segment]).replace(f'"{segment[field]}"', f'"{escaped}"', 1).encode()
    with pytest.raises(EncodingFailed):
        ingest_bytes(vault, case, raw, "call.json")
    _assert_nothing_stored(vault, settings)


def test_a_text_record_that_opens_with_a_bracket_is_text(vault, case):
    document = ingest_bytes(vault, case, "[1] Attendu que la demande est rejetée.\n[2] Considérant".encode(), "arret.txt")
    assert (document.kind, document.format) == (Kind.COURT_RECORD, Format.TEXT)


def test_a_file_name_that_is_not_utf8_is_kept(vault, case):
    name = b"appel-\xff.txt".decode("utf-8", "surrogateescape")
    document = ingest_bytes(vault, case, TRANSCRIPT, name)
    assert document.filename == "appel-\ufffd.txt"


def test_pdf_with_too_much_text_is_refused(tmp_path, database_url):
    from tests.conftest import PASSPHRASE

    settings = Settings(data_dir=tmp_path / "data", database_url=database_url,
                        limits=Limits(max_text_bytes=2000))
    with Vault.initialize(settings, PASSPHRASE) as vault:
        case = vault.create_case("Affaire H", actor="tester")
        with pytest.raises(ParserLimitExceeded, match="more than"):
            ingest_bytes(vault, case, _pdf(["Attendu que la demande est rejetée. " * 40] * 3), "long.pdf")
        _assert_nothing_stored(vault, settings)


def test_a_swapped_case_digest_does_not_redirect_documents(vault, case):
    other = vault.create_case("Another case", actor="tester")
    with vault.db.engine.begin() as connection:
        digests = dict(connection.execute(sa.text("select id, name_digest from \"case\"")).all())
        connection.execute(sa.text("update \"case\" set name_digest = :d where id = :i"), {"d": b"x" * 32, "i": case.id})
        connection.execute(sa.text("update \"case\" set name_digest = :d where id = :i"), {"d": digests[case.id], "i": other.id})
    with pytest.raises(IntegrityFailed):
        vault.case("Affaire H")


# -- parsers at once -------------------------------------------------------------------------------

def wait_until(condition, what: str) -> None:
    """Wait for another thread to reach a state (synchronisation, not a timing assertion)."""
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def test_past_the_parser_queue_an_upload_is_refused_and_leaves_nothing(tmp_path, database_url):
    """One parser, a queue of one: with the parser busy, the next PDF waits, the one after is
    refused at once with nothing of it stored, and a text file (no parser) goes through."""
    from tests.conftest import PASSPHRASE

    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, parsers=1, parser_queue=1)
    with Vault.initialize(settings, PASSPHRASE) as vault:
        case = vault.create_case("Affaire H", actor="tester")
        assert (vault.parsers.parsers, vault.parsers.queue) == (1, 1)
        queued: list[object] = []
        with vault.parsers.slot():  # a parser reading another file
            waiting = threading.Thread(target=lambda: queued.append(
                ingest_bytes(vault, case, _pdf(["the first decision"]), "first.pdf")))
            waiting.start()
            wait_until(lambda: vault.parsers.waiting == 1, "the first PDF queues for the parser")
            before = (_table_count(vault, "document"), _table_count(vault, "blob"), sorted(_stored_files(settings)),
                      len(vault.audit_entries(limit=1000)))
            with pytest.raises(ParsersBusy) as refused:
                ingest_bytes(vault, case, _pdf(["the second decision"]), "second.pdf")
            assert refused.value.retry_after > 0 and "send this file again" in refused.value.message
            after = (_table_count(vault, "document"), _table_count(vault, "blob"), sorted(_stored_files(settings)),
                     len(vault.audit_entries(limit=1000)))
            assert after == before, "an upload refused for a busy parser left something behind"
            assert ingest_bytes(vault, case, TRANSCRIPT).status is DocumentStatus.IN_REVIEW
        waiting.join(timeout=120)
        assert len(queued) == 1 and queued[0].pages == 1  # the queued PDF was read once the parser was free
        assert (vault.parsers.running, vault.parsers.waiting) == (0, 0)
