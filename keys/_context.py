"""Associated data: what a ciphertext is bound to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Context:
    """The record a ciphertext belongs to.

    Encoded into the AEAD's associated data, so a ciphertext copied to another case, document,
    purpose or version fails to decrypt. Fields are length-prefixed, so no two different contexts
    share an encoding ("ab" + "c" differs from "a" + "bc").
    """

    purpose: str
    case_id: str = ""
    document_id: str = ""
    version: int = 0

    def encode(self) -> bytes:
        parts = [b"casevault-context/1", self.purpose.encode(), self.case_id.encode(),
                 self.document_id.encode(), str(self.version).encode()]
        return b"".join(len(p).to_bytes(4, "big") + p for p in parts)
