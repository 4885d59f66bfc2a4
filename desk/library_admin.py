"""Keeping the library: adding and removing documents, publishing and withdrawing expert FAQ
entries, and flagging entries whose documents changed."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from core.answers import FaqEntry, FaqRecord
from core.documents import Chunk, SourceDocument
from core.errors import DocumentNotFound, FaqNotFound, IngestError, InvalidTransition
from core.people import UserRef
from core.ports import Clock
from core.tickets import Ticket, TicketStatus
from desk.api import IngestOutcome
from desk.ports import IngestedFile, Ingestor, Knowledge, Previewer
from escalation.store import EscalationStore

log = logging.getLogger(__name__)

PUBLISHABLE = (TicketStatus.ANSWERED, TicketStatus.CLOSED)
FLAG_REPLACED = "replaced"
FLAG_REMOVED = "removed"
PREVIEW_CHUNKS = 5  # passages a preview shows


class PreviewOutdated(InvalidTransition):
    """The file confirmed is not the one previewed (it changed in between)."""

    code = "preview_outdated"


@dataclass(frozen=True, slots=True)
class DocumentPreview:
    """What ingesting one file will store: the document (title, 文号, kind, dates), how many
    passages and the first of them, and what it does to the library (adds, replaces
    ``replaces``, or changes nothing because the same content is there already)."""

    document: SourceDocument
    chunk_count: int
    first_chunks: tuple[Chunk, ...]
    replaces: SourceDocument | None = None
    unchanged: bool = False
    duplicate_of: str | None = None  # the same content is stored under this other file name

    @property
    def content_hash(self) -> str:
        return self.document.content_hash


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes, hex (a document's ``content_hash``)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def faq_sources(ticket: Ticket) -> tuple[str, ...]:
    """The documents an answer relied on: the files of the passages the expert started from
    (FAQ entries among them excluded), in order, without repeats."""
    names = (c.document for c in ticket.passages if c.document and not c.faq_id)
    return tuple(dict.fromkeys(names))


def outcome_from(result: IngestedFile, sections: int) -> IngestOutcome:
    """An ``IngestOutcome`` from what the ingest pipeline returned for one file."""
    return IngestOutcome(
        file_name=result.document.file_name,
        document=result.document,
        sections=sections,
        chunks=result.chunk_count,
        unchanged=str(result.status) == "unchanged",
        replaced=result.replaced,
    )


class LibraryAdmin:
    def __init__(
        self, knowledge: Knowledge, store: EscalationStore, ingest: Ingestor | None, clock: Clock
    ) -> None:
        self._knowledge = knowledge
        self._store = store
        self._ingest = ingest
        self._clock = clock

    def publish(self, expert: UserRef, ticket_id: int) -> FaqEntry:
        """The ticket's answer becomes (or updates) an expert FAQ entry in the library."""
        with self._store.reading() as tx:
            ticket = tx.tickets.get(ticket_id)
        if ticket.status not in PUBLISHABLE or not ticket.answer:
            raise InvalidTransition(f"ticket {ticket_id} has no answer to publish")
        similar = self._knowledge.similar_faq(ticket.question)
        faq_id = ticket.published_faq_id or (similar.faq_id if similar else f"faq-t{ticket_id}")
        entry = FaqEntry(
            faq_id=faq_id,
            question=ticket.question,
            answer=ticket.answer,
            sources=faq_sources(ticket),
            approved_by=expert.display_name or expert.key,
            approved_at=self._clock.now().isoformat(timespec="seconds"),
            ticket_id=ticket_id,
        )
        stored = self._knowledge.add_faq(entry)
        with self._store.transaction() as tx:
            tx.faq.save(stored)
            tx.tickets.set_published(ticket_id, expert, stored.faq_id)
        log.info(
            "faq published faq=%s ticket=%s updated=%s",
            stored.faq_id,
            ticket_id,
            similar is not None or ticket.published_faq_id is not None,
        )
        return stored

    def withdraw(self, user: UserRef, faq_id: str) -> FaqRecord:
        with self._store.reading() as tx:
            known = tx.faq.get(faq_id)
        removed = self._knowledge.remove_faq(faq_id)
        if known is None and not removed:
            raise FaqNotFound(f"no FAQ entry {faq_id}", faq_id=faq_id)
        with self._store.transaction() as tx:
            if known is None:  # served by the library but never mirrored: record it now
                tx.faq.save(FaqEntry(faq_id, "", "", approved_by=user.key))
            record = tx.faq.withdraw(faq_id)
            ticket_id = known.entry.ticket_id if known else None
            if ticket_id is not None:
                ticket = tx.tickets.get(ticket_id)
                if ticket.published_faq_id == faq_id:
                    tx.tickets.set_published(ticket_id, user, None)
        assert record is not None
        log.info("faq withdrawn faq=%s by=%s", faq_id, user.key)
        return record

    def clear_flag(self, faq_id: str) -> FaqRecord:
        with self._store.transaction() as tx:
            record = tx.faq.clear_flag(faq_id)
        if record is None:
            raise FaqNotFound(f"no FAQ entry {faq_id}", faq_id=faq_id)
        return record

    def add_document(self, path: Path, file_name: str | None = None) -> IngestOutcome:
        """Ingest one file; a refused file comes back as an outcome with its error."""
        name = file_name or path.name
        if self._ingest is None:
            raise InvalidTransition("this desk has no ingest pipeline")
        try:
            result = self._ingest.ingest_file(path, file_name)
        except IngestError as exc:
            log.warning("document refused file=%s code=%s", name, exc.code)
            reason = str(exc.context.get("reason", ""))
            return IngestOutcome(name, error=exc.detail, error_code=exc.code, error_reason=reason)
        chunks = self._knowledge.chunks(result.document.doc_id)
        outcome = outcome_from(result, len({c.section for c in chunks}))
        if outcome.replaced is not None:
            self._flag(outcome.replaced.file_name, FLAG_REPLACED)
        log.info(
            "document ingested file=%s unchanged=%s replaced=%s chunks=%s",
            outcome.file_name,
            outcome.unchanged,
            outcome.replaced is not None,
            outcome.chunks,
        )
        return outcome

    def preview(self, path: Path, file_name: str) -> DocumentPreview:
        """What :meth:`add_document` would do with this file; nothing is stored. Raises the
        ``IngestError`` ingesting it would raise (with its code for the Chinese text)."""
        if not isinstance(self._ingest, Previewer):
            raise InvalidTransition("this desk has no ingest pipeline")
        parsed = self._ingest.parse(path, file_name)
        document = parsed.document
        current = self._knowledge.find_by_file(file_name)
        same = self._knowledge.get(document.doc_id)
        unchanged = same is not None and same.content_hash == document.content_hash
        return DocumentPreview(
            document=document,
            chunk_count=len(parsed.chunks),
            first_chunks=tuple(parsed.chunks[:PREVIEW_CHUNKS]),
            replaces=current if current is not None and not unchanged else None,
            unchanged=unchanged,
            duplicate_of=same.file_name
            if unchanged and same and same.file_name != file_name
            else None,
        )

    def confirm(self, path: Path, file_name: str, previewed_hash: str) -> IngestOutcome:
        """:meth:`add_document`, only if the file is the one previewed (``PreviewOutdated``
        otherwise, nothing stored)."""
        if file_hash(path) != previewed_hash:
            raise PreviewOutdated(f"{file_name} is not the file previewed")
        return self.add_document(path, file_name)

    def remove_document(self, doc_id: str) -> SourceDocument:
        removed = self._knowledge.remove(doc_id)
        if removed is None:
            raise DocumentNotFound(f"no document {doc_id}", doc_id=doc_id)
        self._flag(removed.file_name, FLAG_REMOVED)
        log.info("document removed doc=%s file=%s", doc_id, removed.file_name)
        return removed

    def flag(self, file_name: str, reason: str) -> list[str]:
        """Flag for review the FAQ entries relying on ``file_name``; their ids."""
        return self._flag(file_name, reason)

    def _flag(self, file_name: str, reason: str) -> list[str]:
        with self._store.transaction() as tx:
            flagged = tx.faq.flag_citing([file_name], f"{reason}:{file_name}")
        if flagged:
            log.info("faq flagged for review count=%s reason=%s", len(flagged), reason)
        return flagged
