"""The pages: server-rendered Jinja2 over the same vault and search as the JSON API.

A person signs in with a password (and a TOTP code for reviewers and admins); the browser then
holds a session cookie (web/_sessions.py). Every state change is a POST form that carries the
session's CSRF token, checked by a dependency (``web.deps.PostedForm``) before the handler runs.
Handlers are plain functions that FastAPI runs in its thread pool, so the vault's blocking work
(re-masking, fsync, key derivation) never holds the event loop; only the upload is async, to
read its stream as it arrives, and hands the vault's work to the pool. Pages link by ids, never
by case names or queries, so no name or query sits in a URL, a history or a log. No page holds
inline script: the two small scripts (upload progress, selecting a span) are files under
/static, and the CSP allows nothing else. How a page is drawn is in ``web._pages``.

One module per part: signing in and enrolment, the account, search, the document browser, documents
and uploads, review, identities and unmask requests, confirmations, administration (users and keys;
cases and their members), the audit log, backups, unsealing.
"""

from fastapi import APIRouter, Depends

from web._input import plain_text
from web.pages import (_account, _admin, _admin_cases, _audit, _backups, _cases, _confirmations, _documents,
                       _originals, _review, _review_fixes, _search, _sign_in, _unmask, _unseal)

router = APIRouter(include_in_schema=False, dependencies=[Depends(plain_text)])
for _part in (_sign_in, _search, _cases, _documents, _originals, _review, _review_fixes, _unmask, _confirmations,
              _account, _admin, _admin_cases, _audit, _backups, _unseal):
    router.include_router(_part.router)

__all__ = ["router"]
