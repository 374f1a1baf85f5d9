"""Documents: upload (streamed, cut at the size limit), the policy view, the original file."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from redaction import Permission
from vault.errors import InvalidInput
from web import _json
from web._upload import ingest_upload, read_upload
from web.api._models import ACCESS_KEY, UPLOAD, DocumentStateOut, DocumentViewOut, errors
from web.api._names import PREFIX, actor
from web.deps import CurrentUser, VaultDep, VisibleDocument, require, visible_case

router = APIRouter(prefix=PREFIX, dependencies=[ACCESS_KEY])


@router.post("/documents", status_code=201, responses=errors(403, 404, 409, 413, 415), openapi_extra=UPLOAD,
             response_model=DocumentStateOut)
async def upload_document(request: Request, vault: VaultDep, user: CurrentUser) -> dict[str, object]:
    """Multipart fields ``file`` and ``case``; the document enters review. Answers like
    ``casevault ingest --json``: ``{"id", "kind", "status"}``."""
    # async to read the stream as it arrives; the vault's work goes to the thread pool
    upload = await read_upload(request, vault.settings.limits.max_file_bytes)
    case_name = upload.fields.get("case")
    if not case_name:
        raise InvalidInput("say which case the document belongs to, in the field 'case'")
    case = await run_in_threadpool(visible_case, vault, user, case_name)
    require(user, Permission.DOCUMENT_UPLOAD, case.id)
    document = await run_in_threadpool(ingest_upload, vault, user, case, upload)
    return _json.document_state_json(document)


@router.get("/documents/{document_id}", responses=errors(404), response_model=DocumentViewOut,
            response_model_exclude_unset=True)
def get_document(vault: VaultDep, user: CurrentUser, document_id: str) -> dict[str, object]:
    """The policy view: pseudonyms, or real names where the policy allows (audited)."""
    return _json.view_json(vault.view(document_id, user, actor=actor(user)))


def _attachment(filename: str) -> str:
    """A Content-Disposition that no file name can break: an ASCII fallback and RFC 5987."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in ascii_name).strip(" .") or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/documents/{document_id}/original", response_class=StreamingResponse, responses={
    200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
          "description": "the original file"}, **errors(403, 404)})
def download_original(vault: VaultDep, user: CurrentUser, document: VisibleDocument) -> StreamingResponse:
    """The original file as uploaded, for the case's reviewers (audited)."""
    require(user, Permission.DOCUMENT_DOWNLOAD_ORIGINAL, document.case_id)
    reader = vault.open_original(document.id, actor=actor(user))

    def chunks() -> Iterator[bytes]:
        try:
            while block := reader.read(64 * 1024):
                yield block
        finally:
            reader.close()

    return StreamingResponse(chunks(), media_type="application/octet-stream",
                             headers={"Content-Disposition": _attachment(document.filename)})
