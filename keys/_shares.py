"""Splitting an unseal secret into SLIP-39 shares, and putting it back together.

All the secret sharing is ``shamir-mnemonic`` (the SLIP-39 reference implementation): one group
(group threshold 1) of N member shares, any M of which recover the secret. Nothing here repeats a
share's words in a message: the library's own messages quote the first words of a share, so its
errors are replaced by ours, which say which share (by position) is wrong and why.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from shamir_mnemonic import MnemonicError, combine_mnemonics, generate_mnemonics
from shamir_mnemonic.share import Share

from keys.errors import NotEnoughShares, ShareInvalid, ShareOfAnotherSplit

SECRET_BYTES = 32  # the unseal secret: 256 random bits, 33 words per share
MAX_SHARES = 16  # SLIP-39's limit per group


@dataclass(frozen=True, slots=True)
class Split:
    """A new split: the secret (kept only long enough to seal the root key under it), the
    shares (printed once), and what identifies the split."""

    secret: bytes
    shares: list[str]
    identifier: int
    threshold: int

    def __repr__(self) -> str:  # never show the secret or a share, not even in a traceback
        return f"Split(identifier={self.identifier}, threshold={self.threshold}, shares={len(self.shares)})"


@dataclass(frozen=True, slots=True)
class ShareInfo:
    """What a share says about itself (no secret): its split, threshold and member index."""

    identifier: int
    threshold: int
    index: int


def check_split(shares: int, threshold: int) -> None:
    """ValueError with a sentence unless SLIP-39 (and sense) allow this split."""
    if not 2 <= shares <= MAX_SHARES:
        raise ValueError(f"give between 2 and {MAX_SHARES} shares")
    if not 2 <= threshold <= shares:
        raise ValueError(f"the threshold must be at least 2 and at most the number of shares ({shares})")


def split_secret(shares: int, threshold: int) -> Split:
    """A new random secret, split into ``shares`` SLIP-39 mnemonics, any ``threshold`` of which
    recover it."""
    check_split(shares, threshold)
    secret = os.urandom(SECRET_BYTES)
    mnemonics = generate_mnemonics(1, [(threshold, shares)], secret)[0]
    return Split(secret, mnemonics, Share.from_mnemonic(mnemonics[0]).identifier, threshold)


def read_share(mnemonic: str, where: str = "the share") -> ShareInfo:
    """What a share says about itself; ShareInvalid (naming ``where``, never a word) if its words
    or checksum are wrong."""
    words = " ".join(mnemonic.lower().split())
    try:
        share = Share.from_mnemonic(words)
    except (MnemonicError, ValueError):
        raise ShareInvalid(f"{where} is not a valid share: a word is misspelt, missing or out of place "
                           "(its checksum fails); type it again from the printed copy") from None
    if share.group_count != 1 or share.group_threshold != 1:
        raise ShareOfAnotherSplit(where)
    return ShareInfo(share.identifier, share.member_threshold, share.index)


def recover_secret(mnemonics: Sequence[str], identifier: int, threshold: int, *,
                   labels: Sequence[str] | None = None) -> bytes:
    """The secret of the split ``identifier`` from at least ``threshold`` of its shares.

    ShareInvalid names the first share that is unreadable or of another split; the same share
    given twice counts once; NotEnoughShares says how many are given and how many more needed."""
    labels = labels or [f"share {i + 1}" for i in range(len(mnemonics))]
    unique: dict[int, str] = {}
    for mnemonic, label in zip(mnemonics, labels, strict=True):
        info = read_share(mnemonic, label)
        if info.identifier != identifier:
            raise ShareOfAnotherSplit(label)
        unique.setdefault(info.index, " ".join(mnemonic.lower().split()))
    if len(unique) < threshold:
        raise NotEnoughShares.of(len(unique), threshold)
    try:
        return combine_mnemonics(list(unique.values()))
    except (MnemonicError, ValueError):
        raise ShareInvalid("these shares do not fit together (their split parameters differ); "
                           "use shares printed by the same `casevault keys split`") from None
