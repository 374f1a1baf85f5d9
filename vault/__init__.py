"""The vault: the database, encrypted blobs, the audit log and the ingest pipeline.

Open one with ``Vault.initialize(settings, passphrase)`` or ``Vault.open(settings, passphrase)``.
"""

from vault._accounts import SignIn, WebSession
from vault._audit import AuditEntry, AuditFilter, AuditListing, AuditReport
from vault._audit_file import ExportCheck, check_export
from vault._backup import BackupReport
from vault._browsing import CaseDocuments, DocumentFilter, DocumentListing, DocumentSort, ListedDocument
from vault._backups import BackupRun, ServerBackups, StoredBackup
from vault._confirmations import Confirmation
from vault._enrolment import ENROLMENT_PREFIX
from vault._ingest._limits import Limits
from vault._ingest._model import Extracted, Format, Kind, Page, Turn
from vault._roles import grant_app_role
from vault._restore import RestoreReport
from vault._saved_searches import SearchRecord
from vault._settings import Settings
from vault._unmask import UnmaskRequest, UnmaskState
from vault._users import ACCESS_KEY_PREFIX, OPERATOR, AccessKeyInfo, Operator, UserInfo
from vault._identities import Identity, IdentityCategory
from vault._masking import MaskedDocument, MaskedUnit
from vault._originals import Audio, Timings
from vault._views import (
    BlobPurpose,
    CaseInfo,
    CaseKeyUse,
    Display,
    DocumentInfo,
    DocumentStatus,
    DocumentView,
    IndexChange,
    KeyStatus,
    MasterVersion,
    ReviewView,
    SealInfo,
    SearchableDocument,
    ViewUnit,
)
from vault._reencryption import Reencrypted
from vault._upgrade import UpgradeProgress, UpgradeReport
from vault._vault import Vault
from vault.errors import EnrolmentFailed, InvalidSetting, SessionEnded, SignInFailed, Unauthenticated

__all__ = [
    "Audio",
    "Timings",
    "CaseDocuments",
    "DocumentFilter",
    "DocumentListing",
    "DocumentSort",
    "ListedDocument",
    "ACCESS_KEY_PREFIX",
    "AuditEntry",
    "AuditFilter",
    "AuditListing",
    "AuditReport",
    "BackupReport",
    "BackupRun",
    "ExportCheck",
    "SearchRecord",
    "check_export",
    "BlobPurpose",
    "Confirmation",
    "ENROLMENT_PREFIX",
    "EnrolmentFailed",
    "CaseInfo",
    "CaseKeyUse",
    "Display",
    "DocumentInfo",
    "DocumentStatus",
    "DocumentView",
    "Extracted",
    "Format",
    "grant_app_role",
    "Identity",
    "IdentityCategory",
    "IndexChange",
    "InvalidSetting",
    "KeyStatus",
    "MasterVersion",
    "SealInfo",
    "Kind",
    "Limits",
    "MaskedDocument",
    "MaskedUnit",
    "OPERATOR",
    "Operator",
    "Page",
    "Reencrypted",
    "RestoreReport",
    "ReviewView",
    "SearchableDocument",
    "SessionEnded",
    "ServerBackups",
    "Settings",
    "SignIn",
    "SignInFailed",
    "StoredBackup",
    "Turn",
    "Unauthenticated",
    "UnmaskRequest",
    "UnmaskState",
    "UpgradeProgress",
    "UpgradeReport",
    "UserInfo",
    "AccessKeyInfo",
    "Vault",
    "WebSession",
    "ViewUnit",
]
