"""What kind of audio a file is, from its first bytes (never from its name or a client's type)."""

from __future__ import annotations

_M4A_BRANDS = frozenset({b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"dash"})


def audio_type(head: bytes) -> str | None:
    """The media type of the audio whose file starts with ``head`` (WAV, MP3, Ogg, M4A), or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[4:8] == b"ftyp" and head[8:12] in _M4A_BRANDS:
        return "audio/mp4"
    if head[:3] == b"ID3":
        return "audio/mpeg"
    # an MPEG audio frame: 11 sync bits, a version that exists, a layer that exists (not AAC's 00)
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x18 != 0x08 and head[1] & 0x06:
        return "audio/mpeg"
    return None
