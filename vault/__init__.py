"""The vault: the database, encrypted blobs, the audit log and the ingest pipeline.

Open one with ``Vault.initialize(settings, passphrase)`` or ``Vault.open(settings, passphrase)``.
"""

from vault._audit import AuditEntry, AuditReport
from vault._ingest._limits import Limits
from vault._ingest._model import Extracted, Format, Kind, Page, Turn
from vault._settings import InvalidSetting, Settings
from vault._unmask import UnmaskRequest, UnmaskState
from vault._users import ACCESS_KEY_PREFIX, Unauthenticated, UserInfo
from vault._identities import Identity, IdentityCategory
from vault._vault import BlobPurpose, CaseInfo, DocumentInfo, DocumentStatus, DocumentView, KeyStatus, ReviewView, Vault, ViewUnit

__all__ = [
    "ACCESS_KEY_PREFIX",
    "AuditEntry",
    "AuditReport",
    "BlobPurpose",
    "CaseInfo",
    "DocumentInfo",
    "DocumentStatus",
    "DocumentView",
    "Extracted",
    "Format",
    "Identity",
    "IdentityCategory",
    "InvalidSetting",
    "KeyStatus",
    "Kind",
    "Limits",
    "Page",
    "ReviewView",
    "Settings",
    "Turn",
    "Unauthenticated",
    "UnmaskRequest",
    "UnmaskState",
    "UserInfo",
    "Vault",
    "ViewUnit",
]
