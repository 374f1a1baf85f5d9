"""Signing in costs the same work whoever is named (SECURITY-TESTS 10, 19; DESIGN rule 6).

An attacker who times the sign-in form must not learn which user names exist, which have a
password, which are disabled or which lack a second factor. The work that dominates a sign-in is
one Argon2 verification; these tests count verifications (timings are in bench/sign_in.py).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

import vault._accounts as accounts
from vault._models import CredentialRow, UserRow


class CountingHasher(PasswordHasher):
    """The real Argon2id hasher, counting the verifications it does."""

    verifications = 0

    def verify(self, hash, password):  # noqa: A002 - argon2-cffi's parameter name
        CountingHasher.verifications += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch):
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", counting)
    CountingHasher.verifications = 0
    return counting


@pytest.fixture
def accounts_world(vault, case):
    """ivy (investigator, password), rex (reviewer, password and TOTP), nora (a user who never got
    a password), dina (disabled, password)."""
    passwords = {}
    for name, role in (("ivy", "investigator"), ("rex", "reviewer"), ("nora", "investigator"),
                       ("dina", "investigator")):
        vault.add_user(name, role, cases=(case.id,), actor="tester")
        if name != "nora":
            passwords[name], _ = vault.reset_sign_in(name, actor="tester")
    vault.set_active("dina", active=False, actor="tester")
    return passwords


# who the attacker names, and with which password: every row must cost one Argon2 verification
ATTEMPTS = {
    "an unknown user": ("mallory", lambda p: "a guessed password"),
    "a known user, wrong password": ("ivy", lambda p: "a guessed password"),
    "a user without a password": ("nora", lambda p: "a guessed password"),
    "a disabled user, wrong password": ("dina", lambda p: "a guessed password"),
    "a disabled user, right password": ("dina", lambda p: p["dina"]),
    "a reviewer, right password, no code": ("rex", lambda p: p["rex"]),
    "an investigator, right password": ("ivy", lambda p: p["ivy"]),
}


@pytest.mark.parametrize("what", ATTEMPTS)
def test_every_sign_in_costs_one_password_verification(vault, accounts_world, hasher, what):
    name, password = ATTEMPTS[what]
    try:
        vault.sign_in(name, password(accounts_world), None, totp_required=True)
    except accounts.SignInFailed:
        pass
    assert CountingHasher.verifications == 1, (
        f"an attacker timing sign-in for {what} ({name}) sees {CountingHasher.verifications} Argon2 "
        "verifications instead of 1: the time tells whether the name exists")


def test_the_dummy_hash_costs_what_a_stored_hash_costs(vault, accounts_world):
    """The hash an unknown user is checked against has the parameters of a real one."""
    with vault.db.read() as session:
        stored = session.scalar(sa.select(CredentialRow.password_hash)
                                .join(UserRow, UserRow.id == CredentialRow.user_id).where(UserRow.name == "ivy"))
    dummy = accounts._dummy_hash()
    assert stored.split("$")[1:4] == dummy.split("$")[1:4]  # argon2id, version, m/t/p
