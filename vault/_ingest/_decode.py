"""Turn the bytes of an uploaded text file into text, or refuse.

The name matcher in ``redaction`` only protects a name it can see. A lossy decode (``errors="replace"``)
or a guessed encoding can turn "Hélène" into "HÃ©lÃ¨ne" or "H?l?ne", which no alias matches, and the
real name would then reach the index unmasked. So every step here is strict: a byte order mark is
believed, UTF-8 is tried strictly, a single-byte legacy encoding is used only when the bytes show no
sign of UTF-8 at all, and anything else is an ``EncodingFailed`` before a byte is stored.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from vault.errors import EncodingFailed, InvalidInput

# Longest first: the UTF-32 LE mark begins with the UTF-16 LE mark.
BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# A well-formed multi-byte UTF-8 sequence (RFC 3629, no overlongs, no surrogates). Single-byte text
# in cp1252 or Latin-1 almost never contains one by accident, so finding one in bytes that failed
# to decode as UTF-8 means the file mixes UTF-8 with something else: guessing either way would
# corrupt some of its names.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xC2-\xDF][\x80-\xBF]"
    rb"|\xE0[\xA0-\xBF][\x80-\xBF]"
    rb"|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}"
    rb"|\xED[\x80-\x9F][\x80-\xBF]"
    rb"|\xF0[\x90-\xBF][\x80-\xBF]{2}"
    rb"|[\xF1-\xF3][\x80-\xBF]{3}"
    rb"|\xF4[\x80-\x8F][\x80-\xBF]{2}"
)

# Characters no court record or transcript contains on purpose: C0 controls other than tab, line
# feed, carriage return and form feed (the page separator), DEL, the C1 controls (in a Latin-1
# fallback they mean the file was really cp1252), and lone surrogates (they cannot be encoded again
# and would break every later step).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

_NEWLINES = re.compile("\r\n?")


def decode_text(data: bytes, *, legacy_encoding: str | None = "cp1252") -> tuple[str, str]:
    """Decode an uploaded text file strictly; return the text and a label of the encoding used.

    The text has its newlines turned into ``\\n`` and is NFC-normalised, so "é" typed as one code
    point or as "e" plus a combining accent matches the same alias. ``legacy_encoding`` is the
    single-byte encoding tried, and recorded in the label, when the bytes are not UTF-8; ``None``
    refuses such files instead.
    """
    if legacy_encoding is not None:
        _check_legacy_encoding(legacy_encoding)

    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            text = _decode_after_mark(data, mark, encoding)
            label = encoding
            break
    else:
        text, label = _decode_unmarked(data, legacy_encoding)

    check_text(text)
    text = _NEWLINES.sub("\n", text)
    return unicodedata.normalize("NFC", text), label


def _check_legacy_encoding(name: str) -> None:
    # A configuration mistake, not the file's fault: say so rather than blame the upload.
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise InvalidInput(
            "the configured legacy encoding is not a known text encoding; "
            "set it to a single-byte encoding such as cp1252 or latin-1"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise InvalidInput(
            "the configured legacy encoding is not a text encoding; "
            "set it to a single-byte encoding such as cp1252 or latin-1"
        )


def _decode_after_mark(data: bytes, mark: bytes, encoding: str) -> str:
    # A byte-order mark is a promise; a file that breaks it is refused, never re-read as
    # something else.
    try:
        return data[len(mark) :].decode(encoding)
    except UnicodeDecodeError as error:
        family = encoding.removesuffix("-le").removesuffix("-be").upper()
        problem = "a lone surrogate" if "surrogate" in error.reason else "an invalid or truncated character"
        raise EncodingFailed(
            f"the file starts with a {family} byte-order mark but contains {problem} "
            f"at byte {len(mark) + error.start}; nothing was stored; re-save it as UTF-8"
        ) from None


def _decode_unmarked(data: bytes, legacy_encoding: str | None) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        first_bad_byte = error.start

    if _UTF8_MULTIBYTE.search(data):
        raise EncodingFailed(
            "the file mixes UTF-8 with another encoding (it has valid UTF-8 characters and "
            f"invalid UTF-8 at byte {first_bad_byte}); nothing was stored; "
            "re-save the whole file as UTF-8"
        )
    if legacy_encoding is None:
        raise EncodingFailed(
            "the file is not valid UTF-8 or UTF-16 and has no legacy encoding configured; "
            "re-save it as UTF-8"
        )
    try:
        return data.decode(legacy_encoding), f"{legacy_encoding} (legacy fallback)"
    except UnicodeDecodeError as error:
        raise EncodingFailed(
            f"the file is neither UTF-8 nor valid {legacy_encoding} (byte {error.start} has no "
            f"meaning in {legacy_encoding}); nothing was stored; re-save it as UTF-8"
        ) from None


def check_text(text: str) -> None:
    """Refuse text holding NUL, other control characters or lone surrogates (EncodingFailed)."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return
    char = found.group()
    if char == "\x00":
        what = "a NUL character (the file may be binary, or UTF-16 without a byte-order mark)"
    elif "\ud800" <= char <= "\udfff":
        what = "a lone surrogate (a broken UTF-16 character)"
    else:
        what = f"the control character U+{ord(char):04X}"
    raise EncodingFailed(
        f"the text contains {what} at character {found.start()}; nothing was stored; "
        "remove it or re-save the file as UTF-8 text"
    )
