"""The child side of the parser sandbox: file on stdin, JSON on stdout, nothing else."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import asdict

from vault._ingest._limits import Limits
from vault._ingest._model import Format
from vault.errors import IngestError


def main() -> int:
    fmt = Format(sys.argv[1])
    limits = Limits(**json.loads(sys.argv[2]))
    data = io.BytesIO(sys.stdin.buffer.read(limits.max_file_bytes + 1))
    from vault._ingest._records import parse_docx, parse_pdf

    parse = {Format.PDF: parse_pdf, Format.DOCX: parse_docx}[fmt]
    try:
        extracted = parse(data, limits)
    except IngestError as error:
        answer: dict[str, object] = {"error": error.code, "message": error.message}
    else:
        answer = {"title": extracted.title, "encoding": extracted.encoding,
                  "pages": [asdict(p) for p in extracted.pages],
                  "turns": [asdict(t) for t in extracted.turns]}
    sys.stdout.buffer.write(json.dumps(answer).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
