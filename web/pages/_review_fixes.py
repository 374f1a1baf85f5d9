"""A reviewer fixes the masking from the review page: one mention of a registered alias that is
not its identity, a released document reopened for review, identities added and edited. Also
what the review page shows of the masking: the verbatim text, each masked span marked with what
it becomes (a pseudonym, a category mask) or that it is left as written.

Every action is a POST that redirects back to the review page with a notice code (PRG)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from redaction import Permission
from vault import IdentityCategory, ReviewView, UserInfo, Vault
from vault.errors import InvalidInput
from web._pages import actor, see_other
from web.deps import PostedForm, Require, VaultDep, require, visible_document

router = APIRouter()
Reviewer = Annotated[UserInfo, Require(Permission.DOCUMENT_REVIEW, "only reviewers review documents")]

NOTICES = {
    "excepted": "That mention is left as written: it is not the identity.",
    "reopened": "The document is back in review: investigators no longer find or read it until it is released again.",
    "identity-added": "The identity is registered; every document of its scope was masked again.",
    "identity-edited": "The identity is changed; every document of its scope was masked again.",
}


# -- what the review page shows ----------------------------------------------------------------

Look = tuple[str, str, str]  # a mark's class, its tooltip, and the label shown beside it
Mark = tuple[int, int, Look]  # start, end, how it looks


def marks_by_unit(review: ReviewView, labels: dict[str, str]) -> dict[tuple[int, str], list[Mark]]:
    """Each unit's masked spans over its verbatim text: identity mentions (or the ones a reviewer
    left as written), and pending or accepted suggestions, each with what it becomes."""
    marks: dict[tuple[int, str], list[Mark]] = {}
    for span in review.spans:
        label = str(span["identity"])
        look = (("excepted", f"left as written: not {label} here (a reviewer's exception)", "as written")
                if span["excepted"] else ("identity", f"becomes the pseudonym {label}", label))
        marks.setdefault((span["unit"], span["field"]), []).append((span["start"], span["end"], look))  # type: ignore[arg-type]
    for s in review.suggestions:
        category, identity = str(s["category"]), s.get("identity_id")
        if s["state"] == "pending":
            look = ("pending", f"undecided {category}: masked as [{category}] until a reviewer decides", f"[{category}]")
        elif s["state"] == "accepted" and identity in labels:
            look = ("accepted", f"becomes the pseudonym {labels[str(identity)]}", labels[str(identity)])
        elif s["state"] == "accepted":
            look = ("accepted", f"becomes the category mask [{category}]", f"[{category}]")
        else:
            continue
        marks.setdefault((s["unit"], s["field"]), []).append((s["start"], s["end"], look))  # type: ignore[arg-type]
    return marks


def fixes_context(request: Request, vault: Vault, review: ReviewView, case_id: str) -> dict[str, object]:
    """What the review page's fixes need: the mentions a reviewer may except, the case's
    identities to edit, whether the document is released (read only, with "reopen"), a notice."""
    identities = vault.identities(vault.case(case_id))
    mentions = [dict(s, where="title" if s["field"] == "title" else f"{s['unit']}"
                     + (" speaker" if s["field"] == "speaker" else "")) for s in review.spans]
    return {"released": review.status.value == "released", "mentions": mentions,
            "identity_rows": [{"id": i.id, "label": i.label, "name": i.name, "aliases": ", ".join(i.aliases),
                               "category": i.category.value} for i in identities],
            "identity_categories": [c.value for c in IdentityCategory],
            "fix_notice": NOTICES.get(request.query_params.get("notice", ""))}


# -- the fixes -----------------------------------------------------------------------------------

def _number(values: PostedForm, name: str) -> int:
    try:
        return int(str(values.get(name, "")))
    except ValueError:
        raise InvalidInput("choose a mention on the review page") from None


def _aliases(text: str) -> list[str]:
    return [a.strip() for a in text.replace("\n", ",").split(",") if a.strip()]


@router.post("/review/{document_id}/not-identity")
def not_this_identity(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    vault.corrections.not_this_identity(
        document_id, user, unit=_number(values, "unit"), start=_number(values, "start"), end=_number(values, "end"),
        field_name=str(values.get("field", "text")), identity_id=str(values.get("identity", "")), actor=actor(user))
    return see_other(f"/review/{document_id}?notice=excepted")


@router.post("/review/{document_id}/reopen")
def reopen(vault: VaultDep, _form: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    vault.corrections.reopen(document_id, user, actor=actor(user))
    return see_other(f"/review/{document_id}?notice=reopened")


def _managed_case(vault: Vault, user: UserInfo, document_id: str) -> str:
    """The case of a document ``user`` may see, if they may manage its identities."""
    case_id = visible_document(vault, user, document_id).case_id
    require(user, Permission.IDENTITY_MANAGE, case_id, refusal="not allowed: reviewers of the case manage its identities")
    return case_id


@router.post("/review/{document_id}/identities")
def add_identity(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    case = vault.case(_managed_case(vault, user, document_id))
    vault.add_identity(case, name=str(values.get("name", "")), aliases=_aliases(str(values.get("aliases", ""))),
                       label=str(values.get("label") or "") or None, category=str(values.get("category") or "person"),
                       actor=actor(user))
    return see_other(f"/review/{document_id}?notice=identity-added")


@router.post("/review/{document_id}/identities/edit")
def edit_identity(vault: VaultDep, values: PostedForm, user: Reviewer, document_id: str) -> RedirectResponse:
    case = vault.case(_managed_case(vault, user, document_id))
    identity_id = str(values.get("identity", ""))
    identity = next((i for i in vault.identities(case) if i.id == identity_id), None)
    if identity is None:
        raise InvalidInput("choose an identity of this case")
    name, label = str(values.get("name") or "").strip(), str(values.get("label") or "").strip()
    vault.edit_identity(case, identity.label, name=name if name and name != identity.name else None,
                        label=label if label and label != identity.label else None,
                        add_aliases=_aliases(str(values.get("add_aliases", ""))),
                        remove_aliases=_aliases(str(values.get("remove_aliases", ""))), actor=actor(user))
    return see_other(f"/review/{document_id}?notice=identity-edited")
