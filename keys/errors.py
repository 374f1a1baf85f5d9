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
