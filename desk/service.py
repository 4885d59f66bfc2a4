"""``Desk``: the application service every channel calls (implements ``desk.api.DeskApi``).

It joins the knowledge base (answers, FAQ entries, documents), ingestion and the escalation
store (tickets, people, interactions, the outbox). Channels hold no business rules: they turn
an update into one call here and render what comes back. The askers' calls are here; the
experts' ticket work is ``desk.ticket_work``, the console's ``desk.console_access`` and
``desk.admin``, all mixed into ``Desk``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import prompts
from core.answers import Answer, Decision, EscalationReason
from core.documents import SourceDocument
from core.errors import InvalidQuestion, StoreUnavailable
from core.people import Channel, Domain, Person, Role, UserRef
from core.ports import Clock
from core.text import strip_invisible
from core.tickets import Ticket
from desk import roles, texts
from desk.admin import AdminConsole
from desk.announce import Announcer
from desk.api import FeedbackResult, IngestOutcome, Reply, Stats
from desk.console_access import ConsoleAccess, ConsoleLinks
from desk.conversation import FOLLOW_UP_WITHIN, Conversations, understood
from desk.deferred import DeferredQuestions
from desk.library_admin import LibraryAdmin
from desk.ports import Ingestor, Knowledge
from desk.questions import QuestionRecorder
from desk.roles import require_admin, require_staff, with_name
from desk.spool import QuestionSpool
from desk.ticket_work import TicketWork
from escalation.interactions import InteractionKind
from escalation.store import EscalationStore, Transaction
from escalation.tickets import ACTIVE

log = logging.getLogger(__name__)

STAFF = (Role.EXPERT, Role.ADMIN)


class Desk(ConsoleAccess, AdminConsole, TicketWork):
    """The quality-expert Q&A desk.

    ``knowledge`` answers and keeps FAQ entries and documents; ``store`` is the escalation
    store; ``ingest`` adds files to the library. ``expert_destinations`` are shared places that
    hear about every ticket (the Telegram expert group, a WeCom robot). Unclaimed tickets are
    announced again after ``reannounce_after`` (see :meth:`reannounce_due`). Questions the
    store cannot take go to ``spool`` (see :mod:`desk.deferred` and :meth:`drain_spool`).
    ``composer`` (the optional LLM composer) rewrites library answers to askers on the
    ``compose_for`` channels, those whose reply may wait for it (not WeChat's passive reply).
    """

    def __init__(
        self,
        knowledge: Knowledge,
        store: EscalationStore,
        ingest: Ingestor | None = None,
        *,
        expert_destinations: Sequence[UserRef] = (),
        clock: Clock | None = None,
        max_question_chars: int = 1000,
        reannounce_after: timedelta = timedelta(minutes=30),
        spool: QuestionSpool | None = None,
        composer: Callable[[Answer], Answer] | None = None,
        compose_for: Collection[Channel] = (),
        console_links: ConsoleLinks | None = None,
        follow_up_within: timedelta = FOLLOW_UP_WITHIN,
    ) -> None:
        self._knowledge = knowledge
        self._store = store
        self._clock = clock or store.clock
        self._max_chars = max_question_chars
        self._reannounce_after = reannounce_after
        self._composer = composer
        self._compose_for = frozenset(compose_for)
        self._console_links = console_links  # the web console's login links (None: off)
        self._announce = Announcer(expert_destinations)
        self._library = LibraryAdmin(knowledge, store, ingest, self._clock)
        self._questions = QuestionRecorder(self._announce)
        self._deferred = DeferredQuestions(spool, store, self._clock, self._questions)
        self._conversations = Conversations(store, follow_up_within)

    @property
    def store(self) -> EscalationStore:
        return self._store

    # --- askers -----------------------------------------------------------------------------
    def ask(self, user: UserRef, text: str) -> Reply:
        """Answer from the library, or open (or find) a ticket for an expert. When the store
        stays unavailable the question is kept on disk and the asker told so."""
        question = " ".join(strip_invisible(text).split())
        turn = self._conversations.complete(user, question)  # a follow-up, completed
        question = turn.question  # what is searched, decided, shown and ticketed
        problem = self._problem(question)
        if problem is None:
            try:
                answer = self._conversations.answer(turn, self._knowledge.answer)
            except InvalidQuestion:
                problem = prompts.error_text(InvalidQuestion.code)
            else:
                if answer.reason is EscalationReason.INVALID:  # not a question: no ticket
                    problem = answer.text or prompts.error_text(InvalidQuestion.code)
                elif self._composer is not None and user.channel in self._compose_for:
                    answer = self._composer(answer)  # composed, extractive or escalated
        if problem is not None:
            refused = Answer(question, Decision.ESCALATE, problem, reason=EscalationReason.INVALID)
            try:
                iid = self._store.run(
                    lambda tx: self._questions.refused(tx, user, question, refused), what="refused"
                )
            except StoreUnavailable:  # nothing to keep: the asker has all there is to say
                iid = 0
            log.info("question refused interaction=%s", iid)
            return Reply(iid, problem, refused, offer_feedback=False)
        typed = turn.turn if turn.completed else None
        try:
            iid, ticket, repeated = self._store.run(
                lambda tx: self._questions.question(tx, user, question, answer, typed=typed),
                what="question",
            )
        except StoreUnavailable:
            return self._deferred.keep(user, question, answer, typed)
        self._conversations.remember(user, turn, answer)
        log.info(
            "question handled interaction=%s decision=%s confidence=%.2f ticket=%s",
            iid,
            answer.decision.value,
            answer.confidence,
            ticket.ticket_id if ticket else None,
        )
        if ticket is None:  # answered, or asked back which of a few things was meant
            text, choices = understood(turn) + answer.text, answer.choices
            return Reply(iid, text, answer, offer_feedback=not choices, choices=choices)
        reply = understood(turn) + texts.escalated_reply(ticket, answer, repeated)
        return Reply(iid, reply, answer, ticket, offer_feedback=False)

    def awaiting_choice(self, user: UserRef) -> bool:
        """Whether the asker was just asked which of a few things they meant (a number they
        send then picks one)."""
        return self._conversations.awaiting_choice(user)

    def drain_spool(self, limit: int = 100) -> int:
        """Store the questions kept on disk during an outage (the server runs this
        periodically; several workers may); how many were stored."""
        return self._deferred.drain(limit)

    def spooled(self) -> int:
        """How many questions wait on disk for the store."""
        return self._deferred.waiting()

    def feedback(self, user: UserRef, interaction_id: int, helpful: bool) -> FeedbackResult:
        """有用 / 没解决 on a desk answer (or on an expert's answer, which closes or reopens the
        ticket)."""
        with self._store.transaction() as tx:
            found = tx.interactions.set_feedback(user, interaction_id, helpful)
            if found.kind is InteractionKind.EXPERT_ANSWER and found.ticket_id is not None:
                return self._expert_feedback(tx, user, found.ticket_id, helpful)
            ticket = tx.tickets.get(found.ticket_id) if found.ticket_id is not None else None
        log.info("feedback interaction=%s helpful=%s", interaction_id, helpful)
        if helpful:
            return FeedbackResult(prompts.text("desk.feedback.thanks"))
        if ticket is not None:
            text = prompts.text("desk.feedback.escalated_already", ticket_id=ticket.ticket_id)
            return FeedbackResult(text, ticket)
        return FeedbackResult(prompts.text("desk.feedback.not_solved"))

    def not_solved(self, user: UserRef, interaction_id: int) -> FeedbackResult:
        """没解决 (a button, or 回复 2) on an answer, the same on every channel: counted as not
        helpful, and the question goes to an expert — its ticket if it has one, the expert's
        ticket reopened after an expert answer, else a new one with the desk's answer as draft."""
        result = self.feedback(user, interaction_id, helpful=False)
        if result.ticket is not None:  # already with an expert, or reopened
            return result
        ticket = self.escalate(user, interaction_id)
        text = prompts.text("desk.feedback.sent_to_expert", ticket_id=ticket.ticket_id)
        return FeedbackResult(text, ticket)

    def escalate(self, user: UserRef, interaction_id: int) -> Ticket:
        """Send a question the desk answered to an expert, with the desk's answer as the draft."""
        with self._store.transaction() as tx:
            found = tx.interactions.own(user, interaction_id)
            if found.kind is InteractionKind.EXPERT_ANSWER and found.ticket_id is not None:
                return self._reopen(tx, user, found.ticket_id)
            if found.decision == "invalid":
                raise InvalidQuestion("cannot escalate a refused question")
            if found.ticket_id is not None:
                ticket = tx.tickets.get(found.ticket_id)
                if ticket.status in ACTIVE:
                    return ticket
            tx.people.touch(user)
            ticket, _ = self._questions.open_ticket(
                tx, user, found.question, found.answer_text, found.citations, interaction_id
            )
            return ticket

    def my_tickets(self, user: UserRef) -> list[Ticket]:
        """The asker's tickets, newest first."""
        with self._store.reading() as tx:
            return list(reversed(tx.tickets.find(asker=user)))

    def cancel(self, user: UserRef, ticket_id: int) -> Ticket:
        with self._store.transaction() as tx:
            ticket = tx.tickets.cancel(ticket_id, user)
            self._announce.changed(tx, ticket, "cancelled")
        return ticket

    def reopen(self, user: UserRef, ticket_id: int) -> Ticket:
        with self._store.transaction() as tx:
            return self._reopen(tx, user, ticket_id)

    # --- admins -----------------------------------------------------------------------------
    def add_document(
        self, admin: UserRef, path: Path, file_name: str | None = None
    ) -> IngestOutcome:
        require_admin(self._store, admin)
        return self._library.add_document(path, file_name)

    def remove_document(self, admin: UserRef, doc_id: str) -> SourceDocument:
        require_admin(self._store, admin)
        return self._library.remove_document(doc_id)

    def set_document(
        self, admin: UserRef, doc_id: str, values: dict[str, str | list[str] | None]
    ) -> tuple[SourceDocument, list[str]]:
        """Set a document's dates, links and source (see ``desk.document_fields``): the
        document as changed, and the FAQ entries flagged for review as its status changed.
        A change is recorded in the audit log (``status``, the fields changed)."""
        from desk.document_fields import DocumentEditor

        person = require_admin(self._store, admin)
        before = self._knowledge.get(doc_id)
        editor = DocumentEditor(self._knowledge, self._library.flag)
        doc, flagged = editor.set_fields(doc_id, values)
        if before is not None and doc != before:
            moved = [n for n in values if getattr(before, n, None) != getattr(doc, n, None)]
            fields = ",".join(sorted(moved))
            detail = f"{fields}; {len(flagged)} faq flagged" if flagged else fields
            with self._store.transaction() as tx:
                tx.console.audit(with_name(admin, person), "status", doc.file_name, detail)
        return doc, flagged

    def document_changed(self, file_name: str, removed: bool = False) -> list[str]:
        """A document was replaced (or removed) outside :meth:`add_document`, e.g. by a batch
        ingest: flag the FAQ entries relying on it for review; their ids."""
        return self._library.flag(file_name, "removed" if removed else "replaced")

    def documents(self, viewer: UserRef) -> list[SourceDocument]:
        """The library's documents; experts and admins only (NotPermitted else)."""
        require_staff(self._store, viewer)
        return self._knowledge.documents()

    def stats(
        self, viewer: UserRef, since: datetime | None = None, until: datetime | None = None
    ) -> Stats:
        """The service figures for a period; experts and admins only (NotPermitted else)."""
        require_staff(self._store, viewer)
        with self._store.reading() as tx:
            return tx.stats.figures(since, until)

    def add_expert(
        self,
        admin: UserRef,
        user: UserRef,
        domains: Sequence[Domain] = (),
        role: Role = Role.EXPERT,
    ) -> Person:
        """Give ``user`` a staff role (expert by default) with their domains."""
        return roles.grant(self._store, admin, user, domains, role)

    def remove_expert(self, admin: UserRef, user: UserRef) -> Person:
        return roles.revoke(self._store, admin, user)

    def experts(self, user: UserRef) -> list[Person]:
        """Experts and admins, with their domains."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            return tx.people.staff()

    # --- internals --------------------------------------------------------------------------
    def _problem(self, question: str) -> str | None:
        """Why a question is refused before the library is asked, or None."""
        if not question:
            return prompts.text("desk.ask.empty")
        if len(question) > self._max_chars:
            return texts.too_long(len(question), self._max_chars)
        return None

    def _reopen(self, tx: Transaction, user: UserRef, ticket_id: int) -> Ticket:
        ticket = tx.tickets.reopen(ticket_id, user)
        tx.interactions.unhelpful_expert_answer(ticket_id)
        self._announce.reopened(tx, ticket)
        log.info("ticket reopened ticket=%s", ticket_id)
        return ticket

    def _expert_feedback(
        self, tx: Transaction, user: UserRef, ticket_id: int, helpful: bool
    ) -> FeedbackResult:
        if helpful:
            tx.tickets.close(ticket_id, user)
            return FeedbackResult(prompts.text("desk.feedback.expert_thanks", ticket_id=ticket_id))
        ticket = self._reopen(tx, user, ticket_id)
        text = prompts.text("desk.feedback.expert_reopened", ticket_id=ticket_id)
        return FeedbackResult(text, ticket)
