"""Access: users, their memberships and the confirmations these wait for, enrolment codes and
access keys.

Admins manage access, never content: a membership or credential an admin makes or resets waits
for a reviewer of the case to confirm it; the operator's holds at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from redaction import Permission, permits
from vault import _accounts as accounts
from vault import _integrity as integrity
from vault import _confirmations as confirmations
from vault import _enrolment as enrolments
from vault import _users as users
from vault._confirmations import Confirmation
from vault._models import AccessKeyRow, MembershipRow, PendingMembershipRow, UserRow
from vault._store import Store, valid_id
from vault._users import OPERATOR, Operator, UserInfo, admin_acting, parse_role
from vault._views import CaseInfo
from vault.errors import Conflict, Forbidden, InvalidInput, NotFound


def _with_pending(session: Session, row: UserRow) -> UserInfo:
    return dataclasses.replace(users.user_info(session, row), pending=confirmations.pending_cases(session, row.id))


class Access:
    """Who may reach the vault, and through which credentials."""

    def __init__(self, store: Store, find_case: Callable[[str], CaseInfo]) -> None:
        self.store = store
        self._find_case = find_case

    # -- users -------------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, *, cases: tuple[str, ...] = (), actor: str,
                 by: UserInfo | Operator = OPERATOR, enrolment: bool = False) -> tuple[UserInfo, str]:
        """Create a user with memberships in ``cases`` (names or ids), and return their first
        credential once. The operator (``by=OPERATOR``) gets an access key, or with ``enrolment`` a
        one-time enrolment code, and the memberships hold at once. An admin (``by`` their
        UserInfo) gets only an enrolment code, and each membership waits for a reviewer of the
        case to confirm it after the user has enrolled (``confirm``)."""
        admin = admin_acting(by)
        parsed_role = parse_role(role)
        case_ids = list(dict.fromkeys(self._find_case(c).id for c in cases))
        with self.store.write() as work:
            session = work.session
            row = users.add_user(session, name, parsed_role, case_ids if admin is None else [])
            if admin is not None:
                for case_id in case_ids:
                    confirmations.hold(session, row.id, case_id, reason="user.add", requested_by=actor)
            if admin is None and not enrolment:
                secret = users.issue_access_key(session, row, None)[1]
            else:
                secret = enrolments.issue(session, row, by_operator=admin is None, now=self.store.now())
            work.audit(actor=actor, action="user.add", target=row.id,
                       details={"role": parsed_role.value, "cases": case_ids}
                       | ({"pending": True} if admin is not None else {}))
            return users.user_info(session, row), secret

    def users(self) -> list[UserInfo]:
        """Every user, with their confirmed and their waiting memberships."""
        with self.store.read() as work:
            return [_with_pending(work.session, row)
                    for row in work.session.scalars(select(UserRow).order_by(UserRow.name))]

    def user(self, name: str) -> UserInfo:
        with self.store.read() as work:
            return _with_pending(work.session, users.find_user(work.session, name))

    def set_role(self, name: str, role: str, *, actor: str, by: UserInfo | Operator = OPERATOR) -> UserInfo:
        """Change user ``name``'s role. When an admin changes it, every membership of the user
        waits for a reviewer's confirmation again; nobody changes their own role."""
        admin = admin_acting(by)
        parsed = parse_role(role)
        if admin is not None and admin.name == name:
            raise Forbidden("you cannot change your own role; ask another admin")
        with self.store.write() as work:
            user = users.find_user(work.session, name)
            was = user.role
            if was != parsed.value:
                user.role = parsed.value
                if admin is not None:
                    confirmations.hold_all(work.session, user.id, reason="user.role", requested_by=actor)
                work.audit(actor=actor, action="user.role", target=user.id, details={"role": parsed.value, "was": was})
            return _with_pending(work.session, user)

    def set_active(self, name: str, *, active: bool, actor: str) -> UserInfo:
        """Enable or disable a user; a disabled user's keys and sessions stop working at once."""
        with self.store.write() as work:
            user = users.find_user(work.session, name)
            user.active = active
            if not active:
                accounts.end_sessions_of(work.session, user.id)
            work.audit(actor=actor, action="user.enable" if active else "user.disable", target=user.id)
            return users.user_info(work.session, user)

    # -- memberships and their confirmation ----------------------------------------------------------

    def set_membership(self, name: str, case: CaseInfo, *, member: bool, actor: str,
                       by: UserInfo | Operator = OPERATOR) -> UserInfo:
        """Add user ``name`` to ``case``, or remove them; takes effect on their next request. A
        membership an admin adds waits for a reviewer of the case (``confirm``); the operator's
        holds at once (and confirms a waiting one)."""
        admin = admin_acting(by)
        with self.store.write() as work:
            session = work.session
            user = users.find_user(session, name)
            confirmed = session.get(MembershipRow, (user.id, case.id)) is not None
            if not member:
                confirmations.drop(session, user.id, case.id)
            elif admin is None:
                confirmations.grant(session, user.id, case.id)
            elif not confirmed:
                confirmations.hold(session, user.id, case.id, reason="membership.add", requested_by=actor)
            session.flush()
            work.audit(actor=actor, action="membership.add" if member else "membership.remove",
                       target=user.id, details={"case": case.id}
                       | ({"pending": True} if member and admin is not None and not confirmed else {}))
            return _with_pending(session, user)

    def confirmations(self, by: UserInfo | Operator = OPERATOR) -> list[Confirmation]:
        """The memberships waiting for ``by``: those of the cases they review (a confirmed
        reviewer), never their own; every one for the operator."""
        now = self.store.now()
        with self.store.read() as work:
            if isinstance(by, Operator):
                case_ids = None
            else:
                case_ids = frozenset(c for c in by.cases if permits(by.actor, Permission.MEMBERSHIP_CONFIRM, c))
            return [Confirmation(
                p.id, p.user_id, u.name, parse_role(u.role), p.case_id, p.reason, p.requested_by, p.created_at,
                enrolments.awaiting(work.session, u.id, now))
                for p, u in confirmations.waiting(work.session, case_ids)
                if isinstance(by, Operator) or u.id != by.id]

    def confirm(self, confirmation_id: str, *, approve: bool, actor: str,
                by: UserInfo | Operator = OPERATOR) -> Confirmation:
        """A reviewer of the case (or the operator) lets a waiting membership reach the case, or
        refuses it (the membership is dropped). Four eyes: nobody confirms their own. Refused
        while the user has not redeemed an admin's enrolment code: whoever redeems it would be
        confirmed."""
        now = self.store.now()
        with self.store.write() as work:
            session = work.session
            row = session.get(PendingMembershipRow, confirmation_id) if valid_id(confirmation_id) else None
            if row is not None:  # a waiting membership forged by raw SQL is confirmed by no one
                integrity.check(session, row)
            if row is None or (isinstance(by, UserInfo) and not (
                    permits(by.actor, Permission.MEMBERSHIP_CONFIRM, row.case_id) or row.user_id == by.id)):
                raise NotFound("no such confirmation")
            if isinstance(by, UserInfo) and row.user_id == by.id:
                raise Forbidden("nobody confirms their own membership or credentials (four eyes)")
            subject = session.get(UserRow, row.user_id)
            assert subject is not None
            integrity.check(session, subject)
            found = Confirmation(row.id, row.user_id, subject.name, parse_role(subject.role), row.case_id,
                                 row.reason, row.requested_by, row.created_at,
                                 enrolments.awaiting(session, row.user_id, now))
            if approve and found.awaiting_enrolment:
                raise Conflict(f"{subject.name} has not enrolled yet; confirm once they have redeemed their code")
            if approve:
                confirmations.grant(session, row.user_id, row.case_id)
            else:
                confirmations.drop(session, row.user_id, row.case_id)
            work.audit(actor=actor, action="membership.confirm" if approve else "membership.refuse",
                       target=row.user_id, details={"case": row.case_id, "confirmation": row.id, "reason": row.reason})
            return found

    # -- credentials ---------------------------------------------------------------------------------

    def reset_credentials(self, name: str, *, actor: str, by: UserInfo | Operator = OPERATOR) -> str:
        """Revoke everything user ``name`` signs in with (password, second factor, access keys,
        sessions, an unused enrolment code) and return a new enrolment code, once. When an admin
        resets, every membership of the user waits for a reviewer's confirmation again."""
        admin = admin_acting(by)
        now = self.store.now()
        with self.store.write() as work:
            session = work.session
            user = users.find_user(session, name)
            accounts.forget_credentials(session, user.id)
            users.revoke_access_keys_of(session, user.id, now)
            accounts.end_sessions_of(session, user.id)
            held = []
            if admin is not None:
                held = confirmations.hold_all(session, user.id, reason="user.reset", requested_by=actor)
            code = enrolments.issue(session, user, by_operator=admin is None, now=now)
            work.audit(actor=actor, action="user.reset", target=user.id,
                       details={"pending": held} if admin is not None else None)
        return code

    def enrol(self, code: str, *, password: str, totp_secret: str | None = None, totp_code: str | None = None,
              totp_required: bool = True, client: str = "api") -> tuple[UserInfo, str]:
        """Redeem an enrolment code: the holder sets the user's password (and second factor:
        required of reviewers and admins unless ``totp_required`` is off, as in the demo), their
        other credentials are revoked, and their new access key is returned, once. A code an
        admin issued leaves the user's memberships waiting for a reviewer."""
        now = self.store.now()
        accounts.check_password(password)
        secret = accounts.check_totp_secret(totp_secret) if totp_secret else None
        with self.store.write() as work:
            session = work.session
            enrolment = enrolments.find(session, code, now)
            user = session.get(UserRow, enrolment.user_id)
            if user is not None:
                integrity.check(session, user)
            if user is None or not user.active:
                raise enrolments.EnrolmentFailed("the enrolment code is not valid; ask an admin for a new one")
            if secret is None and totp_required and user.role in accounts.SECOND_FACTOR_ROLES:
                raise InvalidInput("your role needs a second factor: give an authenticator secret and a code from it")
            if secret is not None and accounts.totp_step(secret, totp_code or "", now) is None:
                raise InvalidInput("that code does not fit the secret; check the authenticator's clock and try again")
            enrolments.use(session, enrolment, now)
            accounts.forget_credentials(session, user.id)
            session.flush()
            accounts.set_password(session, user, password, now)
            if secret is not None:
                accounts.set_totp(session, user, secret, self.store.keys.system["credentials"], now)
            users.revoke_access_keys_of(session, user.id, now)
            accounts.end_sessions_of(session, user.id)
            if not enrolment.by_operator:  # confirmed since the code was issued: not by its holder
                confirmations.hold_all(session, user.id, reason="user.enrol", requested_by=f"{user.name} ({client})")
            row, key = users.issue_access_key(session, user, None)
            work.audit(actor=f"{user.name} ({client})", action="user.enrol", target=user.id,
                       details={"second_factor": secret is not None, "prefix": row.prefix})
            return users.user_info(session, user), key

    def access_keys(self, name: str) -> list[users.AccessKeyInfo]:
        """The access keys of a user, newest first (prefixes and dates, never the keys)."""
        with self.store.read() as work:
            return users.access_keys(work.session, users.find_user(work.session, name))

    def issue_access_key(self, name: str, *, expires_at: datetime | None = None,
                         actor: str, by: UserInfo | Operator = OPERATOR) -> tuple[users.AccessKeyInfo, str]:
        """A new access key for user ``name``; the key itself is returned once and never kept.
        Only the operator issues keys to others: a user (an admin too) issues their own."""
        if isinstance(by, UserInfo):
            decision = permits(by.actor, Permission.ACCESS_KEY_OWN)
            if not decision:
                raise Forbidden(f"not allowed: {decision.reason}")
            if by.name != name:
                raise Forbidden("an access key is issued by its owner only; an admin resets the user's "
                                "credentials instead, and they enrol with the code")
        with self.store.write() as work:
            row, key = users.issue_access_key(work.session, users.find_user(work.session, name), expires_at)
            work.audit(actor=actor, action="access-key.issue", target=row.id,
                       details={"user": row.user_id, "prefix": row.prefix})
            return users.access_key_info(row), key

    def revoke_access_key(self, key_id: str, *, actor: str, by: UserInfo | Operator = OPERATOR) -> users.AccessKeyInfo:
        """Revoke an access key at once; revoking twice changes nothing. A user revokes their own
        keys; an admin (or the operator) anyone's."""
        with self.store.write() as work:
            row = work.session.get(AccessKeyRow, key_id) if valid_id(key_id) else None
            if isinstance(by, UserInfo) and row is not None and not (
                    permits(by.actor, Permission.ACCESS_KEY_MANAGE)
                    or (row.user_id == by.id and permits(by.actor, Permission.ACCESS_KEY_OWN))):
                row = None  # someone else's key: as if there were none
            if row is None:
                raise NotFound("no such access key")
            users.revoke_access_key(work.session, row.id)
            work.audit(actor=actor, action="access-key.revoke", target=row.id, details={"user": row.user_id})
            return users.access_key_info(row)

    def authenticate(self, access_key: str) -> UserInfo:
        """The user an access key belongs to; Unauthenticated if it is unknown, revoked or expired."""
        with self.store.read() as work:
            return users.user_info(work.session, users.authenticate(work.session, access_key))
