"""The originals behind the text: a PDF's pages as images for reviewers, and a call's audio.

Page images are drawn on demand, in memory, from the decrypted original, inside the sandboxed
child (``vault._ingest._sandbox``: memory, CPU and wall-clock limits, no file writes) and handed to
the caller as PNG bytes; nothing is kept. We chose this over storing rendered pages as encrypted
blobs: an image of a page shows the unmasked original, so a stored one would be one more copy to
re-encrypt on rotation, to shred with its case and to keep in step with the original, for a view
that only the few reviewers of a case open, a page at a time. A page costs one sandboxed child
(a fraction of a second for an ordinary page; a page too large to draw is a typed refusal).

Audio arrives with its transcript in one upload (``Documents.ingest(audio=...)``) and is stored as
one more encrypted blob of the document (purpose "audio"), under the document's key. Its type is
sniffed from its first bytes when stored (WAV, MP3, Ogg, M4A; anything else is refused) and again
when served, so no column holds it.

Who hears it. A voice is as identifying as a name, and the audio says everything the masked text
hides. So the audio goes to:

- a reviewer of the case (``Permission.DOCUMENT_DOWNLOAD_ORIGINAL``: they may have the unmasked
  original anyway);
- another member who may read the document (an investigator, once it is released) only when an
  unmask grant *covers* it: every protected identity in the transcript (each identity token of
  its masked form: the speakers linked to an identity and every identity named in the text) is
  one whose real name the policy shows this user now (an approved, unexpired unmask grant), every
  speaker of every turn is such an identity (a voice nobody linked to an identity, a "Caller" or an
  "Agent", may be anyone, H included: no grant covers it), nothing in it or its title is masked by
  category or still undecided (a phone number, a name never registered: no grant can cover it, and
  the audio would say it), and its masked form is not stale (an identity registered since would
  be missing from it). A refusal is audited ("document.audio-refused"); a hearing is audited with
  the identities it reveals;
- nobody else: an admin, or a member of another case, gets NotFound, as for no document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from keys import Context, DecryptingReader, SecretKey, StreamEncryptor
from redaction import Permission, permits
from vault._blobs import PendingBlob
from vault._ingest._audio import audio_type
from vault._ingest._limits import MiB
from vault._ingest._model import Format, Kind
from vault._ingest._pipeline import HEAD_BYTES
from vault._ingest._sandbox import ParserSlots, render_in_sandbox
from vault._masking import MaskedDocument
from vault._reading import Reading
from vault._models import DocumentRow
from vault._store import Store, UnitOfWork
from vault._users import UserInfo
from vault._views import BlobPurpose
from vault.errors import Forbidden, InvalidInput, NotFound, TooLarge, UnsupportedType

AUDIO_REFUSAL = ("the original audio of this call is not available to you: it carries voices or "
                 "names that stay masked for you; ask for the speakers to be unmasked first")


@dataclass(frozen=True, slots=True)
class TurnTiming:
    position: int
    start_ms: int | None
    end_ms: int | None


@dataclass(frozen=True, slots=True)
class Timings:
    """What a player needs: whether there is audio, whether this user may hear it, and when each
    turn starts and ends."""

    audio: bool
    playable: bool
    turns: tuple[TurnTiming, ...]


class Audio:
    """An open, authenticated reader of a document's audio: its media type and size."""

    def __init__(self, reader: DecryptingReader, media_type: str) -> None:
        self.reader, self.media_type, self.size = reader, media_type, reader.size

    def pieces(self, start: int, end: int, piece: int = 256 * 1024) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (inclusive), then the reader is closed."""
        try:
            self.reader.seek(start)
            left = end - start + 1
            while left > 0 and (data := self.reader.read(min(piece, left))):
                left -= len(data)
                yield data
        finally:
            self.reader.close()

    def close(self) -> None:
        self.reader.close()


def write_audio(store: Store, key: SecretKey, case_id: str, document_id: str, source: BinaryIO,
                max_bytes: int) -> PendingBlob:
    """The audio read from ``source``, encrypted to a pending blob; refused (nothing left behind)
    past ``max_bytes`` or when its first bytes are not WAV, MP3, Ogg or M4A."""
    head = b""

    def pieces() -> Iterator[bytes]:
        nonlocal head
        size = 0
        while piece := source.read(MiB):
            size += len(piece)
            if size > max_bytes:
                raise TooLarge(f"the audio is larger than the limit of {max_bytes // MiB} MiB and was not stored")
            if len(head) < HEAD_BYTES:
                head += piece[:HEAD_BYTES - len(head)]
            yield piece

    context = Context(BlobPurpose.AUDIO, case_id, document_id, 1)
    blob = store.blobs.write(StreamEncryptor(key, context).chunks(pieces()))
    if audio_type(head) is None:
        blob.discard()
        raise UnsupportedType("the audio must be a WAV, MP3, Ogg or M4A file")
    return blob


def must_be_transcript(kind: Kind) -> None:
    if kind is not Kind.TRANSCRIPT:
        raise InvalidInput("audio goes with a call transcript (.txt, .vtt, .srt or .json), not a court record")


class Originals:
    """Page images for reviewers, a call's audio for whoever it is covered for."""

    def __init__(self, store: Store, reading: Reading, parsers: Callable[[], ParserSlots]) -> None:
        self.store, self.reading, self.parsers = store, reading, parsers  # the uploads' slots, also replaceable

    def page_image(self, document_id: str, user: UserInfo, page: int, *, actor: str) -> bytes:
        """Page ``page`` (from 1) of a PDF as a PNG, for a reviewer of its case (audited)."""
        with self.store.read() as work:
            row = work.visible_document(document_id, user.actor)
            if not permits(user.actor, Permission.DOCUMENT_REVIEW, row.case_id):
                raise Forbidden("only the case's reviewers see the original pages: they show the unmasked text")
            if row.format != Format.PDF.value:
                raise InvalidInput("this document is not a PDF; it has no pages to show as images")
            if not 1 <= page <= row.page_count:
                raise InvalidInput(f"there is no page {page}: this document has {row.page_count} pages")
            reader = work.open_blob(row, BlobPurpose.ORIGINAL)
        with reader:
            self.store.record(actor=actor, action="document.page-image", target=document_id, details={"page": page})
            return render_in_sandbox(reader, page, self.store.settings.limits, self.parsers())

    def timings(self, document_id: str, user: UserInfo) -> Timings:
        """When each turn of a transcript starts and ends, and whether it has audio."""
        with self.store.read() as work:
            row = work.visible_document(document_id, user.actor)
            has_audio = work.latest_blob(row.id, BlobPurpose.AUDIO) is not None
            masked = work.masked(row)
            playable = has_audio and self._hearing(work, row, user, masked, self.store.now()) is not None
        return Timings(has_audio, playable, tuple(TurnTiming(u.position, u.start_ms, u.end_ms) for u in masked.units))

    def audio(self, document_id: str, user: UserInfo, *, actor: str, now: datetime | None = None) -> Audio:
        """The call's audio, if the policy lets ``user`` hear it (see the module's docstring)."""
        now = now or self.store.now()
        with self.store.read() as work:
            row = work.visible_document(document_id, user.actor)
            blob = work.latest_blob(row.id, BlobPurpose.AUDIO)
            if blob is None:
                raise NotFound("this document has no audio")
            revealed = self._hearing(work, row, user, work.masked(row), now)
            reader = work.open_blob(row, BlobPurpose.AUDIO, blob) if revealed is not None else None
        if reader is None:
            self.store.record(actor=actor, action="document.audio-refused", target=document_id,
                              details={"user": user.id})
            raise Forbidden(AUDIO_REFUSAL)
        try:
            media_type = audio_type(reader.read(HEAD_BYTES)) or "application/octet-stream"
            self.store.record(actor=actor, action="document.audio", target=document_id,
                              details={"user": user.id, "revealed": revealed})
        except BaseException:
            reader.close()
            raise
        return Audio(reader, media_type)

    def _hearing(self, work: UnitOfWork, row: DocumentRow, user: UserInfo, masked: MaskedDocument,
                 now: datetime) -> list[str] | None:
        """The identities the audio reveals to ``user`` (who may see the document), or None when
        they may not hear it: see the module's docstring."""
        display = self.reading.display_in(work, row.case_id, user, now)
        revealed = display.revealed_in(masked.tokens)
        if permits(user.actor, Permission.DOCUMENT_DOWNLOAD_ORIGINAL, row.case_id):
            return revealed
        if work.stale([row.id]):
            return None  # masked before an identity was registered: its voice would be missed
        return revealed if _covered(masked, display.revealing) else None


def _covered(masked: MaskedDocument, revealing: dict[str, str]) -> bool:
    """Whether every voice and every mask of the transcript is an identity the user may see named."""
    suggestions = [*(s for u in masked.units for s in u.suggestions), *masked.title_suggestions]
    if any(s.get("state") == "pending" or (s.get("state") == "accepted" and not s.get("identity_id"))
           for s in suggestions):
        return False  # masked by category (accepted) or still undecided: the audio would say it
    if any((u.speaker or "").strip() not in revealing for u in masked.units):
        return False  # a voice linked to no identity ("Caller", "Agent", none) may be anyone's
    return all(token in revealing for token in masked.tokens)
