"""The names the API uses: its path prefix, the caller as the audit log records them, case and
identity names by id."""

from __future__ import annotations

from vault import CaseInfo, UserInfo, Vault

# every route declares the prefix itself, so that the route a request matched (the access log
# names it, never the path) carries the whole template
PREFIX = "/api/v1"


def actor(user: UserInfo) -> str:
    return f"{user.name} (api)"


def case_names(vault: Vault) -> dict[str, str]:
    return {c.id: c.name for c in vault.cases()}


def identity_labels(vault: Vault, case: CaseInfo) -> dict[str, str]:
    return {i.id: i.label for i in vault.identities(case)}
