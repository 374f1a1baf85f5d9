"""Run the PDF, DOCX and HTML parsers (and the PDF page renderer) in a child process that may die without taking us along.

pypdf, python-docx and the standard library's HTML tokenizer are complex parsers of hostile
input (nested FlateDecode, /Prev loops, XML bombs, quadratic tag soup). The child gets the file on
stdin and no other input, lowers its own address-space, CPU-time and file-size limits (zero: it
cannot write a file, so no plaintext lands on disk), runs under a wall-clock timeout, and answers
with JSON on stdout. A child killed by a limit becomes ParserLimitExceeded; only the child dies.

Each child may take ``parse_memory_bytes`` and a core: ``ParserSlots`` lets a configured number run
at once, a bounded number of uploads wait for one, and refuses the rest with ParsersBusy (503).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

from vault._ingest._limits import Limits
from vault._ingest._model import Extracted, Format, Page
from vault.errors import (
    EncodingFailed,
    IngestError,
    InvalidInput,
    MalformedDocument,
    ParserLimitExceeded,
    ParsersBusy,
    TooLarge,
    TypeMismatch,
    UnsupportedType,
)

_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
_ANSWER_OVERHEAD = 1024 * 1024
_ERRORS: dict[str, type[IngestError]] = {
    cls.code: cls for cls in (IngestError, TooLarge, UnsupportedType, TypeMismatch, EncodingFailed,
                              MalformedDocument, ParserLimitExceeded, InvalidInput)
}
SANDBOXED = frozenset({Format.PDF, Format.DOCX, Format.HTML})


_LIMIT_MESSAGE = ("the parser ran out of its memory or time allowance on this file and was stopped; "
                  "it may be damaged or built to exhaust the parser")


BUSY_RETRY_SECONDS = 10  # most files parse in a second or two; the queue moves on soon


class ParserSlots:
    """At most ``parsers`` sandboxed parsers at once in this process; up to ``queue`` more callers
    wait for a slot (each wait is bounded: a parser runs at most ``parse_seconds``); past that,
    ParsersBusy at once, so a burst of uploads neither exhausts memory nor every server thread."""

    def __init__(self, parsers: int, queue: int) -> None:
        if parsers < 1 or queue < 0:
            raise ValueError("at least one parser, and a queue of zero or more")
        self.parsers = parsers
        self.queue = queue
        self.running = 0
        self.waiting = 0
        self._turn = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._turn:
            if self.running >= self.parsers or self.waiting:
                if self.waiting >= self.queue:
                    raise ParsersBusy(
                        f"the server is reading {self.running} other files and {self.waiting} more are waiting; "
                        f"nothing was stored: send this file again in {BUSY_RETRY_SECONDS} seconds",
                        BUSY_RETRY_SECONDS)
                self.waiting += 1
                try:
                    while self.running >= self.parsers:
                        self._turn.wait()
                finally:
                    self.waiting -= 1
            self.running += 1
        try:
            yield
        finally:
            with self._turn:
                self.running -= 1
                self._turn.notify()


def extract_in_sandbox(fmt: Format, source: BinaryIO, limits: Limits, legacy_encoding: str | None,
                       parsers: ParserSlots) -> Extracted:
    """Parse a PDF, DOCX or HTML file read from ``source`` in a sandboxed child process, once one
    of ``parsers`` is free."""
    with parsers.slot():
        return _extract(fmt, source, limits, legacy_encoding)


def render_in_sandbox(source: BinaryIO, page: int, limits: Limits, parsers: ParserSlots) -> bytes:
    """Page ``page`` (from 1) of the PDF read from ``source`` as a PNG, drawn in a sandboxed child
    under the same limits as the parser, once one of ``parsers`` is free."""
    with parsers.slot():
        answer = _answer_of(_run(["render", json.dumps(asdict(limits)), str(page)], source, limits))
    return base64.b64decode(str(answer["png"]))


def _extract(fmt: Format, source: BinaryIO, limits: Limits, legacy_encoding: str | None) -> Extracted:
    raw = _run([fmt.value, json.dumps(asdict(limits)), legacy_encoding or ""], source, limits)
    return _decode_answer(fmt, raw)


def _run(arguments: list[str], source: BinaryIO, limits: Limits) -> bytes:
    """The child's answer to ``arguments`` with ``source`` on its stdin, under ``limits``."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": _PROJECT_ROOT}
    try:
        process = subprocess.Popen(
            [sys.executable, "-X", "utf8", "-m", "vault._ingest._sandbox_child", *arguments],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd="/", close_fds=True,
        )
    except (OSError, subprocess.SubprocessError):
        raise ParserLimitExceeded("the parser could not be started (the server is out of processes "
                                  "or memory); try again later") from None
    assert process.stdin is not None and process.stdout is not None
    feed_errors: list[BaseException] = []
    answer: list[bytes] = []
    answer_cap = limits.max_text_bytes * 2 + _ANSWER_OVERHEAD  # JSON escaping can double the text

    def feed() -> None:
        try:
            while piece := source.read(1024 * 1024):
                process.stdin.write(piece)  # type: ignore[union-attr]
        except (BrokenPipeError, ConnectionResetError):
            pass  # the child stopped reading; its exit status tells why
        except BaseException as error:  # noqa: BLE001 - e.g. IntegrityFailed: re-raised below
            feed_errors.append(error)
        finally:
            try:
                process.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass

    feeder = threading.Thread(target=feed, daemon=True)
    reader = threading.Thread(target=lambda: answer.append(process.stdout.read(answer_cap + 1)), daemon=True)  # type: ignore[union-attr]
    try:
        feeder.start()
        reader.start()
        reader.join(limits.parse_seconds)
        timed_out = reader.is_alive()
        if timed_out or feed_errors:
            process.kill()
        reader.join()
        feeder.join()
        status = process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    if feed_errors:
        raise feed_errors[0]
    if timed_out:
        raise ParserLimitExceeded(
            f"the file took longer than {limits.parse_seconds:g} s to read and was refused; "
            "it may be damaged or built to exhaust the parser"
        )
    raw = answer[0] if answer else b""
    if status < 0 or len(raw) > answer_cap:  # killed by a signal (SIGKILL at the memory cap, SIGXCPU)
        raise ParserLimitExceeded(_LIMIT_MESSAGE)
    if status != 0 or not raw:
        # MemoryError while starting up also lands here: the cap is below what Python needs
        raise ParserLimitExceeded(_LIMIT_MESSAGE)
    return raw


def _answer_of(raw: bytes) -> dict[str, object]:
    """The child's JSON answer; the error it reports raised as its own type."""
    try:
        answer = json.loads(raw)
    except ValueError:
        raise MalformedDocument("the file could not be read") from None
    if "error" in answer:
        raise _ERRORS.get(answer["error"], MalformedDocument)(str(answer["message"]))
    return answer  # type: ignore[no-any-return]


def _decode_answer(fmt: Format, raw: bytes) -> Extracted:
    answer: dict = _answer_of(raw)  # type: ignore[type-arg]
    return Extracted(
        format=fmt,
        title=answer.get("title"),
        pages=tuple(Page(p["number"], p["text"]) for p in answer.get("pages", [])),
        encoding=answer.get("encoding"),
    )
