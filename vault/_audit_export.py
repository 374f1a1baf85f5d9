"""Writing the audit log's off-host copy (the format and its check: ``vault._audit_file``).

An export is audited (``audit.export``) before anything of it leaves, includes that entry, and
covers the log up to the head at that moment. The vault's HMAC chain is verified first, and each
row again while it is written, so a log edited in the database is refused rather than signed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata

from keys import SigningKey
from redaction import Permission, permits
from vault._audit import GENESIS
from vault._audit_file import FORMAT, genesis, line, link, signed_message
from vault._store import Store
from vault._users import OPERATOR, Operator, UserInfo
from vault.errors import AuditBroken, Forbidden

BATCH = 1000


def release() -> str:
    try:
        return metadata.version("casevault")
    except metadata.PackageNotFoundError:
        return "unknown"


class AuditExport:
    """The export of the audit log, signed with the vault's audit signing key."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def signing_key(self) -> SigningKey:
        return SigningKey(self.store.keys.system["audit-signing"])

    def vault_id(self) -> str:
        """A stable id of this vault, made from its first audit entry's MAC (random per vault)."""
        with self.store.read() as work:
            first = self.store.audit.rows(work.session, after=0, upto=1, limit=1)
        seed = first[0].entry_mac if first else GENESIS
        return hashlib.sha256(b"casevault-vault-id" + seed).hexdigest()[:32]

    def export_audit(self, *, actor: str, reader: UserInfo | Operator = OPERATOR) -> Iterator[str]:
        """The export's lines (header, entries, signature), to write or stream. The permission
        and the ``audit.export`` entry come first, before the lines are asked for."""
        if not isinstance(reader, Operator):
            decision = permits(reader.actor, Permission.AUDIT_EXPORT)
            if not decision:
                raise Forbidden(f"not allowed: {decision.reason}")
        with self.store.read() as work:  # refused whole rather than cut short while it streams
            report = self.store.audit.verify(work.session)
        if not report.intact:
            raise AuditBroken(f"the audit log breaks at position {report.first_broken}: {report.reason}; "
                              "nothing was exported")
        self.store.record(actor=actor, action="audit.export")
        with self.store.read() as work:
            upto = self.store.audit.head_position(work.session)
        return self._lines(upto, self.vault_id(), datetime.now(UTC))

    def _lines(self, upto: int, vault_id: str, now: datetime) -> Iterator[str]:
        signer = self.signing_key
        header: dict[str, object] = {
            "format": FORMAT, "release": release(), "vault_id": vault_id, "public_key": signer.public_key.hex(),
            "fingerprint": signer.fingerprint, "count": upto, "exported_at": now.isoformat()}
        yield line(header)
        mac, chain, after = GENESIS, genesis(vault_id), 0
        while after < upto:
            with self.store.read() as work:
                rows = self.store.audit.rows(work.session, after=after, upto=upto, limit=BATCH)
            if not rows:
                break
            for row in rows:
                if row.seq != after + 1 or not self.store.audit.chained(mac, row):
                    raise AuditBroken(f"the audit log breaks at position {after + 1}; `casevault audit verify` "
                                      "says how. Nothing was signed")
                entry: dict[str, object] = {"seq": row.seq, "at": row.at.astimezone(UTC).isoformat(),
                                            "actor": row.actor, "action": row.action, "target": row.target}
                chain = link(chain, entry)
                yield line(entry | {"chain": chain.hex()})
                mac, after = row.entry_mac, row.seq
        if after != upto:
            raise AuditBroken(f"the audit log ends at position {after} but its head records {upto}; "
                              "`casevault audit verify` says how. Nothing was signed")
        signature = signer.sign(signed_message(header, upto, chain))
        yield line({"count": upto, "head": chain.hex(), "signature": signature.hex()})
