"""A refused unmask request is shown on the document with what was typed kept in the form."""

from __future__ import annotations

import html
import re

from tests.web.pages.conftest import csrf_of, sign_in

JUSTIFICATION = "to prepare the extradition hearing of 14 May with counsel"


def test_a_refused_justification_keeps_what_was_typed(world):
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    document = f"/documents/{world.documents['call1'].id}"
    labels = re.findall(r"<option>([^<]+)</option>", ivy.get(document).text)
    label = labels[-1]
    typed = "because <I> need it"  # too short: refused
    refused = ivy.post(f"{document}/unmask", data={"csrf": token, "identity": label, "justification": typed})
    assert refused.status_code == 400
    assert 'id="unmask-error"' in refused.text and "at least" in refused.text
    assert f">{html.escape(typed, quote=True)}</textarea>" in refused.text
    assert f"<option selected>{html.escape(label)}</option>" in refused.text
    assert world.vault.unmask_requests(world.case) == []
    sent = ivy.post(f"{document}/unmask", data={"csrf": token, "identity": label, "justification": JUSTIFICATION})
    assert sent.status_code == 303
    again = ivy.post(f"{document}/unmask", data={"csrf": token, "identity": label, "justification": JUSTIFICATION})
    assert again.status_code == 409 and f">{JUSTIFICATION}</textarea>" in again.text  # one already waits
