"""SLIP-39 shares of the unseal secret (shamir-mnemonic): any threshold of them rebuild it, fewer
do not, a share of another split or with a mistyped word is refused by position, and no message
or repr ever holds a share's words or the secret."""

from __future__ import annotations

import itertools

import pytest
from shamir_mnemonic.share import Share

from keys import (
    NotEnoughShares,
    SecretKey,
    ShareInvalid,
    ShareOfAnotherSplit,
    SharesDoNotOpen,
    open_root_by_secret,
    recover_secret,
    seal_root_by_secret,
    split_secret,
)


def test_any_threshold_of_the_shares_rebuild_the_secret_and_fewer_do_not():
    made = split_secret(5, 3)
    assert len(made.shares) == 5 and all(len(s.split()) == 33 for s in made.shares)
    for chosen in itertools.combinations(made.shares, 3):
        assert recover_secret(chosen, made.identifier, 3) == made.secret
    for chosen in itertools.combinations(made.shares, 2):
        with pytest.raises(NotEnoughShares, match="^2 of 3 shares given; 1 more needed"):
            recover_secret(chosen, made.identifier, 3)
    assert recover_secret([made.shares[0].upper(), "  ".join(made.shares[1].split()), made.shares[2]],
                          made.identifier, 3) == made.secret  # case and spacing as typed


def test_a_share_of_another_split_or_mistyped_is_refused_by_its_position_never_its_words():
    made, other = split_secret(3, 2), split_secret(3, 2)
    with pytest.raises(ShareOfAnotherSplit, match="^share 2 belongs to another split"):
        recover_secret([made.shares[0], other.shares[1]], made.identifier, 2)
    words = made.shares[2].split()
    words[20], words[21] = words[21], words[20]
    if words[20] == words[21]:
        words[20] = "academic" if words[20] != "academic" else "acid"
    with pytest.raises(ShareInvalid, match="^line 9 is not a valid share.*checksum") as caught:
        recover_secret([made.shares[0], " ".join(words)], made.identifier, 2, labels=["line 1", "line 9"])
    message = " ".join(str(caught.value).lower().split())
    assert not any(" ".join(words[i:i + 2]) in message for i in range(len(words) - 1))  # one word may be common


def test_a_secret_of_another_split_does_not_open_the_root_key():
    root = SecretKey.generate()
    made, other = split_secret(2, 2), split_secret(2, 2)
    seal = seal_root_by_secret(root, made.secret, made.identifier)
    assert open_root_by_secret(seal, made.secret).material == root.material
    with pytest.raises(SharesDoNotOpen):
        open_root_by_secret(seal, other.secret)


def test_splits_out_of_bounds_are_refused_and_nothing_shows_the_secret():
    for shares, threshold in ((1, 1), (3, 1), (3, 4), (17, 2)):
        with pytest.raises(ValueError):
            split_secret(shares, threshold)
    made = split_secret(3, 2)
    assert Share.from_mnemonic(made.shares[0]).member_threshold == 2
    shown = repr(made)
    assert made.secret.hex() not in shown and not any(s.split()[5] in shown for s in made.shares)
