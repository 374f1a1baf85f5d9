"""The child side of the parser sandbox: file on stdin, JSON on stdout, nothing else.

It lowers its own limits first (clamped to what the parent's hard limits allow), so no code
runs between fork and exec in a threaded parent.
"""

from __future__ import annotations

import io
import json
import resource
import sys
from dataclasses import asdict

from vault._ingest._limits import Limits
from vault._ingest._model import Extracted, Format
from vault.errors import IngestError, MalformedDocument, ParserLimitExceeded, VaultError


def _lower(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _limit(limits: Limits) -> None:
    _lower(resource.RLIMIT_AS, limits.parse_memory_bytes)
    _lower(resource.RLIMIT_CPU, int(limits.parse_seconds) + 1)
    _lower(resource.RLIMIT_FSIZE, 0)  # it cannot write a file, so no plaintext lands on disk
    _lower(resource.RLIMIT_CORE, 0)


def _parse(fmt: Format, data: bytes, limits: Limits, legacy_encoding: str | None) -> Extracted:
    from vault._ingest._docx import parse_docx
    from vault._ingest._records import parse_html, parse_pdf

    if fmt is Format.HTML:
        from vault._ingest._decode import decode_text

        text, encoding = decode_text(data, legacy_encoding=legacy_encoding)
        extracted = parse_html(text, limits=limits)
        return Extracted(extracted.format, extracted.title, extracted.pages, extracted.turns, encoding)
    return {Format.PDF: parse_pdf, Format.DOCX: parse_docx}[fmt](io.BytesIO(data), limits)


def _render() -> int:
    """``render LIMITS PAGE``: the page as a PNG, base64 in the JSON answer."""
    import base64

    from vault._ingest._render import render_pdf_page

    limits = Limits(**json.loads(sys.argv[2]))
    _limit(limits)
    data = sys.stdin.buffer.read(limits.max_file_bytes + 1)
    try:
        png = render_pdf_page(data, int(sys.argv[3]), max_pages=limits.max_pages)
    except VaultError as error:
        answer: dict[str, object] = {"error": error.code, "message": str(error)}
    except MemoryError:
        answer = {"error": ParserLimitExceeded.code, "message": "the renderer ran out of memory on this page"}
    except Exception:  # noqa: BLE001 - a renderer bug on hostile input: a typed refusal, no detail
        answer = {"error": MalformedDocument.code, "message": "the page could not be drawn; the file may be damaged"}
    else:
        answer = {"png": base64.b64encode(png).decode()}
    sys.stdout.buffer.write(json.dumps(answer).encode())
    return 0


def main() -> int:
    if sys.argv[1] == "render":
        return _render()
    fmt = Format(sys.argv[1])
    limits = Limits(**json.loads(sys.argv[2]))
    legacy_encoding = sys.argv[3] or None
    _limit(limits)
    data = sys.stdin.buffer.read(limits.max_file_bytes + 1)
    try:
        extracted = _parse(fmt, data, limits, legacy_encoding)
        if sum(len(p.text) for p in extracted.pages) > limits.max_text_bytes:
            raise ParserLimitExceeded(
                f"the file holds more than {limits.max_text_bytes // (1024 * 1024)} MiB of text; "
                "split it and upload the parts"
            )
    except IngestError as error:
        answer: dict[str, object] = {"error": error.code, "message": error.message}
    except MemoryError:
        answer = {"error": ParserLimitExceeded.code, "message": "the parser ran out of memory on this file"}
    except Exception:  # noqa: BLE001 - a parser bug on hostile input: a typed refusal, no detail
        error = MalformedDocument(f"the file could not be read as {fmt.value.upper()}; it may be damaged")
        answer = {"error": error.code, "message": error.message}
    else:
        answer = {"title": extracted.title, "encoding": extracted.encoding,
                  "pages": [asdict(p) for p in extracted.pages]}
    sys.stdout.buffer.write(json.dumps(answer).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
