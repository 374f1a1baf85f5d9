"""Run the PDF and DOCX parsers in a child process that may die without taking us along.

pypdf and python-docx are complex parsers of hostile input (nested FlateDecode, /Prev loops,
XML bombs). The child gets the file on stdin and no other input, runs under an address-space
cap, a CPU-time cap, a wall-clock timeout and a zero file-size cap (it cannot write a file, so no
plaintext lands on disk), and answers with JSON on stdout. A child killed by a limit becomes
ParserLimitExceeded; only the child dies.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

from vault._ingest._limits import Limits
from vault._ingest._model import Extracted, Format, Page, Turn
from vault.errors import IngestError, MalformedDocument, ParserLimitExceeded

_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
_MAX_ANSWER_BYTES = 256 * 1024 * 1024


def _limit_child(limits: Limits) -> None:  # runs in the child between fork and exec
    cpu = int(limits.parse_seconds) + 1
    resource.setrlimit(resource.RLIMIT_AS, (limits.parse_memory_bytes, limits.parse_memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _feed(source: BinaryIO, sink: BinaryIO) -> None:
    try:
        while piece := source.read(1024 * 1024):
            sink.write(piece)
    except (BrokenPipeError, OSError):
        pass  # the child died or stopped reading; its exit status tells us why
    finally:
        try:
            sink.close()
        except OSError:
            pass


def extract_in_sandbox(fmt: Format, source: BinaryIO, limits: Limits) -> Extracted:
    """Parse a PDF or DOCX read from ``source`` in a sandboxed child process."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": _PROJECT_ROOT, "PYTHONHASHSEED": "random"}
    process = subprocess.Popen(
        [sys.executable, "-X", "utf8", "-m", "vault._ingest._sandbox_child", fmt.value,
         json.dumps(asdict(limits))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=env, cwd="/", preexec_fn=lambda: _limit_child(limits), close_fds=True,
    )
    assert process.stdin is not None and process.stdout is not None
    feeder = threading.Thread(target=_feed, args=(source, process.stdin), daemon=True)
    answer: list[bytes] = []
    reader = threading.Thread(target=lambda: answer.append(process.stdout.read(_MAX_ANSWER_BYTES + 1)), daemon=True)  # type: ignore[union-attr]
    try:
        feeder.start()
        reader.start()
        reader.join(limits.parse_seconds)
        timed_out = reader.is_alive()
        if timed_out:
            process.kill()
        reader.join()
        feeder.join()
        status = process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    if timed_out:
        raise ParserLimitExceeded(
            f"the file took longer than {limits.parse_seconds:g} s to read and was refused; "
            "it may be damaged or built to exhaust the parser"
        )
    raw = answer[0] if answer else b""
    if status != 0 or len(raw) > _MAX_ANSWER_BYTES:
        raise ParserLimitExceeded(
            "the parser ran out of its memory or time allowance on this file and was stopped; "
            "it may be damaged or built to exhaust the parser"
        )
    return _decode_answer(fmt, raw)


def _decode_answer(fmt: Format, raw: bytes) -> Extracted:
    try:
        answer = json.loads(raw)
    except ValueError:
        raise MalformedDocument("the file could not be read") from None
    if "error" in answer:
        error_class = {cls.code: cls for cls in _known_errors()}.get(answer["error"], MalformedDocument)
        raise error_class(str(answer["message"]))
    return Extracted(
        format=fmt,
        title=answer.get("title"),
        pages=tuple(Page(p["number"], p["text"]) for p in answer.get("pages", [])),
        turns=tuple(Turn(**t) for t in answer.get("turns", [])),
        encoding=answer.get("encoding"),
    )


def _known_errors() -> list[type[IngestError]]:
    found, stack = [], [IngestError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found
