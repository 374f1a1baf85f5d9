"""Every table of casevault.

Columns ending in ``_ct`` hold AEAD ciphertext (see ``keys``); ``_digest`` columns hold keyed
digests. No column holds a name, a title or document text in clear. Sizes, counts and dates are
in clear: DESIGN.md accepts that someone with the data directory learns those.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored and returned as aware UTC datetimes on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class RootSealRow(Base):
    """One way to open the root key: ``passphrase`` (Argon2id) or ``shares`` (the secret of the
    newest SLIP-39 split, through HKDF). ``sealed`` is the JSON of ``keys.RootSeal``; the split's
    identifier, threshold and number of shares are kept beside it (no secret) so a sealed server
    can say how many shares it needs and refuse one of another split before the threshold."""

    __tablename__ = "root_seal"
    method: Mapped[str] = mapped_column(String(20), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    split_id: Mapped[int | None] = mapped_column(Integer)
    threshold: Mapped[int | None] = mapped_column(Integer)
    share_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MasterKeyVersion(Base):
    """A master key version: wrapped by the root key (``keys.WrappedMaster``), a tombstone once
    retired, or, in a vault of release 1 not opened since, sealed under the passphrase."""

    __tablename__ = "master_key"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SystemKeyVersion(Base):
    """A vault-wide key (case-name digests, the audit chain), wrapped by the master key."""

    __tablename__ = "system_key"
    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    master_version: Mapped[int] = mapped_column(ForeignKey("master_key.version"))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PseudonymScopeRow(Base):
    """A pseudonym scope: one per case by default, plus the shared "archive" scope that cases
    may opt into. ``epoch`` moves whenever an identity of the scope is added or changed; a
    document masked at an older epoch is masked again before anyone reads or indexes it."""

    __tablename__ = "pseudonym_scope"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer, default=0)


class CaseRow(Base):
    __tablename__ = "case"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(ForeignKey("pseudonym_scope.id"), index=True)
    index_key_ct: Mapped[bytes] = mapped_column(LargeBinary)  # the search index key, wrapped by the case key
    name_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseKeyVersion(Base):
    __tablename__ = "case_key"
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    master_version: Mapped[int] = mapped_column(ForeignKey("master_key.version"))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseKeyRetiredRow(Base):
    """The tombstone of a retired case key version: its wrapped key (its ``case_key`` row) is
    gone, so what is still under it can never be decrypted again; this row says so, and that
    every version below it went too (versions are retired oldest first)."""

    __tablename__ = "case_key_retired"
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    retired_by: Mapped[str] = mapped_column(String(200))
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocumentRow(Base):
    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("case_id", "content_digest"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    # HMAC of the original bytes under the case's digest key: duplicates within a case are
    # found, and the same file in two cases cannot be linked.
    content_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    turn_count: Mapped[int] = mapped_column(Integer, default=0)
    text_encoding: Mapped[str | None] = mapped_column(String(60))
    pending_suggestions: Mapped[int] = mapped_column(Integer, default=0)
    mask_epoch: Mapped[int] = mapped_column(Integer, default=0)  # the scope epoch it was masked at
    title_ct: Mapped[bytes] = mapped_column(LargeBinary)
    filename_ct: Mapped[bytes] = mapped_column(LargeBinary)
    key_ct: Mapped[bytes] = mapped_column(LargeBinary)  # the document key, wrapped by the case key
    case_key_version: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # vault._integrity: NULL is tampered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the upload
    # the document's own date (a decision's, a call's), in clear: vault._ingest._dating says why
    document_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class BlobRow(Base):
    """One encrypted file of a document: the original, the extracted content or the masked form.
    ``key_version`` is the version of the document key it is encrypted under, which is the case
    key version current when that key was made (1 for keys made before versions were numbered so)."""

    __tablename__ = "blob"
    __table_args__ = (UniqueConstraint("document_id", "purpose", "version"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    stored_bytes: Mapped[int] = mapped_column(BigInteger)
    key_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntryRow(Base):
    """One entry of the append-only audit log; ``entry_mac`` chains it to the one before."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(36), index=True)  # vault._integrity reads revocations by it
    details_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    prev_mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry_mac: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """A single row: the last sequence number and MAC. Updating it serialises appends."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))


class UserRow(Base):
    """A person who uses casevault. Staff names are not protected, so they are in clear."""

    __tablename__ = "user_account"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # vault._integrity: NULL is tampered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MembershipRow(Base):
    __tablename__ = "membership"
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id"), primary_key=True)
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # vault._integrity: NULL is tampered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PendingMembershipRow(Base):
    """A membership an admin made (or left waiting by resetting its user's credentials or changing
    their role): it gives no access until a reviewer of the case confirms it, and then becomes a
    ``MembershipRow``. ``id`` is new whenever the membership is made to wait again, so a
    confirmation given for an earlier state cannot land on a later one."""

    __tablename__ = "membership_pending"
    __table_args__ = (UniqueConstraint("user_id", "case_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))  # the admin action that made it wait
    requested_by: Mapped[str] = mapped_column(String(200))  # the audit actor of that action
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # vault._integrity: NULL is tampered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EnrolmentRow(Base):
    """A one-time enrolment code: its holder sets the user's password and second factor and gets
    their access key. Only its SHA-256 is kept (the code is 256 random bits). ``by_operator``: the
    operator issued it (an admin-issued code leaves the user's memberships waiting)."""

    __tablename__ = "enrolment"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    by_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # vault._integrity: NULL is tampered


class AccessKeyRow(Base):
    """An API access key: only its SHA-256 is stored (the key is 256 random bits, shown once)."""

    __tablename__ = "access_key"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # enough to tell keys apart in a list
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # vault._integrity: NULL is tampered


class CredentialRow(Base):
    """How a user signs in to the web pages: an Argon2id password hash and, for a second factor,
    a TOTP secret encrypted under the vault's credentials key, with the last time step accepted
    (a code is good once)."""

    __tablename__ = "user_credential"
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # vault._integrity: NULL is tampered
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSessionRow(Base):
    """A signed-in browser. Only the SHA-256 of the session token is kept; the CSRF token is a
    second random value the pages carry in their forms."""

    __tablename__ = "web_session"
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # vault._integrity: NULL is tampered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScopeKeyVersion(Base):
    """A key of one purpose for one pseudonym scope (a case id, or "archive"), wrapped by the
    master key: "reidentification" encrypts real names and aliases (kept apart from the
    documents' keys); "pseudonym" keys the identity tokens; "label" encrypts the labels."""

    __tablename__ = "scope_key"
    scope: Mapped[str] = mapped_column(String(36), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(30), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    master_version: Mapped[int] = mapped_column(ForeignKey("master_key.version"))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityRow(Base):
    """A protected identity of one pseudonym scope. Its real name and aliases are encrypted
    under the scope's re-identification key; its label ("H") under the scope's label key,
    unique in the scope by keyed digest."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("scope", "label_digest"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(ForeignKey("pseudonym_scope.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    label_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    label_ct: Mapped[bytes] = mapped_column(LargeBinary)
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    aliases_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UnmaskRequestRow(Base):
    """An investigator's request to see one identity's real name in one case, and its decision.
    The justification is free text, so it is encrypted under the case key."""

    __tablename__ = "unmask_request"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id"), index=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("identity.id"))
    requested_by: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    justification_ct: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(20))  # pending, approved, denied, revoked
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # vault._integrity: NULL is tampered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndexOutboxRow(Base):
    """A document whose searchable form changed (ingested, masked again, released), written in
    the same transaction as the change. Search indexes follow these rows in id order, each
    remembering the last id it applied, so a crash between the database and an index commit is
    repaired by replaying, and several nodes can follow the same rows."""

    __tablename__ = "index_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    document_id: Mapped[str] = mapped_column(String(36))
    # the document's earlier index rows may hold words it no longer shows (a name registered or
    # masked by hand since): its old segments must be rewritten, not only marked deleted
    purge: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndexNodeRow(Base):
    """A node's search indexes and how far they have applied the outbox: every outbox row up to
    ``position`` is in them, for every case. The outbox is pruned only below the lowest position
    of the nodes seen lately (``vault._housekeeping``); a node that stops reporting is forgotten
    after a while, and rebuilds its indexes if it comes back behind what was pruned."""

    __tablename__ = "index_node"
    node: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxHorizonRow(Base):
    """A single row: the highest outbox id ever pruned. An index whose mark is below it has
    missed rows it can no longer read, and rebuilds from the vault instead."""

    __tablename__ = "index_outbox_horizon"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pruned_through: Mapped[int] = mapped_column(BigInteger, default=0)


class PolicyEpochRow(Base):
    """A single row: a counter that moves, in the same transaction, with every write to what the
    policy reads (cases, users, memberships, identities, pseudonym scopes and their keys, unmask
    requests). A process may keep what it decrypted for the policy (case names, identities, who
    sees which real name) while the counter stands still; one cheap read per request tells it
    when another process has changed any of it. See ``vault._policy``."""

    __tablename__ = "policy_epoch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class FormatStepRow(Base):
    """A format step (``vault._formats``) that has finished on this vault: data that needed the
    keys to be converted (MACs over rows, re-sealing) is in this release's format."""

    __tablename__ = "vault_format"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchRecordRow(Base):
    """A search a person ran, kept under an opaque random id so its page has an address that is
    not its query (``vault._saved_searches``). The query, the name a saved search was given and the
    documents it found when last run are ciphertext bound to the id and its owner; an unsaved one
    expires (``expires_at``), a saved one (``name_ct`` set) stays until its owner deletes it."""

    __tablename__ = "search_record"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    query_ct: Mapped[bytes] = mapped_column(LargeBinary)
    name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    seen_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
