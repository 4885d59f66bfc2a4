"""The admin console's part of the desk: the question log (and a ticket opened from one of
its rows), statistics broken down per period, domain and channel, and keeping the library
with a preview before anything is stored. Every call checks that its caller is an admin and
records what it changed in the audit log.

Mixed into ``desk.service.Desk`` (like ``desk.console_access.ConsoleAccess``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path

from core.answers import Citation, FaqRecord
from core.document_status import status_of
from core.documents import SourceDocument
from core.errors import DocumentNotFound, InvalidQuestion, NotPermitted
from core.people import UserRef
from core.question_log import QuestionPage, QuestionQuery
from core.tickets import Ticket
from desk import statistics
from desk.api import IngestOutcome
from desk.library_admin import DocumentPreview, LibraryAdmin
from desk.ports import Knowledge
from desk.questions import QuestionRecorder
from desk.roles import require_admin, require_staff, with_name
from desk.statistics import PeriodUnit, Statistics
from escalation.breakdown import BreakdownRepo
from escalation.interactions import InteractionKind
from escalation.question_log import QuestionLogRepo
from escalation.store import EscalationStore
from escalation.tickets import ACTIVE
from knowledge import status as document_status

log = logging.getLogger(__name__)

CHINA = timezone(timedelta(hours=8), "CST")  # periods are Beijing-time days, weeks, months
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """A document as the library screen lists it."""

    document: SourceDocument
    chunks: int
    citing_faq: int  # active expert FAQ entries relying on it
    status: str = ""  # core.document_status.DocumentStatus today
    status_label: str = ""  # the same in words, as citations say it (已被《…》代替, …)


class AdminConsole:
    """Mixed into ``desk.service.Desk``."""

    _store: EscalationStore
    _knowledge: Knowledge
    _library: LibraryAdmin
    _questions: QuestionRecorder

    # --- question log -----------------------------------------------------------------------
    def question_log(self, admin: UserRef, query: QuestionQuery | None = None) -> QuestionPage:
        """Questions put to the desk, newest first, as ``query`` selects them (everything, by
        default); a page of at most ``MAX_PAGE``."""
        require_admin(self._store, admin)
        query = query or QuestionQuery()
        query = replace(
            query, limit=min(max(1, query.limit), MAX_PAGE), offset=max(0, query.offset)
        )
        with self._store.reading() as tx:
            return QuestionLogRepo(tx.connection).find(query)

    def open_ticket_for(self, admin: UserRef, interaction_id: int) -> Ticket:
        """An admin sends a logged question to an expert for its asker (with the desk's answer
        as the draft); the asker's active ticket for it when there is one already."""
        person = require_admin(self._store, admin)
        with self._store.transaction() as tx:
            found = tx.interactions.get(interaction_id)
            if found.decision == "invalid" or found.kind is not InteractionKind.ASK:
                raise InvalidQuestion("not a question the desk took")
            if found.ticket_id is not None:
                ticket = tx.tickets.get(found.ticket_id)
                if ticket.status in ACTIVE:
                    return ticket
            asker = tx.people.get(found.user_key)
            if asker is None:
                raise NotPermitted(f"no asker {found.user_key}")
            ticket, _ = self._questions.open_ticket(
                tx, asker.user, found.question, found.answer_text, found.citations, interaction_id
            )
            tx.console.audit(
                with_name(admin, person),
                "escalate",
                f"ticket {ticket.ticket_id}",
                f"question {interaction_id}",
            )
        log.info(
            "ticket opened by admin ticket=%s interaction=%s", ticket.ticket_id, interaction_id
        )
        return ticket

    # --- statistics -------------------------------------------------------------------------
    def statistics(
        self,
        admin: UserRef,
        since: datetime,
        until: datetime,
        unit: PeriodUnit = PeriodUnit.DAY,
        zone: tzinfo = CHINA,
    ) -> Statistics:
        """Volume, auto-answer and escalation rates, expert first-response and resolution
        times for ``[since, until)``: in all, per period of ``unit``, per domain and channel
        (ValueError for an empty range or more than ``statistics.MAX_PERIODS`` periods)."""
        require_admin(self._store, admin)
        statistics.periods(since, until, unit, zone)  # refuses a bad range before reading
        with self._store.reading() as tx:
            rows = BreakdownRepo(tx.connection)
            asked, tickets = rows.asked(since, until), rows.tickets(since, until)
            figures = tx.stats.figures(since, until)
        found = statistics.breakdown(asked, tickets, since, until, unit, zone)
        return replace(found, figures=figures)

    def statistics_csv(
        self,
        admin: UserRef,
        since: datetime,
        until: datetime,
        unit: PeriodUnit = PeriodUnit.DAY,
        zone: tzinfo = CHINA,
    ) -> str:
        return statistics.csv_report(self.statistics(admin, since, until, unit, zone))

    # --- library ----------------------------------------------------------------------------
    def library(self, admin: UserRef) -> list[LibraryEntry]:
        """Every document, with its passages and the FAQ entries citing it."""
        require_admin(self._store, admin)
        documents = self._knowledge.documents()
        with self._store.reading() as tx:
            citing = {d.file_name: len(tx.faq.citing(d.file_name)) for d in documents}
        today = self._today()
        return [
            LibraryEntry(
                d,
                len(self._knowledge.chunks(d.doc_id)),
                citing[d.file_name],
                status_of(d, today).value,
                document_status.describe(d, today, documents),
            )
            for d in documents
        ]

    def document_status(
        self, admin: UserRef, doc_id: str
    ) -> tuple[SourceDocument, str, list[FaqRecord]]:
        """A document, its status today in words, and the FAQ entries citing it (for the
        page where an admin edits its dates and links; the change is ``Desk.set_document``)."""
        require_admin(self._store, admin)
        document = self._document(doc_id)
        label = document_status.describe(document, self._today(), self._knowledge.documents())
        with self._store.reading() as tx:
            return document, label, tx.faq.citing(document.file_name)

    def current_status(self, user: UserRef, citations: Sequence[Citation]) -> list[Citation]:
        """``citations`` (e.g. a ticket's clauses, kept as they were when it was opened) with
        their documents' status as of today."""
        require_staff(self._store, user)
        docs = {d.doc_id: d for d in self._knowledge.documents()}
        return document_status.label_citations(citations, docs, self._today())

    def preview_upload(
        self, admin: UserRef, path: Path, file_name: str, replacing: str | None = None
    ) -> DocumentPreview:
        """What uploading ``path`` (named ``file_name``; or as the new version of the document
        ``replacing``) will store, storing nothing; the ingest layer's ``IngestError`` for a
        file it refuses."""
        require_admin(self._store, admin)
        return self._library.preview(path, self._upload_name(file_name, replacing))

    def confirm_upload(
        self,
        admin: UserRef,
        path: Path,
        file_name: str,
        previewed_hash: str,
        replacing: str | None = None,
    ) -> IngestOutcome:
        """Store the file previewed (``PreviewOutdated`` if this is another file). Replacing a
        document by a file of another type stores the new one, then removes the old one."""
        person = require_admin(self._store, admin)
        old = self._document(replacing) if replacing else None
        name = self._upload_name(file_name, replacing)
        outcome = self._library.confirm(path, name, previewed_hash)
        if outcome.error is None and old is not None and old.file_name != name:
            self._library.remove_document(old.doc_id)
        if outcome.error is None and not outcome.unchanged:
            action = "replace" if (outcome.replaced or old) else "upload"
            detail = f"{outcome.chunks} chunks"
            with self._store.transaction() as tx:
                tx.console.audit(with_name(admin, person), action, name, detail)
        return outcome

    def removal(self, admin: UserRef, doc_id: str) -> tuple[SourceDocument, list[FaqRecord]]:
        """The document and the FAQ entries citing it, to show before it is removed."""
        require_admin(self._store, admin)
        document = self._document(doc_id)
        with self._store.reading() as tx:
            return document, tx.faq.citing(document.file_name)

    def remove_from_library(self, admin: UserRef, doc_id: str) -> SourceDocument:
        """Remove the document; the FAQ entries citing it are flagged for review."""
        person = require_admin(self._store, admin)
        removed = self._library.remove_document(doc_id)
        with self._store.transaction() as tx:
            tx.console.audit(with_name(admin, person), "remove", removed.file_name, doc_id)
        return removed

    # --- internals --------------------------------------------------------------------------
    def _today(self) -> date:
        return self._store.clock.now().astimezone(CHINA).date()

    def _document(self, doc_id: str) -> SourceDocument:
        found = self._knowledge.get(doc_id)
        if found is None:
            raise DocumentNotFound(f"no document {doc_id}", doc_id=doc_id)
        return found

    def _upload_name(self, file_name: str, replacing: str | None) -> str:
        """The name a file is stored under: a replacement of the same type takes the old
        document's name (one atomic replacement), else the file keeps its own."""
        name = Path(file_name).name
        if replacing is None:
            return name
        old = self._document(replacing)
        if Path(old.file_name).suffix.lower() == Path(name).suffix.lower():
            return old.file_name
        return name
