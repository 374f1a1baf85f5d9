"""Errors of the key hierarchy.

Decryption failures collapse into one exception with no detail, in the manner of Fernet's
``InvalidToken``: a flipped byte, a wrong key, a moved ciphertext, a truncated stream and an
unknown format all look the same to the caller, and nothing says why.
"""

from __future__ import annotations


class KeyringError(Exception):
    """Base class of every key error."""

    code = "KEYRING_ERROR"


class IntegrityFailed(KeyringError):
    """A ciphertext did not authenticate. Nothing of its plaintext was returned."""

    code = "INTEGRITY_FAILED"

    def __init__(self) -> None:
        super().__init__("the stored data failed its integrity check and was not decrypted")


class KeyVersionRetired(KeyringError):
    """The ciphertext is under a key version that is no longer allowed to decrypt."""

    code = "KEY_VERSION_RETIRED"


class WrongPassphrase(KeyringError):
    code = "WRONG_PASSPHRASE"

    def __init__(self) -> None:
        super().__init__("the passphrase does not open this vault; nothing was changed")


class WeakPassphrase(KeyringError):
    code = "WEAK_PASSPHRASE"


class EmptyKeyring(KeyringError):
    code = "EMPTY_KEYRING"


class ShareInvalid(KeyringError):
    """A share that cannot count towards unsealing: unreadable, of another split, given twice.
    The message never repeats the share's words."""

    code = "SHARE_INVALID"


class ShareOfAnotherSplit(ShareInvalid):
    code = "SHARE_OF_ANOTHER_SPLIT"

    def __init__(self, where: str = "this share") -> None:
        super().__init__(f"{where} belongs to another split (an older `casevault keys split`, or another vault); "
                         "use the shares of the newest split")


class NotEnoughShares(KeyringError):
    code = "NOT_ENOUGH_SHARES"

    @classmethod
    def of(cls, given: int, threshold: int) -> NotEnoughShares:
        return cls(f"{given} of {threshold} shares given; {threshold - given} more needed to unseal the vault")


class SharesDoNotOpen(KeyringError):
    """The shares combine, but into a secret that does not open this vault."""

    code = "SHARES_DO_NOT_OPEN"

    def __init__(self) -> None:
        super().__init__("these shares do not open this vault (they belong to another split or were altered); "
                         "nothing was changed")


class SealMissing(KeyringError):
    """The vault has no seal of the kind offered (no passphrase seal after --drop-passphrase,
    no split before `keys split`)."""

    code = "SEAL_MISSING"
