"""HTTP Range over an open audio original: one byte range, or the whole file.

A browser's <audio> element seeks by asking for ``bytes=START-`` (and Safari for ``bytes=0-1``
first), so a player that can seek needs 206 answers. One range only: a multi-range request, a
range past the end, an inverted or unreadable one answers 416 (``RangeNotSatisfiable``), never a
500, and digits are bounded before they are read as a number.
"""

from __future__ import annotations

import re

from fastapi.responses import StreamingResponse

from vault import Audio
from vault.errors import RangeNotSatisfiable

_RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})")  # ASCII digits only (\d takes any script's)
_PRIVATE = {"Cache-Control": "private, no-store", "Accept-Ranges": "bytes"}


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte a Range header asks for, or None for the whole file."""
    if header is None:
        return None
    found = _RANGE.fullmatch(header.strip())
    if found is None or size == 0:
        raise RangeNotSatisfiable(f"send one byte range, e.g. 'bytes=0-', within the file's {size} bytes")
    first, last = found.groups()
    if not first:  # the last N bytes
        if not last or int(last) == 0:
            raise RangeNotSatisfiable("a suffix range asks for at least one byte")
        return max(size - int(last), 0), size - 1
    start, end = int(first), int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(f"the range {header.strip()!r} is outside the file's {size} bytes")
    return start, min(end, size - 1)


def ranged(audio: Audio, header: str | None) -> StreamingResponse:
    """The audio, whole (200) or the range asked for (206), never cached by the browser."""
    try:
        asked = byte_range(header, audio.size)
    except RangeNotSatisfiable:
        audio.close()
        raise
    start, end = asked or (0, audio.size - 1)
    headers = {**_PRIVATE, "Content-Length": str(end - start + 1)}
    if asked is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{audio.size}"
    return StreamingResponse(audio.pieces(start, end), status_code=206 if asked else 200,
                             media_type=audio.media_type, headers=headers)
