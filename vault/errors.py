"""Errors raised by the vault: storage, ingest and the audit log.

Every error carries a stable ``code`` (for the JSON API and the CLI) and a message a person can
act on. Messages never contain document text, names or key material.
"""

from __future__ import annotations


class VaultError(Exception):
    """Base class of every vault error."""

    code = "VAULT_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotInitialized(VaultError):
    code = "NOT_INITIALIZED"


class AlreadyInitialized(VaultError):
    code = "ALREADY_INITIALIZED"


class SchemaBehind(VaultError):
    """The vault's schema or data formats are those of an earlier release: `casevault upgrade`
    must run before anything else may. Nothing was changed."""

    code = "SCHEMA_BEHIND"


class SchemaAhead(VaultError):
    """The vault was made (or upgraded) by a newer release than this one. Nothing was changed."""

    code = "SCHEMA_AHEAD"


class NotFound(VaultError):
    """A case or document that does not exist (or that the caller may not see)."""

    code = "NOT_FOUND"


class Unauthenticated(NotFound):
    """An access key that is unknown, revoked or expired, or a disabled account: all alike."""

    code = "UNAUTHENTICATED"


class EnrolmentFailed(Unauthenticated):
    """An enrolment code that is unknown, used or expired: one answer for all."""

    code = "ENROLMENT_FAILED"


class SignInFailed(VaultError):
    """Wrong name, password or code, or no such user: one answer for all."""

    code = "SIGN_IN_FAILED"


class SessionEnded(VaultError):
    """A session token that is unknown, ended, expired, or whose user is disabled."""

    code = "SESSION_ENDED"


class Conflict(VaultError):
    code = "CONFLICT"


class RedactionConflict(Conflict):
    """A review decision on something already decided."""

    code = "ALREADY_DECIDED"


class AlreadyRequested(Conflict):
    """A second unmask request of one user for one identity while the first waits for a decision."""

    code = "ALREADY_REQUESTED"


class Forbidden(VaultError):
    """The caller may see the thing but not do this to it (e.g. an investigator releasing)."""

    code = "FORBIDDEN"


class DuplicateDocument(Conflict):
    code = "DUPLICATE_DOCUMENT"

    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class InvalidInput(VaultError):
    """A value given by the caller (a case name, a setting) that is not acceptable."""

    code = "INVALID_INPUT"


class RangeNotSatisfiable(InvalidInput):
    """A byte range (HTTP Range) that does not fit the file, or more ranges than one."""

    code = "RANGE_NOT_SATISFIABLE"


class InvalidSetting(InvalidInput):
    """A setting (``CASEVAULT_...``) with a value that cannot be used."""

    code = "INVALID_SETTING"


class IngestError(VaultError):
    """An uploaded file that cannot be taken in. Nothing of it is stored."""

    code = "INGEST_FAILED"


class TooLarge(IngestError):
    code = "TOO_LARGE"


class UnsupportedType(IngestError):
    code = "UNSUPPORTED_TYPE"


class TypeMismatch(UnsupportedType):
    """The file name says one type and the content another, or the content is a polyglot."""

    code = "TYPE_MISMATCH"


class EncodingFailed(IngestError):
    code = "ENCODING"


class MalformedDocument(IngestError):
    code = "MALFORMED_DOCUMENT"


class ParserLimitExceeded(IngestError):
    """The parser hit its page, size, memory or time limit (a bomb or a hostile file)."""

    code = "PARSER_LIMIT"


class ParsersBusy(VaultError):
    """Every sandboxed parser is busy and the queue of uploads waiting for one is full. Nothing
    of the upload was stored; it may be sent again after ``retry_after`` seconds."""

    code = "PARSERS_BUSY"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageFailed(VaultError):
    """The disk refused a write (full, read-only, I/O error). Nothing was half-written."""

    code = "STORAGE_FAILED"


class AuditFailed(VaultError):
    """The audit log could not be written; the action it guards did not happen."""

    code = "AUDIT_FAILED"


class AuditBroken(Conflict):
    """The audit log's hash chain breaks: it is not exported (a signature would vouch for it)."""

    code = "AUDIT_BROKEN"


class ExportBroken(Conflict):
    """An audit export that does not check: ``position`` is the entry where it breaks (0: its
    header or key). ``check_export`` reports it rather than raising it."""

    code = "AUDIT_EXPORT_BROKEN"

    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position = position


class VaultSealed(VaultError):
    """The server came up sealed: nothing but health, the seal status and unsealing answers
    until custodians have given enough shares."""

    code = "SEALED"

    def __init__(self, message: str = "the vault is sealed: custodians must give their shares at /unseal "
                                      "(or POST /api/v1/seal/shares) before anything else answers") -> None:
        super().__init__(message)


class StateTampered(VaultError):
    """A row that decides access (a role, a membership, a credential, a document's status, an
    unmask grant) does not carry the MAC the vault gave it: it was written around the vault
    (raw SQL, a restored copy). Nothing it would grant is granted; the operator is alerted
    through the audit log. ``table`` and ``row`` say which, for the audit entry (ids, no names)."""

    code = "STATE_TAMPERED"

    def __init__(self, table: str, row: str) -> None:
        super().__init__("a record failed its integrity check, so the request was refused; the operator was alerted")
        self.table = table
        self.row = row


class BackupFailed(StorageFailed):
    """A backup could not be written whole (the disk, or blob files the database references that
    are missing); no archive was left under the file's name."""

    code = "BACKUP_FAILED"


class BackupRunning(Conflict):
    """A backup was asked for while another runs (one at a time); nothing was started."""

    code = "BACKUP_RUNNING"


class BackupStopped(BackupFailed):
    """The server stopped while a backup it ran was being written; no archive was left."""

    code = "BACKUP_STOPPED"


class BackupUnreadable(InvalidInput):
    """A file that is not a casevault backup, or whose members or manifest do not check out
    (a flipped byte, a missing member, a manifest altered). Nothing was restored."""

    code = "BACKUP_DAMAGED"


class BackupTooNew(BackupUnreadable):
    """A backup written by a newer release (or a schema this release does not know)."""

    code = "BACKUP_TOO_NEW"


class RestoreRefused(Conflict):
    """The restore target is not empty (or holds an unfinished restore of another backup)."""

    code = "RESTORE_REFUSED"
