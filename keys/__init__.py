"""The key hierarchy and the crypto recipes of casevault.

passphrase --Argon2id--> (or SLIP-39 shares --HKDF-->) root key --wraps--> master key --wraps--> case keys --wrap--> document keys --encrypt--> blobs.
Every key is random and wrapped by its parent, so rotating a parent rewraps children without
touching the data. This package stores nothing: the vault keeps the wrapped forms.
"""

from keys._aead import Keyring, SecretKey, token_version, unwrap_key, wrap_key
from keys._context import Context
from keys._digest import KeyedDigest, keyed_digest
from keys._root import (
    RootSeal,
    WrappedMaster,
    open_root_by_passphrase,
    open_root_by_secret,
    read_master_record,
    retired_master,
    seal_root_by_passphrase,
    seal_root_by_secret,
    wrap_master,
)
from keys._seal import KdfParams, SealedKey, check_passphrase, seal_master_key, unseal_master_key
from keys._shares import MAX_SHARES, ShareInfo, Split, check_split, read_share, recover_secret, split_secret
from keys._signing import SigningKey, fingerprint, signature_valid
from keys._stream import DEFAULT_CHUNK_BYTES, DecryptingReader, StreamEncryptor, stream_key_version
from keys.errors import (
    EmptyKeyring,
    IntegrityFailed,
    KeyringError,
    KeyVersionRetired,
    NotEnoughShares,
    SealMissing,
    ShareInvalid,
    ShareOfAnotherSplit,
    SharesDoNotOpen,
    WeakPassphrase,
    WrongPassphrase,
)

__all__ = [
    "MAX_SHARES",
    "NotEnoughShares",
    "RootSeal",
    "SealMissing",
    "ShareInfo",
    "ShareInvalid",
    "ShareOfAnotherSplit",
    "SharesDoNotOpen",
    "Split",
    "WrappedMaster",
    "check_split",
    "open_root_by_passphrase",
    "open_root_by_secret",
    "read_master_record",
    "read_share",
    "recover_secret",
    "retired_master",
    "seal_root_by_passphrase",
    "seal_root_by_secret",
    "split_secret",
    "wrap_master",
    "DEFAULT_CHUNK_BYTES",
    "Context",
    "DecryptingReader",
    "EmptyKeyring",
    "IntegrityFailed",
    "KdfParams",
    "KeyedDigest",
    "Keyring",
    "KeyringError",
    "KeyVersionRetired",
    "SealedKey",
    "SecretKey",
    "SigningKey",
    "StreamEncryptor",
    "WeakPassphrase",
    "WrongPassphrase",
    "check_passphrase",
    "fingerprint",
    "keyed_digest",
    "seal_master_key",
    "signature_valid",
    "stream_key_version",
    "token_version",
    "unseal_master_key",
    "unwrap_key",
    "wrap_key",
]
