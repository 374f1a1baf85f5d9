"""Key rotation: new case key versions, and moving what older versions protect onto the newest
(rewrap) without reading a blob."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from keys import Context, SigningKey, token_version, unwrap_key, wrap_key
from vault import _unmask as unmask
from vault._keystore import KeyStore, document_key_context
from vault._models import BlobRow, CaseRow, DocumentRow, SystemKeyVersion
from vault._custody import seal_info
from vault._retirement import case_key_uses
from vault._store import Store, data_key_version, index_key_context
from vault._views import CaseInfo, KeyStatus, MasterVersion
from vault.errors import Conflict


class Rotation:
    """Rotating and rewrapping the case keys, and what the key hierarchy looks like."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def rotate_keys(self, *, actor: str, case: CaseInfo | None = None) -> KeyStatus:
        """Make a new version of every case key (or of ``case``'s), wrapped by the newest master
        key. New documents and justifications are encrypted under it from then on, in this
        process and in every other one sharing the database; what the older versions protect
        still decrypts, and nothing is re-read or re-encrypted (``rewrap`` moves the wrapped
        keys over later). Audited with the new versions, in the same transaction."""
        keys = self.store.keys
        try:
            with self.store.write() as work:
                rotated = keys.rotate_case_keys(work.session, None if case is None else [case.id])
                work.audit(actor=actor, action="keys.rotate", target=case.id if case else None,
                           details={"scope": "case" if case else "all", "case_keys": rotated,
                                    "master_version": keys.master_version})
        except IntegrityError:  # another rotation took the same version numbers first
            raise Conflict("the keys were being rotated by someone else at the same time; "
                           "`casevault keys status` shows the versions now") from None
        keys.forget_cases(rotated)
        return self.key_status()

    def rewrap(self, *, actor: str, case: CaseInfo | None = None) -> KeyStatus:
        """Move everything a case key protects to its newest version: each document key, the
        search index key, the case name and the unmask justifications are decrypted and
        encrypted again in memory, one case per transaction. No blob is read: the document keys
        themselves do not change. Afterwards no ciphertext names an older case key version."""
        with self.store.read() as work:
            case_ids = [case.id] if case else list(work.session.scalars(select(CaseRow.id).order_by(CaseRow.created_at)))
        for case_id in case_ids:
            with self.store.write() as work:
                session = work.session
                keyring = work.newest_case_keyring(case_id)
                newest = keyring.primary.version
                documents = 0
                # locked: a re-encryption swapping a document's key meanwhile waits, then sees
                # the new wrapping and retries, rather than either write losing the other's
                for row in session.scalars(select(DocumentRow).where(DocumentRow.case_id == case_id,
                                                                     DocumentRow.case_key_version != newest)
                                           .with_for_update()):
                    context = document_key_context(case_id, row.id)
                    document_key = unwrap_key(keyring, row.key_ct, context, data_key_version(row))
                    row.key_ct = wrap_key(keyring, document_key, context)
                    row.case_key_version = newest
                    documents += 1
                case_row = session.get(CaseRow, case_id)
                assert case_row is not None
                if token_version(case_row.name_ct) != newest:
                    case_row.name_ct = keyring.rotate(case_row.name_ct, Context("case-name", case_id=case_id))
                if token_version(case_row.index_key_ct) != newest:
                    index_key = unwrap_key(keyring, case_row.index_key_ct, index_key_context(case_id), 1)
                    case_row.index_key_ct = wrap_key(keyring, index_key, index_key_context(case_id))
                justifications = unmask.rewrap(session, keyring, case_id)
                session.flush()
                work.audit(actor=actor, action="keys.rewrap", target=case_id,
                           details={"case_key_version": newest, "documents": documents,
                                    "justifications": justifications})
        return self.key_status()

    def key_status(self) -> KeyStatus:
        signer = SigningKey(self.store.keys.system["audit-signing"])
        with self.store.read() as work:
            session = work.session
            system: dict[str, list[int]] = {}
            for purpose, version in session.execute(
                    select(SystemKeyVersion.purpose, SystemKeyVersion.version).order_by(SystemKeyVersion.version)):
                system.setdefault(purpose, []).append(version)
            wraps = KeyStore.wrapped_by_master(session)
            return KeyStatus(
                seal=seal_info(session),
                master_versions=[MasterVersion(version, created, retired, **wraps.get(version, {}))
                                 for version, created, retired in KeyStore.master_versions(session)],
                system_keys=system,
                case_key_versions=KeyStore.case_key_versions(session),
                documents_by_case_key_version=dict(session.execute(
                    select(DocumentRow.case_key_version, func.count()).group_by(DocumentRow.case_key_version)).all()),
                blobs_by_key_version=dict(session.execute(
                    select(BlobRow.key_version, func.count()).group_by(BlobRow.key_version)).all()),
                audit_public_key=signer.public_key.hex(), audit_key_fingerprint=signer.fingerprint,
                case_key_uses=case_key_uses(session),
            )
