"""At rest, the data directory (database included) holds no plaintext of any document.

The demo corpus is ingested, then every byte under the data directory, and on PostgreSQL every
row of every table, is searched for the corpus's distinctive words in several encodings.
"""

from __future__ import annotations

import json
import unicodedata

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_CORPUS, DEMO_DIR
from vault import Vault
from vault._models import Base

MANIFEST = json.loads((DEMO_DIR / "manifest.json").read_text())


def _needles() -> dict[bytes, str]:
    words = set(MANIFEST["distinctive_words"]) | {MANIFEST["case"]}
    for identity in MANIFEST["identities"]:
        words |= {identity["name"], *identity["aliases"]}
    words = {w for w in words if len(w) >= 5}  # short aliases ("H", "QM") occur by chance in ciphertext
    words |= {entry["file"] for entry in MANIFEST["documents"]}  # file names are encrypted too
    needles: dict[bytes, str] = {}
    for word in words:
        for form in {word, word.upper(), word.lower(), unicodedata.normalize("NFD", word)}:
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                needles[form.encode(encoding)] = f"{word!r} ({encoding})"
    # compressed originals (PDF, DOCX) hide their words: look for raw windows of their bytes
    for entry in MANIFEST["documents"]:
        data = (DEMO_CORPUS / entry["file"]).read_bytes()
        for offset in range(0, len(data) - 32, max(1, len(data) // 16)):
            window = data[offset:offset + 32]
            if len(set(window)) > 8:  # skip runs of padding that could occur anywhere
                needles[window] = f"32 bytes of {entry['file']} at {offset}"
    return needles


def _leaks(blob: bytes, needles: dict[bytes, str]) -> set[str]:
    return {label for needle, label in needles.items() if needle in blob}


@pytest.fixture
def demo_vault(vault: Vault) -> Vault:
    case = vault.create_case(MANIFEST["case"], actor="tester")
    for entry in MANIFEST["documents"]:
        with (DEMO_CORPUS / entry["file"]).open("rb") as source:
            vault.ingest(source, case=case, filename=entry["file"], actor="tester")
    vault.record(actor="tester", action="search", details={"query": MANIFEST["distinctive_words"][0]})
    return vault


def test_the_demo_corpus_is_readable_in_clear_through_the_vault(demo_vault):
    # the needles are really in the corpus: otherwise the scans below prove nothing
    needles = _needles()
    texts = "".join(demo_vault.content(d.id, actor="tester").text for d in demo_vault.documents())
    found = _leaks(texts.encode("utf-8"), needles)
    assert len(found) >= 10, f"only {len(found)} distinctive words found in the corpus itself"


def test_no_file_under_the_data_directory_holds_corpus_words(demo_vault, settings):
    demo_vault.db.dispose()  # flush SQLite's WAL into the files we read
    needles = _needles()
    files = [p for p in settings.data_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files) or settings.database_url
    leaked = {f"{p.relative_to(settings.data_dir)}: {label}"
              for p in files for label in _leaks(p.read_bytes(), needles)}
    assert not leaked, f"plaintext at rest: {sorted(leaked)[:10]}"


def test_no_database_row_holds_corpus_words(demo_vault):
    needles = _needles()
    leaked = set()
    with demo_vault.db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                cells = b"".join(bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row)
                leaked |= {f"{table.name}: {label}" for label in _leaks(cells, needles)}
    assert not leaked, f"plaintext in the database: {sorted(leaked)[:10]}"
