"""The JSON API under /api/v1, for integrations and scripts.

A caller is a user, authenticated by an access key (``Authorization: Bearer cvk_...``; see
``web.deps``). Each route makes one visibility check for its resource, and what the caller may not
see answers 404 exactly like what does not exist; what they may see but not change answers 403
with the policy's reason. The vault enforces the policy again beneath (reads, reveals, review,
release, unmask), and audits. Bodies are built in ``web._json``; errors become status codes in
``web._errors`` only. Handlers are plain functions: FastAPI runs them in its thread pool, so the
vault's blocking work never holds the event loop (the upload reads its stream asynchronously and
hands the vault's work to the pool).

One module per resource: cases, documents, search, review, unmask requests, users and access
keys, confirmations and enrolment, keys, audit, backups. ``_models`` is the contract the OpenAPI document
(/api/v1/openapi.json) publishes: a response model per body, the access key as a bearer scheme on
every route but health, enrolment and the seal, and the errors each route answers, all in one error body.
"""

from fastapi import APIRouter, Depends

from web._input import plain_text
from web.api import (_audit, _backups, _cases, _confirmations, _documents, _keys, _originals, _review, _seal, _search,
                     _unmask, _users)

router = APIRouter(dependencies=[Depends(plain_text)])  # each resource's router has the /api/v1 prefix
for _public in (_cases.public, _confirmations.public, _seal.public):  # health, enrolment, the seal: no access key
    router.include_router(_public)
for _resource in (_cases, _documents, _originals, _search, _review, _unmask, _users, _confirmations, _keys, _audit, _backups):
    router.include_router(_resource.router)

__all__ = ["router"]
