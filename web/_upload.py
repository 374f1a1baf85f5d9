"""Uploads read from the request stream into memory, under a limit checked while they arrive,
and ingested as their uploader (the API and the pages alike).

Starlette's form parser spools a large file to the system temporary directory, in clear: an
uploaded court record would sit on disk unencrypted until the request ends, or forever after a
crash. Here the multipart body is parsed as it streams (python-multipart), the file part stays in
memory (the vault encrypts it as it is stored), and the stream is cut at the vault's size limit
with a 413, before the rest is read. The client's file name is kept as metadata only; it is never
used as a path.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import Field, File, FormParser, parse_options_header
from starlette.requests import Request

from redaction import may_see_document
from vault import CaseInfo, DocumentInfo, DocumentStatus, UserInfo, Vault
from vault.errors import DuplicateDocument, InvalidInput, TooLarge
from web._input import check_text

FORM_OVERHEAD = 64 * 1024  # the other fields and the multipart framing
MAX_FIELD_BYTES = 1024
MAX_HEADER_BYTES = 32 * 1024


@dataclass
class Upload:
    fields: dict[str, str]
    file: io.BytesIO
    filename: str | None
    audio: io.BytesIO | None = None  # a call's recording, sent with its transcript (field 'audio')


async def read_upload(request: Request, max_file_bytes: int) -> Upload:
    """The fields and the one file of a multipart/form-data request, and the audio of a call if
    one comes with it (each file under the limit); TooLarge past the limit."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise InvalidInput("send the document as multipart/form-data with fields 'file' and 'case'")
    limit = 2 * max_file_bytes + FORM_OVERHEAD  # the file, and the audio of a call with its transcript
    declared = request.headers.get("content-length")
    too_large = TooLarge(f"the file is larger than the limit of {max_file_bytes // (1024 * 1024)} MiB")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    fields: dict[str, str] = {}
    files: list[File] = []

    def on_field(field: Field) -> None:
        name = (field.field_name or b"").decode("utf-8", "replace")
        value = field.value or b""
        if len(value) > MAX_FIELD_BYTES:
            raise InvalidInput(f"the field {name!r} is too long")
        fields[name] = value.decode("utf-8", "replace")

    def on_file(file: File) -> None:
        files.append(file)

    parser = FormParser("multipart/form-data", on_field, on_file, boundary=options[b"boundary"], config={
        "MAX_MEMORY_FILE_SIZE": limit + 1,  # never flushed to disk: the stream is cut first
        "MAX_BODY_SIZE": limit, "MAX_FIELDS": 16, "MAX_FIELD_SIZE": MAX_FIELD_BYTES,
        "MAX_HEADER_SIZE": MAX_HEADER_BYTES,  # a file name of some thousand characters fits
    })
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise too_large
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        if received > max_file_bytes + FORM_OVERHEAD:
            raise too_large from None  # more than one file's worth that is no file and its audio
        raise InvalidInput("the multipart/form-data body is malformed; send fields 'file' and 'case'") from None
    for name, value in fields.items():
        check_text(name, value)
    uploads = [f for f in files if f.field_name == b"file"]
    if len(uploads) != 1:
        if received > max_file_bytes + FORM_OVERHEAD:
            raise too_large  # a file cut short past the limit, never finished
        raise InvalidInput("send exactly one file, in the field 'file'")
    audios = [f for f in files if f.field_name == b"audio" and f.size]  # an empty file input sends no audio
    if len(audios) > 1 or len(files) > 1 + sum(1 for f in files if f.field_name == b"audio"):
        raise InvalidInput("send one file in the field 'file' and at most one in the field 'audio'")
    body = _in_memory(uploads[0], max_file_bytes, too_large)
    name = uploads[0].file_name.decode("utf-8", "replace") if uploads[0].file_name else None
    return Upload(fields, body, name, _in_memory(audios[0], max_file_bytes, too_large) if audios else None)


def _in_memory(upload: File, max_file_bytes: int, too_large: TooLarge) -> io.BytesIO:
    if not upload.in_memory:  # cannot happen with the limits above; refuse rather than read from disk
        raise too_large
    if upload.size > max_file_bytes:
        raise too_large
    body = upload.file_object
    body.seek(0)
    return body  # type: ignore[return-value]


def ingest_upload(vault: Vault, user: UserInfo, case: CaseInfo, upload: Upload) -> DocumentInfo:
    """Ingest an upload as ``user``. A duplicate of a document they may see is a 409; a duplicate
    of one they may not see (in review) answers as their own new upload would, in review and
    unreadable to them, so that the answer is no oracle for what waits in review. The file is
    not stored twice: the reviewers already have it."""
    try:
        return vault.ingest(upload.file, case=case, filename=upload.filename,
                            actor=user.id, audio=upload.audio)  # the uploader: four eyes compare it
    except DuplicateDocument as duplicate:
        existing = vault.document(duplicate.existing_id)
        if may_see_document(user.actor, existing.case_id, existing.status.value):
            raise DuplicateDocument("this file is already in the case", "") from None
        vault.record_duplicate_upload(existing.id, actor=user.id)
        return dataclasses.replace(existing, status=DocumentStatus.IN_REVIEW)
