"""Signing in to the web pages: passwords, second factors and server-side sessions, each change
audited in the transaction that makes it (the row-level work is in ``vault._accounts``)."""

from __future__ import annotations


from keys import SecretKey
from vault import _accounts as accounts
from vault import _users as users
from vault._models import UserRow, WebSessionRow
from vault._store import Store
from vault._users import UserInfo
from vault.errors import InvalidInput, NotFound, SignInFailed


class SignIns:
    """Passwords, second factors and web sessions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _credentials_key(self) -> SecretKey:
        return self.store.keys.system["credentials"]

    def reset_sign_in(self, name: str, *, actor: str, second_factor: bool = True) -> tuple[str, str | None]:
        """A new random password for user ``name`` and, for reviewers and admins, a new TOTP secret
        (unless ``second_factor`` is off, as in the demo); both returned once. Ends the user's
        sessions. The operator's alone (the demo, the test fixtures): it shows a password, so no
        admin may reach it; they use ``reset_credentials``."""
        password = accounts.new_password()
        with self.store.write() as work:
            user = users.find_user(work.session, name)
            now = self.store.now()
            accounts.set_password(work.session, user, password, now)
            secret = None
            if second_factor and user.role in accounts.SECOND_FACTOR_ROLES:
                secret = accounts.new_totp_secret()
                accounts.set_totp(work.session, user, secret, self._credentials_key(), now)
            accounts.end_sessions_of(work.session, user.id)
            work.audit(actor=actor, action="user.reset-sign-in", target=user.id,
                       details={"second_factor": secret is not None})
        return password, secret

    def change_password(self, user: UserInfo, current: str, new: str, *, actor: str) -> None:
        """The user's own password change: the current one first."""
        accounts.check_password(new)
        with self.store.write() as work:
            row = work.session.get(UserRow, user.id)
            if row is None or not accounts.password_matches(work.session, row, current):
                raise SignInFailed("the current password is wrong")
            accounts.set_password(work.session, row, new, self.store.now())
            work.audit(actor=actor, action="user.password", target=user.id)

    def enrol_second_factor(self, user: UserInfo, secret: str, code: str, *, actor: str) -> None:
        """Enrol a TOTP secret for the user themselves, once a code from it proves their
        authenticator holds it. Nobody enrols a second factor for someone else."""
        secret = accounts.check_totp_secret(secret)
        if accounts.totp_step(secret, code, self.store.now()) is None:
            raise InvalidInput("that code does not fit the secret; check the authenticator's clock and try again")
        with self.store.write() as work:
            row = work.session.get(UserRow, user.id)
            if row is None:
                raise NotFound("no such user")
            accounts.set_totp(work.session, row, secret, self._credentials_key(), self.store.now())
            work.audit(actor=actor, action="user.second-factor", target=user.id)

    def has_second_factor(self, user: UserInfo) -> bool:
        with self.store.read() as work:
            return accounts.has_totp(work.session, user.id)

    def sign_in(self, name: str, password: str, code: str | None, *, totp_required: bool = True,
                client: str = "web") -> accounts.SignIn:
        """A new session for a good name, password and (where needed) TOTP code; SignInFailed
        with one message otherwise. Every attempt is audited, with its reason when refused."""
        now = self.store.now()
        with self.store.write() as work:
            verdict = accounts.verify(work.session, name, password, code, totp_required=totp_required,
                                      key=self._credentials_key(), now=now)
            if verdict.reason is None and verdict.user is not None:
                accounts.prune_sessions(work.session, now)
                signed = accounts.open_session(work.session, verdict.user, now)
                work.audit(actor=f"{name} ({client})", action="sign-in", target=verdict.user.id)
                return signed
        # refused: audited in its own transaction (the verify transaction changed nothing to keep)
        # what was typed as a name may be anything (a password typed in the wrong field): it goes
        # only into the encrypted details, and the clear actor names a user only if one exists
        known = verdict.user is not None
        self.store.record(actor=f"{verdict.user.name if known else 'unknown user'} ({client})",  # type: ignore[union-attr]
                          action="sign-in.refused", target=verdict.user.id if known else None,  # type: ignore[union-attr]
                          details={"reason": verdict.reason} | ({} if known else {"name": name[:100]}))
        if verdict.reason == "no second factor enrolled":
            raise SignInFailed("your role needs a second factor and none is enrolled; "
                               "ask an admin to reset your sign-in")
        raise SignInFailed("the user name, password or code is wrong")

    def web_session(self, token: str) -> accounts.WebSession:
        """The open session of a token, with its user as they are now; SessionEnded otherwise."""
        now = self.store.now()
        with self.store.read() as work:
            row, found = accounts.find_session(work.session, token, now)
            fresh = now - row.seen_at < accounts.SEEN_EVERY
        if not fresh:
            with self.store.write() as work:
                seen = work.session.get(WebSessionRow, row.digest)
                if seen is not None:
                    seen.seen_at = now
        return found

    def sign_out(self, token: str, *, actor: str) -> None:
        """End a session on the server: its token opens nothing afterwards."""
        with self.store.write() as work:
            user_id = accounts.end_session(work.session, token)
            if user_id is not None:
                work.audit(actor=actor, action="sign-out", target=user_id)
