"""``Desk``: the application service every channel calls (implements ``desk.api.DeskApi``).

It joins the knowledge base (answers, FAQ entries, documents), ingestion and the escalation
store (tickets, people, interactions, the outbox). Channels hold no business rules: they turn
an update into one call here and render what comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import prompts
from core.answers import Answer, Decision, EscalationReason, FaqEntry, FaqRecord
from core.documents import SourceDocument
from core.errors import InvalidQuestion, NotPermitted, PersonNotFound, StoreUnavailable
from core.people import Channel, Domain, Person, Role, UserRef
from core.ports import Clock
from core.text import strip_invisible
from core.tickets import Ticket, TicketStatus
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
from escalation.interactions import InteractionKind
from escalation.store import EscalationStore, Transaction
from escalation.tickets import ACTIVE, TicketEvent

log = logging.getLogger(__name__)

STAFF = (Role.EXPERT, Role.ADMIN)


class Desk(ConsoleAccess, AdminConsole):
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

    # --- experts ----------------------------------------------------------------------------
    def role_of(self, user: UserRef) -> Role:
        with self._store.reading() as tx:
            return tx.people.role(user)

    def pending_tickets(self, expert: UserRef, domain: Domain | None = None) -> list[Ticket]:
        """Open tickets and those the expert holds; their own domains first, then oldest."""
        person = require_staff(self._store, expert)
        with self._store.reading() as tx:
            found = tx.tickets.find(statuses=ACTIVE, domain=domain)
        waiting = [t for t in found if t.status is TicketStatus.OPEN or t.claimed_by == expert.key]
        return sorted(waiting, key=lambda t: (not person.covers(t.domain), t.created_at))

    def tickets(
        self,
        user: UserRef,
        status: TicketStatus | None = None,
        domain: Domain | None = None,
        limit: int = 200,
    ) -> list[Ticket]:
        """Every ticket (experts and admins), oldest first."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            return tx.tickets.find(statuses=(status,) if status else (), domain=domain, limit=limit)

    def ticket(self, user: UserRef, ticket_id: int) -> Ticket:
        """One ticket: for its asker, experts, admins and the experts' shared destinations."""
        with self._store.reading() as tx:
            ticket = tx.tickets.get(ticket_id)
            if ticket.asker.key == user.key or self._may_see_all(tx, user):
                return ticket
        raise NotPermitted(f"{user.key} may not see ticket {ticket_id}")

    def ticket_events(self, user: UserRef, ticket_id: int) -> list[TicketEvent]:
        require_staff(self._store, user)
        with self._store.reading() as tx:
            tx.tickets.get(ticket_id)
            return tx.tickets.events(ticket_id)

    def claim(self, expert: UserRef, ticket_id: int) -> Ticket:
        """Take a ticket. Of experts claiming at once exactly one wins; the others get
        ``AlreadyClaimed`` naming the holder."""
        named = with_name(expert, require_staff(self._store, expert))
        with self._store.transaction() as tx:
            tx.people.touch(expert)
            ticket = tx.tickets.claim(ticket_id, named)
            self._announce.changed(tx, ticket, "claimed", ticket.claimed_by_name or "")
            tx.console.audit(named, "claim", f"ticket {ticket_id}")
        log.info("ticket claimed ticket=%s expert=%s", ticket_id, expert.key)
        return ticket

    def release(self, expert: UserRef, ticket_id: int) -> Ticket:
        person = require_staff(self._store, expert)
        with self._store.transaction() as tx:
            ticket = tx.tickets.release(ticket_id, expert, force=person.role is Role.ADMIN)
            self._announce.released(tx, ticket)
            tx.console.audit(with_name(expert, person), "release", f"ticket {ticket_id}")
        log.info("ticket released ticket=%s by=%s", ticket_id, expert.key)
        return ticket

    def reassign(self, actor: UserRef, ticket_id: int, to: UserRef) -> Ticket:
        """An admin, or the expert holding the ticket, hands it to another expert."""
        person = require_staff(self._store, actor)
        with self._store.transaction() as tx:
            target = tx.people.get(to.key)
            if target is None or not target.is_staff:
                raise PersonNotFound(f"{to.key} is not an expert or admin", person=to.key)
            current = tx.tickets.get(ticket_id)
            if person.role is not Role.ADMIN and current.claimed_by != actor.key:
                raise NotPermitted(f"{actor.key} does not hold ticket {ticket_id}")
            ticket = tx.tickets.reassign(ticket_id, actor, with_name(target.user, target))
            self._announce.assigned(tx, ticket, target.user)
            self._announce.changed(tx, ticket, "claimed", ticket.claimed_by_name or "")
            tx.console.audit(with_name(actor, person), "reassign", f"ticket {ticket_id}", to.key)
        log.info("ticket reassigned ticket=%s to=%s by=%s", ticket_id, to.key, actor.key)
        return ticket

    def answer_ticket(
        self, expert: UserRef, ticket_id: int, text: str, publish: bool = False
    ) -> Ticket:
        """Record the answer and, in the same transaction, queue it for the asker."""
        body = text.strip()
        if not body:
            raise InvalidQuestion("empty answer")
        person = require_staff(self._store, expert)
        named = with_name(expert, person)
        with self._store.transaction() as tx:
            tx.people.touch(expert)
            ticket = tx.tickets.answer(ticket_id, named, body, force=person.role is Role.ADMIN)
            delivered = Answer(
                ticket.question, Decision.ANSWER, body, ticket.passages, 1.0, from_expert=True
            )
            iid = tx.interactions.record(
                ticket.asker, delivered, kind=InteractionKind.EXPERT_ANSWER, ticket_id=ticket_id
            )
            name = named.display_name or named.key
            self._announce.expert_answer(tx, ticket, iid, name)
            self._announce.changed(tx, ticket, "answered", name)
            tx.console.audit(named, "answer", f"ticket {ticket_id}")
        log.info("ticket answered ticket=%s expert=%s", ticket_id, expert.key)
        if publish:
            self.publish(expert, ticket_id)
            return self.ticket(expert, ticket_id)
        return ticket

    def publish(self, expert: UserRef, ticket_id: int) -> FaqEntry:
        """Make the ticket's answer an expert FAQ entry of the library."""
        named = with_name(expert, require_staff(self._store, expert))
        entry = self._library.publish(named, ticket_id)
        with self._store.transaction() as tx:
            ticket = tx.tickets.get(ticket_id)
            self._announce.changed(tx, ticket, "published", named.display_name or named.key)
            tx.console.audit(named, "publish", f"ticket {ticket_id}", entry.faq_id)
        return entry

    def withdraw_faq(self, user: UserRef, faq_id: str) -> FaqRecord:
        """Take an expert FAQ entry out of the library (kept, marked withdrawn, in the store)."""
        require_staff(self._store, user)
        return self._library.withdraw(user, faq_id)

    def faq_entries(self, user: UserRef, flagged: bool | None = None) -> list[FaqRecord]:
        """Published entries (``flagged=True``: those to review after a document changed)."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            return tx.faq.find(flagged=flagged)

    def review_faq(self, user: UserRef, faq_id: str) -> FaqRecord:
        """An expert checked a flagged entry and keeps it."""
        require_staff(self._store, user)
        return self._library.clear_flag(faq_id)

    def set_domain(self, expert: UserRef, ticket_id: int, domain: Domain) -> Ticket:
        require_staff(self._store, expert)
        with self._store.transaction() as tx:
            ticket = tx.tickets.set_domain(ticket_id, expert, domain)
            self._announce.changed(tx, ticket, "domain_changed")
        return ticket

    def reannounce_due(self, now: datetime | None = None) -> int:
        """Announce again tickets nobody claimed in time; how many notifications were queued.

        The server calls this periodically; several workers may do so at once.
        """
        moment = now or self._clock.now()
        queued = 0
        with self._store.transaction() as tx:
            for ticket, level in tx.tickets.reannounce_due(moment - self._reannounce_after):
                waited = moment - ticket.created_at
                queued += self._announce.reannounce(tx, ticket, level, waited)
                log.info("ticket reannounced ticket=%s level=%s", ticket.ticket_id, level)
        return queued

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

    def _may_see_all(self, tx: Transaction, user: UserRef) -> bool:
        if any(d.key == user.key for d in self._announce.destinations):
            return True
        person = tx.people.get(user.key)
        return person is not None and person.is_staff
