"""Hostile uploads through real HTTP (SECURITY-TESTS 38, 39): many fields, an oversized field, a
content type built to make a parser backtrack, and file names built to escape a directory or to
break a header. Each gets a quick, clear 4xx, or is stored under a server id and served with a
safe Content-Disposition."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest

from tests.vault.test_formats import make_pdf
from tests.vault.test_ingest import wait_until
from vault._ingest._sandbox import ParserSlots

HOSTILE_NAMES = ["../../x.txt", "/etc/passwd", "a.txt\0.exe", "\u202etxt.exe", "n" * 5000 + ".txt", "CON",
                 'quo"te\r\nX-Injected: 1.txt']


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["dotdot", "absolute", "nul", "rtl", "long", "con", "crlf"])
def test_a_hostile_file_name_is_kept_as_metadata_only(world, name):
    data = f"[00:00:01] QM: a call about the name {len(name)} {name[:3]!r}.\n".encode()
    with world.client("reviewer") as rex:
        answer = rex.post("/api/v1/documents", files={"file": (name, io.BytesIO(data))}, data={"case": world.case.name})
        assert answer.status_code == 201, answer.text
        document = answer.json()["id"]
        download = rex.get(f"/api/v1/documents/{document}/original")
    assert download.status_code == 200 and download.content == data
    disposition = download.headers["content-disposition"]
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert all(c.isalnum() or c in "._- " for c in fallback), disposition
    assert "\r" not in disposition and "\n" not in disposition and "X-Injected" not in download.headers
    stored = [p.name for p in Path(world.vault.settings.data_dir).rglob("*")]
    assert not any(part in stored for part in ("x.txt", "passwd", "CON", "txt.exe")), stored
    assert not Path("/etc/passwd").read_bytes().startswith(b"[00:00:01]")


def _multipart(parts: list[tuple[str, bytes]], boundary: str = "b0undary") -> bytes:
    body = b""
    for name, value in parts:
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode() + value + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def test_ten_thousand_fields_an_oversized_field_and_a_backtracking_content_type_are_refused_quickly(world):
    cases = {
        "10k fields": ({"content-type": "multipart/form-data; boundary=b0undary"},
                       _multipart([(f"f{i}", b"x") for i in range(10_000)])),
        "oversized field": ({"content-type": "multipart/form-data; boundary=b0undary"},
                            _multipart([("case", b"x" * 100_000)])),
        "backtracking content type": ({"content-type": "multipart/form-data; " + "a" * 50_000 + "; boundary=b0undary"},
                                      _multipart([("case", b"x")])),
    }
    with world.client("investigator") as ivy:
        for what, (headers, body) in cases.items():
            started = time.monotonic()
            answer = ivy.post("/api/v1/documents", headers=headers, content=body)
            assert answer.status_code in (400, 413), (what, answer.status_code, answer.text[:200])
            assert answer.json()["error"] in ("INVALID_INPUT", "TOO_LARGE", "BAD_REQUEST"), what
            assert time.monotonic() - started < 5, what
    assert world.vault.in_review() == [world.vault.document(world.documents["review"].id)]


def test_past_the_parser_queue_the_third_concurrent_upload_is_503_with_retry_after(world):
    """One parser, busy; rex's first PDF waits in the queue of one; his second is refused with 503,
    Retry-After and a clear message, and nothing of it is stored; the first is stored once the
    parser is free."""
    vault = world.vault
    vault.parsers = ParserSlots(parsers=1, queue=1)
    blobs = vault.settings.blob_dir

    def upload(client, name: str, text: str):
        return client.post("/api/v1/documents", files={"file": (name, io.BytesIO(make_pdf([[text]])))},
                           data={"case": world.case.name})

    answers: list[object] = []
    with world.client("reviewer") as rex, world.client("reviewer") as rex_again:
        with vault.parsers.slot():  # a parser reading another file
            first = threading.Thread(target=lambda: answers.append(upload(rex, "first.pdf", "the first decision")))
            first.start()
            wait_until(lambda: vault.parsers.waiting == 1, "the first upload queues for the parser")
            documents, files = len(vault.documents()), sorted(p for p in blobs.rglob("*") if p.is_file())
            refused = upload(rex_again, "second.pdf", "the second decision")
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"] == "PARSERS_BUSY" and "send this file again" in refused.json()["message"]
            assert 0 < int(refused.headers["retry-after"]) <= 60
            assert len(vault.documents()) == documents, "a refused upload was stored"
            assert sorted(p for p in blobs.rglob("*") if p.is_file()) == files, "a refused upload left files"
        first.join(timeout=120)
    assert answers[0].status_code == 201, answers[0].text
    assert vault.document(answers[0].json()["id"]).pages == 1
