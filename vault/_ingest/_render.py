"""One page of a PDF as a PNG image, for the reviewers' viewer. Runs in the sandboxed child only.

pypdfium2 (PDFium, the renderer of Chromium) draws the page; the page's declared size is checked
before anything is drawn, so a page that claims to be kilometres wide (a "bomb-sized" page) is a
typed refusal instead of a bitmap that exhausts memory. The PNG is encoded here with zlib from
the standard library: a grey-scale image needs no imaging library.
"""

from __future__ import annotations

import struct
import zlib

from vault.errors import InvalidInput, MalformedDocument, ParserLimitExceeded

MAX_PIXELS = 12_000_000  # about an A4 page at 300 dpi; the viewer asks for much less
SCALE = 1.5  # 108 dpi: readable beside the text, a few hundred KB per page


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_gray(width: int, height: int, stride: int, pixels: bytes) -> bytes:
    """An 8-bit grey-scale PNG of ``height`` rows of ``stride`` bytes (``width`` of them used)."""
    rows = b"".join(b"\x00" + pixels[y * stride:y * stride + width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 6))
            + _chunk(b"IEND", b""))


def render_pdf_page(data: bytes, number: int, *, max_pages: int, scale: float = SCALE) -> bytes:
    """Page ``number`` (from 1) of the PDF in ``data`` as a PNG."""
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise MalformedDocument("the original could not be read as a PDF; it may be damaged") from None
    try:
        pages = min(len(pdf), max_pages)
        if not 1 <= number <= pages:
            raise InvalidInput(f"there is no page {number}: this document has {pages} page{'s' if pages != 1 else ''}")
        page = pdf[number - 1]
        width, height = page.get_size()
        pixels = (width * scale) * (height * scale)
        if not (width > 0 and height > 0) or pixels > MAX_PIXELS:
            raise ParserLimitExceeded(f"page {number} is too large to show as an image "
                                      f"({width:.0f} x {height:.0f} points); read its text instead")
        bitmap = page.render(scale=scale, grayscale=True)
        return png_gray(bitmap.width, bitmap.height, bitmap.stride, bytes(bitmap.buffer))
    finally:
        pdf.close()
