"""Test data for the viewers of originals: a short WAV made here, a call transcript with times
whose speakers are the registered identities, a PDF with a page too large to draw."""

from __future__ import annotations

import io
import math
import struct
import wave

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject, RectangleObject

from tests.conftest import DEMO_CORPUS

CALL_VTT = (
    "WEBVTT\n\n"
    "00:00:00.000 --> 00:00:01.000\n<v QM>Hadrien, listen to me.\n\n"
    "00:00:01.000 --> 00:00:02.000\n<v H>I will not listen.\n\n"
    "00:00:02.000 --> 00:00:03.000\n<v QM>Then hear this.\n"
).encode()
DECISION_PDF = (DEMO_CORPUS / "decision-extradition.pdf").read_bytes()


def bomb_pdf() -> bytes:
    """The decision with its first page stretched to 14400 x 14400 points (5 m square) at a user
    unit of 75000: a small file whose page's bitmap no server could hold."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(DECISION_PDF)))
    page = writer.pages[0]
    page.mediabox = RectangleObject([0, 0, 14400, 14400])
    page[NameObject("/UserUnit")] = NumberObject(75000)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def wav(seconds: float = 3.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV: a quiet tone whose pitch rises each second (a turn per second)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * (220 + 110 * (i // rate)) * i / rate)))
                               for i in range(int(seconds * rate))))
    return out.getvalue()
