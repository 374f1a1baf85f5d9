"""Pseudonym tokens, masking, and rendering a masked text for one reader.

Masked text holds a keyed token where each mention of an identity stood (``cvx`` and 16 base-32
characters: one search term, and no word a person writes). The token is an HMAC of the
identity's id under the key of its pseudonym scope (the case, or the archive when a case opts
in), so it is unlinkable across scopes and says nothing about the name. A category redaction
without an identity ("[location]") is written into the masked text as it is.

Rendering replaces each token with what the reader may see, per identity: the pseudonym label
("H") or, where the policy allows, the real name. A token the caller did not provide a display
for renders as "[redacted]", never as anything derived from the name.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, hmac

from redaction.errors import OverlappingRedactions

TOKEN_PREFIX = "cvx"
TOKEN_PATTERN = re.compile(r"cvx[a-z2-7]{16}")
UNKNOWN = "[redacted]"


def pseudonym_token(scope_key: bytes, identity_id: str) -> str:
    """The token that stands for an identity in masked text, keyed by its scope."""
    if len(scope_key) < 32:
        raise ValueError("a scope key is at least 32 bytes")
    mac = hmac.HMAC(scope_key, hashes.SHA256())
    mac.update(b"casevault-pseudonym-token/1\x00" + identity_id.encode())
    return TOKEN_PREFIX + base64.b32encode(mac.finalize()[:10]).decode().lower()


@dataclass(frozen=True, slots=True)
class Redaction:
    """A region of the original text to mask: an identity's mention or a category."""

    start: int
    end: int
    identity_id: str | None = None  # None: a category redaction such as "[location]"
    category: str = "other"


@dataclass(frozen=True, slots=True)
class MaskedSpan:
    """Where a redaction landed: in the masked text, and where it came from in the original."""

    start: int
    end: int
    original_start: int
    original_end: int
    identity_id: str | None
    category: str


@dataclass(frozen=True, slots=True)
class MaskedText:
    text: str
    spans: tuple[MaskedSpan, ...]


def mask(text: str, redactions: Sequence[Redaction], token_of: Callable[[str], str]) -> MaskedText:
    """Replace each redaction by its identity's token (or its category placeholder).

    ``token_of`` maps an identity id to its token. Redactions must not overlap (the matcher and
    the review already resolve overlaps); an overlap here is a bug upstream and is refused.
    """
    pieces: list[str] = []
    spans: list[MaskedSpan] = []
    position = length = 0
    for redaction in sorted(redactions, key=lambda r: r.start):
        if redaction.start < position or not 0 <= redaction.start < redaction.end <= len(text):
            raise OverlappingRedactions("redactions overlap or fall outside the text")
        pieces.append(text[position:redaction.start])
        length += redaction.start - position
        replacement = (token_of(redaction.identity_id) if redaction.identity_id is not None
                       else f"[{redaction.category}]")
        pieces.append(replacement)
        spans.append(MaskedSpan(length, length + len(replacement), redaction.start, redaction.end,
                                redaction.identity_id, redaction.category))
        length += len(replacement)
        position = redaction.end
    pieces.append(text[position:])
    return MaskedText("".join(pieces), tuple(spans))


def render(masked_text: str, display: Mapping[str, str]) -> str:
    """The masked text for one reader: each token replaced by ``display[token]``.

    ``display`` is built by the caller from the policy: the pseudonym label for most identities,
    the real name only for those the reader may see. Tokens missing from it render as UNKNOWN.
    """
    return TOKEN_PATTERN.sub(lambda m: display.get(m.group(), UNKNOWN), masked_text)


def render_marked(masked_text: str, display: Mapping[str, str],
                  revealing: Container[str] = ()) -> tuple[str, tuple[tuple[int, int, bool], ...]]:
    """``render``, with where each identity stands in the result: ``(start, end, real_name)``
    per token, so a page can show pseudonyms as labels and real names as revealed."""
    pieces: list[str] = []
    marks: list[tuple[int, int, bool]] = []
    length = position = 0
    for match in TOKEN_PATTERN.finditer(masked_text):
        before = masked_text[position:match.start()]
        pieces.append(before)
        length += len(before)
        shown = display.get(match.group(), UNKNOWN)
        pieces.append(shown)
        marks.append((length, length + len(shown), match.group() in revealing))
        length += len(shown)
        position = match.end()
    pieces.append(masked_text[position:])
    return "".join(pieces), tuple(marks)
