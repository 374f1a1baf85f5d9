"""The JSON forms of answers, shared by the CLI's ``--json`` and the API: one shape for both.

Every body the API answers with is built here (a search's results give their own, see
``search``), from the vault's views; routes pass views in and return what comes out.
"""

from __future__ import annotations

from vault import (
    AccessKeyInfo,
    AuditEntry,
    AuditReport,
    BackupRun,
    CaseInfo,
    CaseKeyUse,
    Confirmation,
    DocumentInfo,
    DocumentView,
    Kind,
    KeyStatus,
    MaskedDocument,
    ReviewView,
    SealInfo,
    StoredBackup,
    UnmaskRequest,
    UserInfo,
)


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def case_json(case: CaseInfo) -> dict[str, object]:
    return {"id": case.id, "name": case.name, "archive_scope": case.archive_scope, "documents": case.documents}


def document_state_json(document: DocumentInfo) -> dict[str, object]:
    """What an upload answers (like ``casevault ingest --json``)."""
    return {"id": document.id, "kind": document.kind.value, "status": document.status.value}


def released_json(document: DocumentInfo) -> dict[str, object]:
    return {"id": document.id, "status": document.status.value}


def undecided_json(document_id: str, masked: MaskedDocument) -> dict[str, object]:
    """What a review decision or a span answers: how many suggestions still wait."""
    return {"id": document_id, "undecided": masked.undecided}


def view_json(view: DocumentView) -> dict[str, object]:
    """The policy view of a document: pseudonyms, or real names where the policy allows."""
    body: dict[str, object] = {
        "id": view.id, "case": view.case_name, "kind": view.kind.value, "format": view.format.value,
        "status": view.status.value, "title": view.title,
        "text": "\n".join(f"{u.speaker}: {u.text}" if u.speaker else u.text for u in view.units)
        if view.kind is Kind.TRANSCRIPT else "\f".join(u.text for u in view.units),
    }
    if view.kind is Kind.TRANSCRIPT:
        body["turns"] = [{"speaker": u.speaker, "start": _seconds(u.start_ms), "end": _seconds(u.end_ms),
                          "text": u.text} for u in view.units]
    else:
        body["pages"] = [{"number": u.position, "text": u.text} for u in view.units]
    return body


def review_queue_json(documents: list[DocumentInfo]) -> list[dict[str, object]]:
    return [{"id": d.id, "case": d.case_name, "kind": d.kind.value, "undecided": d.pending_suggestions}
            for d in documents]


def review_json(view: ReviewView) -> dict[str, object]:
    suggestions = [{"id": r["id"], "category": r["category"], "text": r["text"], "start": r["start"], "end": r["end"],
                    "unit": r["unit"], "field": r["field"], "state": r["state"]} for r in view.suggestions]
    # the title in clear, as reviewers see every text: spans of it are offsets into this
    title = next((text for _, field_name, text in view.units if field_name == "title"), None)
    return {"spans": view.spans, "suggestions": suggestions, "title": title}


def unmask_json(request: UnmaskRequest, labels: dict[str, str]) -> dict[str, object]:
    return {"id": request.id, "identity": labels.get(request.identity_id, "?"), "state": request.state.value,
            "justification": request.justification,
            "expires_at": request.expires_at.isoformat() if request.expires_at else None}


def seal_json(seal: SealInfo) -> dict[str, object]:
    """How the root key is sealed; never a secret, a share or the split's identifier."""
    kdf = seal.passphrase
    return {"passphrase": None if kdf is None else {"kdf": "argon2id", "memory_kib": kdf.memory_kib,
                                                    "iterations": kdf.iterations, "lanes": kdf.lanes},
            "shares": None if seal.threshold is None else {"threshold": seal.threshold, "shares": seal.shares}}


def key_status_json(status: KeyStatus) -> dict[str, object]:
    masters = [{"version": m.version, "created_at": m.created_at, "retired": m.retired_at is not None,
                "retired_at": m.retired_at,
                "wraps": {"system_keys": m.system_keys, "case_keys": m.case_keys, "scope_keys": m.scope_keys}}
               for m in status.master_versions]
    return {"seal": seal_json(status.seal), "master_key": masters, "system_keys": status.system_keys,
            "case_keys_by_version": status.case_key_versions,
            "documents_by_case_key_version": status.documents_by_case_key_version,
            "blobs_by_key_version": status.blobs_by_key_version,
            "audit_public_key": status.audit_public_key, "audit_key_fingerprint": status.audit_key_fingerprint,
            "case_key_versions": [case_key_use_json(use) for use in status.case_key_uses]}


