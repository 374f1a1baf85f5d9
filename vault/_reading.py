"""Reading documents: through the policy (``view``, ``display``), or in clear for whoever may.

A view reads everything it shows in one unit of work, one snapshot: the document, its masked
form, the case's identities and the user's unmask grants. What the policy view decrypts is kept
per policy epoch (``vault._policy``), so a request that finds it there reads only the document.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from keys import DecryptingReader
from redaction import may_see_document, may_see_real_name, pseudonym_token, render, render_marked
from vault import _policy as policy
from vault import _unmask as unmask
from vault._identities import Identity
from vault._ingest._model import Extracted
from vault._masking import MaskedDocument, MaskedUnit, decisions_of, mask_title
from vault._models import CaseRow, DocumentRow
from vault._store import Store, UnitOfWork
from vault._users import UserInfo
from vault._views import BlobPurpose, CaseInfo, Display, DocumentStatus, DocumentView, ViewUnit


def _view_unit(unit: MaskedUnit, display: Display) -> ViewUnit:
    text, marks = render_marked(unit.text, display.shown, display.revealing)
    speaker = render(unit.speaker, display.shown) if unit.speaker else None
    return ViewUnit(unit.position, text, speaker, unit.start_ms, unit.end_ms, marks)


class Reading:
    """Documents as a user may see them, and the policy's view of a case's identities."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- in clear ----------------------------------------------------------------------------------

    def content(self, document_id: str, *, actor: str) -> Extracted:
        """The extracted pages or turns, in clear. The read is audited before it is returned."""
        with self.store.read() as work:
            extracted = work.extracted(work.document_row(document_id))
        self.store.record(actor=actor, action="document.read", target=document_id)
        return extracted

    def open_original(self, document_id: str, *, actor: str) -> DecryptingReader:
        """A reader of the original file. Authenticated as a whole before it is handed out."""
        with self.store.read() as work:
            reader = work.open_blob(work.document_row(document_id), BlobPurpose.ORIGINAL)
        try:
            reader.verify()
            self.store.record(actor=actor, action="document.download", target=document_id)
        except BaseException:
            reader.close()
            raise
        reader.seek(0)
        return reader

    def masked(self, document_id: str) -> MaskedDocument:
        with self.store.read() as work:
            return work.masked(work.document_row(document_id))

    # -- through the policy ------------------------------------------------------------------------

    def view(self, document_id: str, user: UserInfo, *, actor: str, now: datetime | None = None) -> DocumentView:
        """The document as ``user`` may see it: pseudonym labels, or real names where allowed.

        A document the user may not see is NotFound, exactly like one that does not exist. The
        read, and every real name it reveals, is audited before the view is returned; if the
        audit cannot be written, nothing is returned. A document masked before its scope's latest
        identity change is masked again first.
        """
        now = now or self.store.now()
        with self.store.read() as work:
            row = work.visible_document(document_id, user.actor)
            seen = None if work.stale([row.id]) else self._view_in(work, row, user, now)
        if seen is None:
            self.store.remask(document_id, actor=actor, action="document.remask")
            with self.store.read() as work:
                seen = self._view_in(work, work.document_row(document_id), user, now)
        view, revealed = seen
        self.store.record(actor=actor, action="document.view", target=document_id,
                          details={"user": user.id, "revealed": revealed} if revealed else {"user": user.id})
        return view

    def _view_in(self, work: UnitOfWork, row: DocumentRow, user: UserInfo,
                 now: datetime) -> tuple[DocumentView, list[str]]:
        """The view of ``row`` and the identities it reveals, read inside ``work``."""
        masked = work.masked(row)
        info = work.document_info(row, {})
        display = self.display_in(work, row.case_id, user, now)
        masked_title = self.masked_title(work, row, masked, info.title)
        revealed = display.revealed_in(masked.tokens | {t for t in display.revealing if t in masked_title})
        units = tuple(_view_unit(u, display) for u in masked.units)
        return DocumentView(row.id, info.case_name, info.kind, info.format, DocumentStatus(row.status),
                            render(masked_title, display.shown), units, masked.undecided,
                            info.document_date, info.created_at.astimezone(UTC).date()), revealed

    def masked_title(self, work: UnitOfWork, row: DocumentRow, masked: MaskedDocument, title: str | None = None) -> str:
        """The title of ``row``, masked like text under the current identities and the review's
        decisions: titles and file names can hold names too (what is undecided shows its category)."""
        matcher, _ = self.store.identity_map.matcher(work.session, row.case_id)
        title = work.title(row, work.document_key(row)) if title is None else title
        return mask_title(title, matcher, work.token_key(row.case_id), decisions_of(masked))[0]

    def display(self, case_id: str, user: UserInfo, now: datetime | None = None, *,
                epoch: int | None = None) -> Display:
        """How ``user`` sees the identity tokens of a case's masked text, per the policy.

        Kept per (case, user as the policy sees them: id, role, memberships, active) for the
        policy epoch ``epoch`` (read here if not given), and only for the time it holds: from
        the moment it was worked out until the first unmask grant it relies on expires. A grant
        approved or revoked, an identity added or changed, moves the epoch."""
        now = now or self.store.now()
        with self.store.read() as work:
            return self.display_in(work, case_id, user, now, epoch=epoch)

    def display_in(self, work: UnitOfWork, case_id: str, user: UserInfo, now: datetime, *,
                   epoch: int | None = None) -> Display:
        """``display``, read inside ``work``."""
        if epoch is None:
            epoch = self.policy_epoch_in(work)
        actor = user.actor
        key = ("display", case_id, actor)
        cached = self.store.policy_cache.get(epoch, key)
        if cached is not None:
            display, since, until = cached  # type: ignore[misc]
            if since <= now < until:
                return display
        identities = self._identity_tokens(work, case_id, epoch)
        grants = unmask.grants(work.session, user.id, case_id)
        shown: dict[str, str] = {}
        revealing: dict[str, str] = {}
        vocabulary: list[tuple[str, str]] = []
        for identity, token in identities:
            vocabulary.append((identity.label, token))
            if may_see_real_name(actor, case_id, identity.id, grants, now):
                shown[token] = identity.name
                revealing[token] = identity.id
                vocabulary.extend((alias, token) for alias in identity.aliases)
            else:
                shown[token] = identity.label
        display = Display(shown, revealing, tuple(vocabulary))
        # the answer holds until the first grant in force now expires (a revocation moves the epoch)
        until = min((g.expires_at for g in grants if g.in_force(now)), default=datetime.max.replace(tzinfo=now.tzinfo))
        self.store.policy_cache.put(epoch, key, (display, now, until))
        return display

    def _identity_tokens(self, work: UnitOfWork, case_id: str, epoch: int) -> tuple[tuple[Identity, str], ...]:
        """The identities of a case's scope, decrypted, each with its token; kept per epoch."""
        key = ("identities", case_id)
        cached = self.store.policy_cache.get(epoch, key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        token_key = work.token_key(case_id)
        identities = self.store.identity_map.identities(work.session, case_id)
        found = tuple((identity, pseudonym_token(token_key, identity.id)) for identity in identities)
        self.store.policy_cache.put(epoch, key, found)
        return found

    @staticmethod
    def policy_epoch_in(work: UnitOfWork) -> int:
        return int(work.session.scalar(select(policy.epoch_query())) or 0)

    def policy_epoch(self) -> int:
        with self.store.read() as work:
            return self.policy_epoch_in(work)

    def _case_list(self, epoch: int) -> tuple[CaseInfo, ...]:
        """Every case with its decrypted name (no document counts), kept per policy epoch."""
        cached = self.store.policy_cache.get(epoch, "cases")
        if cached is not None:
            return cached  # type: ignore[return-value]
        with self.store.read() as work:
            rows = work.session.scalars(select(CaseRow).order_by(CaseRow.created_at)).all()
            found = tuple(sorted((work.case_info(r) for r in rows), key=lambda c: c.name.casefold()))
        self.store.policy_cache.put(epoch, "cases", found)
        return found

    def visible_cases(self, user: UserInfo, *, epoch: int | None = None) -> list[tuple[CaseInfo, frozenset[DocumentStatus]]]:
        """The cases ``user`` may search, each with the document statuses they may see there.
        Their ``documents`` are not counted (0). ``epoch``: the policy epoch the caller read at
        the start of its request (read here if not given)."""
        if epoch is None:
            epoch = self.policy_epoch()
        actor = user.actor
        out = []
        for case_info in self._case_list(epoch):
            statuses = frozenset(s for s in DocumentStatus if may_see_document(actor, case_info.id, s.value))
            if statuses:
                out.append((case_info, statuses))
        return out
