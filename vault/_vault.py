"""The vault: cases and documents, encrypted at rest, every change audited.

``Vault`` is the composition root: it opens (or creates) the database and the key hierarchy,
builds the unit of work (``vault._store``) and one object per use case over it, and hands each
call on. The use cases: ``_cases`` (cases and their identities), ``_documents`` (ingest),
``_review``, ``_reading`` (views through the policy), ``_unmasking``, ``_access`` (users,
memberships, credentials), ``_sign_in``, ``_auditing``, ``_rotation``, ``_saved_searches``;
``_feed`` is what the search package reads, reached as ``vault.feed`` (not one method each here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from keys import DecryptingReader, KdfParams, Split
from vault import _opening as opening
from vault import _upgrade as upgrading
from vault._access import Access
from vault._accounts import SignIn, WebSession
from vault._audit import AuditEntry, AuditFilter, AuditListing, AuditReport
from vault._audit_export import AuditExport
from vault._auditing import AuditReading
from vault._backup import Backup, BackupProgress, BackupReport
from vault._cases import Cases
from vault._confirmations import Confirmation
from vault._corrections import Corrections
from vault._custody import Custody, read_seal_info
from vault._db import Database
from vault._document_dates import DocumentDates
from vault._documents import Documents
from vault._feed import Feed
from vault._housekeeping import Housekeeping
from vault._identities import Identity
from vault._ingest._model import Extracted, Kind
from vault._ingest._sandbox import ParserSlots
from vault._keystore import KeyStore
from vault._masking import MaskedDocument
from vault._models import utcnow
from vault._originals import Originals
from vault._reading import Reading
from vault._rekey import Rekey
from vault._restore import RestoreProgress, RestoreReport, restore
from vault._review import Review
from vault._review_groups import ReviewGroups
from vault._reencryption import Reencrypted, Reencryption
from vault._retirement import Retirement
from vault._rotation import Rotation
from vault._saved_searches import SavedSearches
from vault._settings import Settings
from vault._shredding import CaseContents, Shredding
from vault._sign_in import SignIns
from vault._store import Store
from vault._unmask import UnmaskRequest
from vault._unmasking import UnmaskRequests
from vault._users import OPERATOR, AccessKeyInfo, Operator, UserInfo
from vault._views import (
    CaseInfo,
    Display,
    DocumentInfo,
    DocumentStatus,
    DocumentView,
    KeyStatus,
    ReviewView,
    SealInfo,
)


class Vault:
    """An open (unsealed) vault. Make one with ``Vault.initialize`` or ``Vault.open``."""

    def __init__(self, settings: Settings, db: Database, keys: KeyStore) -> None:
        self.settings = settings
        self.db = db
        self._keys = keys
        # the clock is looked up at each call, so a test can move it (``utcnow`` of this module)
        self.store = Store(settings, db, keys, clock=lambda: utcnow())
        self.blobs = self.store.blobs
        self.identity_map = self.store.identity_map
        self._cases = Cases(self.store)
        self._documents = Documents(self.store, ParserSlots(settings.parsers, settings.parser_queue))
        self._reading = Reading(self.store)
        self._review = Review(self.store)
        self._unmasking = UnmaskRequests(self.store)
        self._access = Access(self.store, self._cases.case)
        self._sign_ins = SignIns(self.store)
        self._auditing = AuditReading(self.store)
        self._rotation = Rotation(self.store)
        self._custody = Custody(self.store)
        self._rekey = Rekey(self.store)
        self._reencryption = Reencryption(self.store)
        self._retirement = Retirement(self.store)
        self._housekeeping = Housekeeping(self.store)
        self._feed = Feed(self.store, self._reading)
        self._shredding = Shredding(self.store)
        self._audit_export = AuditExport(self.store)
        self._searches = SavedSearches(self.store)
        self._originals = Originals(self.store, self._reading, lambda: self._documents.parsers)

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def initialize(cls, settings: Settings, passphrase: str, *, kdf: KdfParams | None = None,
                   actor: str = "operator") -> Vault:
        """Create a new vault: schema, a sealed master key, system keys, the audit log."""
        db, keys = opening.create(settings, passphrase, kdf=kdf, actor=actor)
        vault = cls(settings, db, keys)
        vault.blobs.create()
        return vault

    @classmethod
    def open(cls, settings: Settings, passphrase: str | None = None, *, shares: Sequence[str] | None = None,
             labels: Sequence[str] | None = None, actor: str = "operator") -> Vault:
        """Unseal an existing vault by its passphrase, or by at least the threshold of the shares
        of its newest split (``labels`` name them in errors: "line 3 of FILE"); WrongPassphrase,
        a share error or SharesDoNotOpen (and nothing changed) if they do not fit. An unseal by
        shares is audited (``keys.unseal``), never the shares."""
        db, keys = opening.unseal(settings, passphrase if shares is None else None, shares=shares, labels=labels)
        vault = cls(settings, db, keys)
        if shares is not None:
            vault.record(actor=actor, action="keys.unseal", details={"by": "shares"})
        vault.blobs.create()
        vault.blobs.sweep_incoming(older_than=vault.blob_grace_seconds)
        vault.store.finish_shredding()  # files a destroyed case left when the process died before deleting them
        vault.remask_stale(actor="vault.open")  # finish what a crash after an identity change left
        return vault

    @staticmethod
    def upgrade(settings: Settings, passphrase: str | None, progress: upgrading.UpgradeProgress, *,
                shares: Sequence[str] | None = None, actor: str = "operator") -> upgrading.UpgradeReport:
        """Bring a vault made by an earlier release to this release's schema and formats
        (``vault._upgrade``): the one way in that does not refuse a vault that is behind."""
        return upgrading.upgrade(settings, passphrase, progress, shares=shares, actor=actor)

    @staticmethod
    def seal_of(settings: Settings) -> SealInfo:
        """How an existing vault unseals (passphrase, shares M of N, or both), read without
        unsealing it: what a sealed server and the command line ask for."""
        db = opening.existing(settings)
        try:
            return read_seal_info(db)
        finally:
            db.dispose()

    @staticmethod
    def restore(settings: Settings, archive: Path, passphrase: str | None = None, *,
                shares: Sequence[str] | None = None, labels: Sequence[str] | None = None, actor: str,
                progress: RestoreProgress | None = None) -> RestoreReport:
        """Rebuild a vault from a backup into an empty target (``vault._restore``), opened by the
        passphrase or shares of the vault it was taken from; run again, it finishes a restore that
        was killed. Open it with ``Vault.open`` afterwards."""
        return restore(settings, archive, passphrase, shares=shares, labels=labels, actor=actor, progress=progress)

    def backup(self, target: Path, *, actor: str, progress: BackupProgress | None = None) -> BackupReport:
        """Write one archive of the database, blobs and sealed keys while the vault runs (``vault._backup``)."""
        return Backup(self.store).write(target, actor=actor, progress=progress)

    @property
    def blob_grace_seconds(self) -> float:
        """How long a blob file may wait for its row: an upload's original waits in incoming while
        it queues for a parser and is parsed. Sweeps spare files younger than this."""
        turns = 2 + self.settings.parser_queue // self.settings.parsers
        return turns * self.settings.limits.parse_seconds + 60

    def close(self) -> None:
        self.store.policy_cache.clear()
        self.identity_map.forget()
        self._keys.forget()
        self.db.dispose()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def parsers(self) -> ParserSlots:
        """The sandboxed parsers an upload waits for (replaceable: a test narrows them)."""
        return self._documents.parsers

    @parsers.setter
    def parsers(self, slots: ParserSlots) -> None:
        self._documents.parsers = slots

    @property
    def feed(self) -> Feed:
        """What the search package reads: the outbox, masked forms, hit re-checks, the policy view."""
        return self._feed

    dates = property(lambda self: DocumentDates(self.store), doc="Documents' own dates (``vault._document_dates``).")

    @property
    def searches(self) -> SavedSearches:
        """A person's searches under opaque ids, and their saved searches (``vault._saved_searches``)."""
        return self._searches

    @property
    def corrections(self) -> Corrections:
        """A reviewer's fixes to masking: not this identity, reopen (``vault._corrections``)."""
        return Corrections(self.store)

    @property
    def review_groups(self) -> ReviewGroups:
        """Suggestions of one text and category decided at once (``vault._review_groups``)."""
        return ReviewGroups(self.store)

    @property
    def originals(self) -> Originals:
        """A PDF's pages as images for reviewers, a call's audio (``vault._originals``)."""
        return self._originals

    # -- cases and identities (vault._cases) -------------------------------------------------------

    def create_case(self, name: str, *, actor: str, archive_scope: bool = False) -> CaseInfo:
        return self._cases.create_case(name, actor=actor, archive_scope=archive_scope)

    def cases(self, user: UserInfo | None = None) -> list[CaseInfo]:
        return self._cases.cases(user)

    def case(self, name_or_id: str) -> CaseInfo:
        return self._cases.case(name_or_id)

    def case_contents(self, case: CaseInfo) -> CaseContents:
        return self._shredding.case_contents(case)

    def destroy_case(self, case: CaseInfo, *, actor: str) -> CaseContents:
        """Crypto-shred ``case`` (``vault._shredding``): its keys and rows in one transaction,
        audited as ``case.destroy``, then its blob files."""
        return self._shredding.destroy_case(case, actor=actor)

    def add_identity(self, case: CaseInfo, *, name: str, aliases: list[str] = (), label: str | None = None,  # type: ignore[assignment]
                     category: str = "person", actor: str) -> Identity:
        return self._cases.add_identity(case, name=name, aliases=aliases, label=label, category=category, actor=actor)

    def edit_identity(self, case: CaseInfo, pseudonym: str, *, name: str | None = None,
                      add_aliases: list[str] = (), remove_aliases: list[str] = (),  # type: ignore[assignment]
                      label: str | None = None, actor: str) -> Identity:
        return self._cases.edit_identity(case, pseudonym, name=name, add_aliases=add_aliases,
                                         remove_aliases=remove_aliases, label=label, actor=actor)

    def identity(self, case: CaseInfo, label: str) -> Identity:
        return self._cases.identity(case, label)

    def identities(self, case: CaseInfo) -> list[Identity]:
        return self._cases.identities(case)

    def identity_listing(self, case: CaseInfo, user: UserInfo | None, *, actor: str) -> list[dict[str, object]]:
        return self._cases.identity_listing(case, user, actor=actor)

    # -- documents (vault._documents) and re-masking (vault._store) ------------------------------

    def ingest(self, source: BinaryIO, *, case: CaseInfo, filename: str | None, actor: str,
               kind: Kind | None = None, audio: BinaryIO | None = None) -> DocumentInfo:
        return self._documents.ingest(source, case=case, filename=filename, actor=actor, kind=kind, audio=audio)

    def record_duplicate_upload(self, document_id: str, *, actor: str) -> None:
        self._documents.record_duplicate_upload(document_id, actor=actor)

    def document(self, document_id: str) -> DocumentInfo:
        return self._documents.document(document_id)

    def documents(self, case_id: str | None = None) -> list[DocumentInfo]:
        return self._documents.documents(case_id)

    def stale_documents(self, document_ids: Iterable[str] | None = None) -> list[str]:
        return self.store.stale_documents(document_ids)

    def remask_stale(self, *, actor: str) -> int:
        return self.store.remask_stale(actor=actor)

    # -- review (vault._review) --------------------------------------------------------------------

    def decide(self, document_id: str, user: UserInfo, suggestion_ids: list[str], *, accept: bool,
               identity_id: str | None = None, actor: str) -> MaskedDocument:
        return self._review.decide(document_id, user, suggestion_ids, accept=accept, identity_id=identity_id,
                                   actor=actor)

    def review_view(self, document_id: str, user: UserInfo, *, actor: str, window: slice | None = None) -> ReviewView:
        return self._review.review_view(document_id, user, actor=actor, window=window)

    def add_span(self, document_id: str, user: UserInfo, *, unit: int, start: int, end: int,
                 field_name: str = "text", category: str = "other", identity_id: str | None = None,
                 actor: str) -> MaskedDocument:
        return self._review.add_span(document_id, user, unit=unit, start=start, end=end, field_name=field_name,
                                     category=category, identity_id=identity_id, actor=actor)

    def release(self, document_id: str, user: UserInfo, *, actor: str) -> DocumentInfo:
        return self._review.release(document_id, user, actor=actor)

    def in_review(self, user: UserInfo | None = None) -> list[DocumentInfo]:
        return self._review.in_review(user)

    # -- reading (vault._reading) ------------------------------------------------------------------

    def content(self, document_id: str, *, actor: str) -> Extracted:
        return self._reading.content(document_id, actor=actor)

    def open_original(self, document_id: str, *, actor: str) -> DecryptingReader:
        return self._reading.open_original(document_id, actor=actor)

    def masked(self, document_id: str) -> MaskedDocument:
        return self._reading.masked(document_id)

    def view(self, document_id: str, user: UserInfo, *, actor: str, now: datetime | None = None) -> DocumentView:
        return self._reading.view(document_id, user, actor=actor, now=now)

    def display(self, case_id: str, user: UserInfo, now: datetime | None = None, *,
                epoch: int | None = None) -> Display:
        return self._reading.display(case_id, user, now, epoch=epoch)

    def visible_cases(self, user: UserInfo, *, epoch: int | None = None) -> list[tuple[CaseInfo, frozenset[DocumentStatus]]]:
        return self._reading.visible_cases(user, epoch=epoch)

    def policy_epoch(self) -> int:
        return self._reading.policy_epoch()

    # -- what the search indexes follow (vault._feed) --------------------------------------------

    def heads(self) -> tuple[int, int]:
        return self._feed.heads()

    # -- unmasking (vault._unmasking) --------------------------------------------------------------

    def request_unmask(self, user: UserInfo, case: CaseInfo, identity_label: str, justification: str, *,
                       actor: str) -> UnmaskRequest:
        return self._unmasking.request_unmask(user, case, identity_label, justification, actor=actor)

    def unmask_requests(self, case: CaseInfo, user: UserInfo | None = None) -> list[UnmaskRequest]:
        return self._unmasking.unmask_requests(case, user)

    def decide_unmask(self, request_id: str, user: UserInfo, *, approve: bool, valid_for: timedelta = timedelta(hours=24),
                      actor: str, now: datetime | None = None) -> UnmaskRequest:
        return self._unmasking.decide_unmask(request_id, user, approve=approve, valid_for=valid_for, actor=actor, now=now)

    def revoke_unmask(self, request_id: str, user: UserInfo, *, actor: str) -> UnmaskRequest:
        return self._unmasking.revoke_unmask(request_id, user, actor=actor)

    # -- access: users, memberships, credentials (vault._access) -----------------------------------

    def add_user(self, name: str, role: str, *, cases: tuple[str, ...] = (), actor: str,
                 by: UserInfo | Operator = OPERATOR, enrolment: bool = False) -> tuple[UserInfo, str]:
        return self._access.add_user(name, role, cases=cases, actor=actor, by=by, enrolment=enrolment)

    def users(self) -> list[UserInfo]:
        return self._access.users()

    def user(self, name: str) -> UserInfo:
        return self._access.user(name)

    def set_role(self, name: str, role: str, *, actor: str, by: UserInfo | Operator = OPERATOR) -> UserInfo:
        return self._access.set_role(name, role, actor=actor, by=by)

    def set_active(self, name: str, *, active: bool, actor: str) -> UserInfo:
        return self._access.set_active(name, active=active, actor=actor)

    def set_membership(self, name: str, case: CaseInfo, *, member: bool, actor: str,
                       by: UserInfo | Operator = OPERATOR) -> UserInfo:
        return self._access.set_membership(name, case, member=member, actor=actor, by=by)

    def confirmations(self, by: UserInfo | Operator = OPERATOR) -> list[Confirmation]:
        return self._access.confirmations(by)

    def confirm(self, confirmation_id: str, *, approve: bool, actor: str,
                by: UserInfo | Operator = OPERATOR) -> Confirmation:
        return self._access.confirm(confirmation_id, approve=approve, actor=actor, by=by)

    def reset_credentials(self, name: str, *, actor: str, by: UserInfo | Operator = OPERATOR) -> str:
        return self._access.reset_credentials(name, actor=actor, by=by)

    def enrol(self, code: str, *, password: str, totp_secret: str | None = None, totp_code: str | None = None,
              totp_required: bool = True, client: str = "api") -> tuple[UserInfo, str]:
        return self._access.enrol(code, password=password, totp_secret=totp_secret, totp_code=totp_code,
                                  totp_required=totp_required, client=client)

    def access_keys(self, name: str) -> list[AccessKeyInfo]:
        return self._access.access_keys(name)

    def issue_access_key(self, name: str, *, expires_at: datetime | None = None,
                         actor: str, by: UserInfo | Operator = OPERATOR) -> tuple[AccessKeyInfo, str]:
        return self._access.issue_access_key(name, expires_at=expires_at, actor=actor, by=by)

    def revoke_access_key(self, key_id: str, *, actor: str, by: UserInfo | Operator = OPERATOR) -> AccessKeyInfo:
        return self._access.revoke_access_key(key_id, actor=actor, by=by)

    def authenticate(self, access_key: str) -> UserInfo:
        return self._access.authenticate(access_key)

    # -- signing in to the web pages (vault._sign_in) ---------------------------------------------

    def reset_sign_in(self, name: str, *, actor: str, second_factor: bool = True) -> tuple[str, str | None]:
        return self._sign_ins.reset_sign_in(name, actor=actor, second_factor=second_factor)

    def change_password(self, user: UserInfo, current: str, new: str, *, actor: str) -> None:
        self._sign_ins.change_password(user, current, new, actor=actor)

    def enrol_second_factor(self, user: UserInfo, secret: str, code: str, *, actor: str) -> None:
        self._sign_ins.enrol_second_factor(user, secret, code, actor=actor)

    def has_second_factor(self, user: UserInfo) -> bool:
        return self._sign_ins.has_second_factor(user)

    def sign_in(self, name: str, password: str, code: str | None, *, totp_required: bool = True,
                client: str = "web") -> SignIn:
        return self._sign_ins.sign_in(name, password, code, totp_required=totp_required, client=client)

    def web_session(self, token: str) -> WebSession:
        return self._sign_ins.web_session(token)

    def sign_out(self, token: str, *, actor: str) -> None:
        self._sign_ins.sign_out(token, actor=actor)

    # -- audit (vault._auditing) and keys (vault._rotation) ----------------------------------------

    def record(self, *, actor: str, action: str, target: str | None = None,
               details: dict[str, object] | None = None) -> int:
        """Write one audit entry in its own transaction; AuditFailed if it cannot be written."""
        return self.store.record(actor=actor, action=action, target=target, details=details)

    def verify_audit(self) -> AuditReport:
        return self._auditing.verify_audit()

    def audit_entries(self, *, after: int = 0, limit: int = 100,
                      reader: UserInfo | Operator = OPERATOR) -> list[AuditEntry]:
        return self._auditing.audit_entries(after=after, limit=limit, reader=reader)

    def audit_listing(self, where: AuditFilter, *, before: int | None = None, limit: int = 100,
                      reader: UserInfo | Operator = OPERATOR) -> AuditListing:
        return self._auditing.audit_listing(where, before=before, limit=limit, reader=reader)

    def case_audit(self, case: CaseInfo, reader: UserInfo, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        return self._auditing.case_audit(case, reader, after=after, limit=limit)

    def export_audit(self, *, actor: str, reader: UserInfo | Operator = OPERATOR) -> Iterator[str]:
        """The signed off-host copy of the audit log, as lines (``vault._audit_export``); audited
        as ``audit.export`` before the first line is asked for."""
        return self._audit_export.export_audit(actor=actor, reader=reader)

    def rotate_keys(self, *, actor: str, case: CaseInfo | None = None) -> KeyStatus:
        return self._rotation.rotate_keys(actor=actor, case=case)

    def rewrap(self, *, actor: str, case: CaseInfo | None = None) -> KeyStatus:
        return self._rotation.rewrap(actor=actor, case=case)

    def key_status(self) -> KeyStatus:
        return self._rotation.key_status()

    # -- key custody (vault._custody) and the master key (vault._rekey) ----------------------------

    def seal_info(self) -> SealInfo:
        return self._custody.seal_info()

    def change_passphrase(self, new: str, *, actor: str) -> SealInfo:
        return self._custody.change_passphrase(new, actor=actor)

    def split_keys(self, shares: int, threshold: int, *, keep_passphrase: bool = True, actor: str) -> Split:
        return self._custody.split(shares, threshold, keep_passphrase=keep_passphrase, actor=actor)

    def rotate_master(self, *, actor: str, progress: Callable[[int, int], None] | None = None) -> tuple[int, bool]:
        return self._rekey.rotate_master(actor=actor, progress=progress)

    def retire_master(self, version: int, *, actor: str) -> KeyStatus:
        self._rekey.retire_master(version, actor=actor)
        return self.key_status()

    # -- re-encryption and case key retirement (vault._reencryption, vault._retirement) ---------

    def pending_reencryption(self, case: CaseInfo | None = None) -> dict[str, list[str]]:
        return self._reencryption.pending(case)

    def reencrypt(self, *, actor: str, case: CaseInfo | None = None,
                  progress: Callable[[int], None] | None = None) -> Reencrypted:
        return self._reencryption.reencrypt(actor=actor, case=case, progress=progress)

    def retire_case_key_version(self, version: int, *, actor: str, case: CaseInfo | None = None) -> list[str]:
        return self._retirement.retire_case_key_version(version, actor=actor, case=case)

    # -- housekeeping (vault._housekeeping) ------------------------------------------------------

    def record_index_position(self, node: str, position: int) -> None:
        self._housekeeping.record_index_position(node, position)

    def outbox_horizon(self) -> int:
        return self._housekeeping.outbox_horizon()

    def prune_outbox(self, *, now: datetime | None = None) -> int:
        return self._housekeeping.prune_outbox(now=now)

    def sweep_orphan_blobs(self, *, older_than: float | None = None) -> int:
        grace = self.blob_grace_seconds if older_than is None else older_than
        return self._housekeeping.sweep_orphan_blobs(older_than=grace)
