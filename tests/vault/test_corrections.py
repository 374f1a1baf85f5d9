"""A reviewer fixes the masking: one mention of an alias that is not its identity (the clerk
"Hadrien Mercadier" is not H, whose alias is "Hadrien"), and a released document reopened.
On both backends; personas from tests/vault/conftest.py."""

from __future__ import annotations

import pytest

from tests.conftest import ingest_bytes
from tests.vault.conftest import release_all
from vault import DocumentStatus
from vault.errors import Conflict, Forbidden, InvalidInput, NotFound, RedactionConflict

RECORD = "Greffier : M. Hadrien Mercadier, lors des débats. Hadrien Quillon est absent; Hadrien a signé.".encode()
CLERK = RECORD.decode().index("Hadrien")


def _h(vault, case):
    return next(i for i in vault.identities(case) if i.label == "H")


def _page(vault, document_id, user):
    return "\n".join(u.text for u in vault.view(document_id, user, actor="tester").units)


def _except_clerk(vault, case, people, document_id, who="rex"):
    return vault.corrections.not_this_identity(document_id, people[who], unit=1, start=CLERK,
                                               end=CLERK + len("Hadrien"), identity_id=_h(vault, case).id,
                                               actor="tester")


def test_one_mention_is_left_verbatim_and_no_other(vault, case, people):
    document = ingest_bytes(vault, case, RECORD, "record.txt")
    _except_clerk(vault, case, people, document.id)
    release_all(vault, people, document.id)
    text = _page(vault, document.id, people["ivy"])
    assert "M. Hadrien Mercadier, lors" in text
    assert text.count("Hadrien") == 1 and "Quillon" not in text
    assert "H est absent; H a signé." in text
    entries = [e for e in vault.audit_entries(limit=1000) if e.action == "review.not-identity"]
    assert len(entries) == 1 and "Hadrien" not in str(entries[0].details)


@pytest.mark.parametrize("persona", ["ivy", "ada", "otto"])
def test_only_a_reviewer_of_the_case_may_except_a_mention(vault, case, people, persona):
    document = ingest_bytes(vault, case, RECORD, "record.txt")
    with pytest.raises((NotFound, Forbidden)):
        _except_clerk(vault, case, people, document.id, who=persona)
    release_all(vault, people, document.id)
    assert "Hadrien" not in _page(vault, document.id, people["ivy"])


def test_an_exception_must_be_a_mention_of_that_identity_there(vault, case, people):
    document = ingest_bytes(vault, case, RECORD, "record.txt")
    h, other = _h(vault, case), next(i for i in vault.identities(case) if i.label != "H")
    for start, end, identity in ((CLERK, CLERK + 3, h.id), (CLERK, CLERK + 7, other.id), (0, 8, h.id),
                                 (CLERK - 1, CLERK + 7, h.id)):
        with pytest.raises(InvalidInput):
            vault.corrections.not_this_identity(document.id, people["rex"], unit=1, start=start, end=end,
                                                identity_id=identity, actor="tester")
    with pytest.raises(InvalidInput):
        vault.corrections.not_this_identity(document.id, people["rex"], unit=1, start=CLERK, end=CLERK + 7,
                                            identity_id=h.id, field_name="footnote", actor="tester")
    _except_clerk(vault, case, people, document.id)
    with pytest.raises(RedactionConflict):
        _except_clerk(vault, case, people, document.id)


def test_the_exception_survives_an_identity_edit_and_a_stale_remask(vault, case, people):
    document = ingest_bytes(vault, case, RECORD, "record.txt")

    def concurrent(decisions, previous):  # a re-masking that read the form before the exception
        _except_clerk(vault, case, people, document.id)
        return {}

    with pytest.raises(Conflict):
        vault.store.remask(document.id, actor="tester", action="document.remask", decide=concurrent)
    vault.edit_identity(case, "H", label="HQ", actor="tester")
    release_all(vault, people, document.id)
    text = _page(vault, document.id, people["ivy"])
    assert "M. Hadrien Mercadier, lors" in text and "HQ est absent; HQ a signé." in text


def test_a_mention_grown_past_the_exception_is_masked_again(vault, case, people):
    document = ingest_bytes(vault, case, RECORD, "record.txt")
    _except_clerk(vault, case, people, document.id)
    vault.edit_identity(case, "H", add_aliases=["Hadrien Mercadier"], actor="tester")
    release_all(vault, people, document.id)
    assert "Hadrien" not in _page(vault, document.id, people["ivy"])


def test_reopen_takes_a_released_document_back_from_investigators(vault, case, people):
    document = ingest_bytes(vault, case, RECORD, "record.txt")
    release_all(vault, people, document.id)
    assert vault.view(document.id, people["ivy"], actor="tester")
    for persona in ("ivy", "ada", "otto"):
        with pytest.raises((NotFound, Forbidden)):
            vault.corrections.reopen(document.id, people[persona], actor="tester")
    assert vault.corrections.reopen(document.id, people["rita"], actor="tester").status is DocumentStatus.IN_REVIEW
    with pytest.raises(NotFound):
        vault.view(document.id, people["ivy"], actor="tester")
    with pytest.raises(Conflict):
        vault.corrections.reopen(document.id, people["rita"], actor="tester")
    assert [e.action for e in vault.audit_entries(limit=1000)].count("document.reopen") == 1
    _except_clerk(vault, case, people, document.id)
    assert vault.release(document.id, people["rex"], actor="tester").status is DocumentStatus.RELEASED
    assert "M. Hadrien Mercadier" in _page(vault, document.id, people["ivy"])


def test_the_uploader_may_reopen_but_not_release_again(vault, case, people):
    import io
    document = vault.ingest(io.BytesIO(RECORD), case=case, filename="record.txt", actor=people["rex"].id)
    masked = vault.masked(document.id)
    for record in [r for u in masked.units for r in u.suggestions if r["state"] == "pending"]:
        vault.decide(document.id, people["rita"], [record["id"]], accept=False, actor="tester")
    vault.release(document.id, people["rita"], actor="tester")
    vault.corrections.reopen(document.id, people["rex"], actor="tester")
    with pytest.raises(Forbidden, match="four eyes"):
        vault.release(document.id, people["rex"], actor="tester")
    assert vault.release(document.id, people["rita"], actor="tester").status is DocumentStatus.RELEASED