def case_key_use_json(use: CaseKeyUse) -> dict[str, object]:
    """What one case key version still protects (counts only), and whether it was retired."""
    return {"version": use.version, "cases": use.cases, "retired_cases": use.retired_cases, "retired": use.retired,
            "documents": use.documents, "blobs": use.blobs, "justifications": use.justifications,
            "case_names": use.case_names, "index_keys": use.index_keys}


def user_json(user: UserInfo, case_names: dict[str, str]) -> dict[str, object]:
    return {"id": user.id, "name": user.name, "role": user.role.value, "active": user.active,
            "cases": sorted(case_names.get(c, c) for c in user.cases),
            "pending_cases": sorted(case_names.get(c, c) for c in user.pending)}


def new_user_json(user: UserInfo, case_names: dict[str, str], enrolment_code: str) -> dict[str, object]:
    """A user just made, with the one-time code they redeem to set their own credentials."""
    return user_json(user, case_names) | {"enrolment_code": enrolment_code}


def reset_json(name: str, enrolment_code: str) -> dict[str, object]:
    return {"name": name, "enrolment_code": enrolment_code}


def enrolled_json(user: UserInfo, access_key: str) -> dict[str, object]:
    return {"name": user.name, "role": user.role.value, "access_key": access_key}


def confirmation_json(confirmation: Confirmation, case_names: dict[str, str]) -> dict[str, object]:
    return {"id": confirmation.id, "user": confirmation.user_name, "role": confirmation.role.value,
            "case": case_names.get(confirmation.case_id, confirmation.case_id), "reason": confirmation.reason,
            "requested_by": confirmation.requested_by, "requested_at": confirmation.created_at.isoformat(),
            "awaiting_enrolment": confirmation.awaiting_enrolment}


def confirmation_decided_json(confirmation: Confirmation, case_names: dict[str, str], *,
                              approved: bool) -> dict[str, object]:
    return confirmation_json(confirmation, case_names) | {"state": "confirmed" if approved else "refused"}


def access_key_json(key: AccessKeyInfo) -> dict[str, object]:
    return {"id": key.id, "prefix": key.prefix, "created_at": key.created_at.isoformat(),
            "expires_at": key.expires_at.isoformat() if key.expires_at else None,
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None}


def issued_key_json(key: AccessKeyInfo, secret: str) -> dict[str, object]:
    """A key just issued, with its secret: shown once, in this answer only."""
    return access_key_json(key) | {"access_key": secret}


def audit_entry_json(entry: AuditEntry) -> dict[str, object]:
    return {"seq": entry.seq, "at": entry.at.isoformat(), "actor": entry.actor, "action": entry.action,
            "target": entry.target, "details": entry.details}


def audit_report_json(report: AuditReport) -> dict[str, object]:
    return {"intact": report.intact, "entries": report.entries, "first_broken": report.first_broken,
            "reason": report.reason}


def backup_run_json(run: BackupRun) -> dict[str, object]:
    """A backup the server started: running (bytes done of total; 0 of 0 while the database
    snapshot is taken), finished or failed (``message`` says why)."""
    return {"name": run.name, "state": run.state, "started_at": run.started_at.isoformat(),
            "started_by": run.started_by, "done_bytes": run.done_bytes, "total_bytes": run.total_bytes,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "documents": run.documents, "message": run.message}


def stored_backup_json(stored: StoredBackup) -> dict[str, object]:
    return {"name": stored.name, "size": stored.size, "created_at": stored.created_at.isoformat(),
            "release": stored.release, "documents": stored.documents}


def backups_json(latest: BackupRun | None, stored: list[StoredBackup]) -> dict[str, object]:
    return {"latest": backup_run_json(latest) if latest else None,
            "backups": [stored_backup_json(s) for s in stored]}
