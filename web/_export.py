"""The audit export as a download, for the API and the admin pages alike."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.responses import StreamingResponse

EXPORT_NAME = "casevault-audit.jsonl"


def export_response(lines: Iterator[str]) -> StreamingResponse:
    """Stream the export's lines as an attachment (``casevault audit verify --file`` checks it)."""
    return StreamingResponse((text.encode() for text in lines), media_type="application/octet-stream",
                             headers={"Content-Disposition": f'attachment; filename="{EXPORT_NAME}"'})
