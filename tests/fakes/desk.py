"""An in-memory desk for channel unit tests: scripted answers, real ticket rules kept simple.

It implements ``desk.api.DeskApi`` so channel adapters can be exercised without the knowledge
base or a database. End-to-end tests use the real ``desk.service.Desk``.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from core.answers import Answer, Citation, Decision, EscalationReason, FaqEntry
from core.documents import DocumentKind, SourceDocument
from core.errors import AlreadyClaimed, InvalidQuestion, NotPermitted, TicketNotFound
from core.people import Domain, Role, UserRef
from core.tickets import Ticket, TicketStatus
from desk.api import FeedbackResult, IngestOutcome, Reply, Stats
from tests.fakes.memory import FakeMemory


class FakeDesk:
    """Answers a question containing a known keyword, escalates anything else.

    ``answers`` maps a keyword to the answer text; ``roles`` maps ``UserRef.key`` to a Role.
    ``delay`` (a threading.Event) lets a test hold ``ask`` until it is set, to prove that one
    slow answer does not block other users.
    """

    def __init__(
        self,
        answers: dict[str, str] | None = None,
        roles: dict[str, Role] | None = None,
    ) -> None:
        self.answers = answers or {"3C": "列入目录的产品须经强制性产品认证。"}
        self.roles = roles or {}
        self.gate: dict[str, threading.Event] = {}  # question -> event to wait for
        self.asked: list[tuple[UserRef, str]] = []
        self.feedbacks: list[tuple[UserRef, int, bool]] = []
        self.tickets: dict[int, Ticket] = {}
        self.documents_added: list[tuple[str, bytes]] = []
        self._docs: dict[str, SourceDocument] = {}
        self._interactions: dict[int, tuple[UserRef, str, Answer]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.memory = FakeMemory()  # what the channels under test keep (not the desk's)

    # --- askers -----------------------------------------------------------------------------
    def awaiting_choice(self, user: UserRef) -> bool:
        return False

    def ask(self, user: UserRef, text: str) -> Reply:
        gate = self.gate.get(text)
        if gate is not None:
            gate.wait(timeout=30)
        question = text.strip()
        if not question:
            raise InvalidQuestion("empty question")
        with self._lock:
            self.asked.append((user, question))
            iid = next(self._ids)
        for keyword, body in self.answers.items():
            if keyword in question:
                cite = Citation(
                    document="L04_认证认可条例_2023.md",
                    title="中华人民共和国认证认可条例（2023年修订）",
                    chunk_id="x:0001",
                    text=body,
                    score=0.9,
                    article="第二十八条",
                )
                answer = Answer(question, Decision.ANSWER, body, (cite,), 0.9)
                self._interactions[iid] = (user, question, answer)
                return Reply(iid, f"{body}\n\n来源：《{cite.title}》{cite.article}", answer)
        answer = Answer(question, Decision.ESCALATE, "", (), 0.1, EscalationReason.NO_MATCH)
        self._interactions[iid] = (user, question, answer)
        ticket = self._open(user, question)
        return Reply(iid, f"已转交专家，工单号 #{ticket.ticket_id}。", answer, ticket)

    def _open(self, user: UserRef, question: str) -> Ticket:
        with self._lock:
            for t in self.tickets.values():
                if t.asker == user and t.question == question and t.status == TicketStatus.OPEN:
                    return t
            tid = next(self._ids)
            ticket = Ticket(tid, question, user, TicketStatus.OPEN, Domain.OTHER, datetime.now(UTC))
            self.tickets[tid] = ticket
            return ticket

    def feedback(self, user: UserRef, interaction_id: int, helpful: bool) -> FeedbackResult:
        self.feedbacks.append((user, interaction_id, helpful))
        return FeedbackResult("感谢反馈！" if helpful else "抱歉没能解决，可转人工专家。")

    def not_solved(self, user: UserRef, interaction_id: int) -> FeedbackResult:
        self.feedback(user, interaction_id, False)
        ticket = self.escalate(user, interaction_id)
        return FeedbackResult(self.not_solved_text(ticket), ticket)

    @staticmethod
    def not_solved_text(ticket: Ticket) -> str:
        return f"已转交人工专家，工单号 #{ticket.ticket_id}。专家答复后会在这里通知您。"

    def escalate(self, user: UserRef, interaction_id: int) -> Ticket:
        asker, question, _ = self._interactions[interaction_id]
        if asker != user:
            raise NotPermitted("not your question")
        return self._open(user, question)

    def my_tickets(self, user: UserRef) -> list[Ticket]:
        return [t for t in self.tickets.values() if t.asker == user]

    def cancel(self, user: UserRef, ticket_id: int) -> Ticket:
        ticket = self._get(ticket_id)
        if ticket.asker != user:
            raise NotPermitted("not your ticket")
        return self._set(replace(ticket, status=TicketStatus.CANCELLED))

    def reopen(self, user: UserRef, ticket_id: int) -> Ticket:
        ticket = self._get(ticket_id)
        return self._set(replace(ticket, status=TicketStatus.OPEN, claimed_by=None))

    # --- experts ----------------------------------------------------------------------------
    def role_of(self, user: UserRef) -> Role:
        return self.roles.get(user.key, Role.ASKER)

    def _require(self, user: UserRef, *roles: Role) -> None:
        if self.role_of(user) not in roles:
            raise NotPermitted(f"{user.key} lacks role")

    def pending_tickets(self, expert: UserRef, domain: Domain | None = None) -> list[Ticket]:
        self._require(expert, Role.EXPERT, Role.ADMIN)
        return sorted(
            (t for t in self.tickets.values() if t.status == TicketStatus.OPEN),
            key=lambda t: t.created_at,
        )

    def ticket(self, user: UserRef, ticket_id: int) -> Ticket:
        ticket = self._get(ticket_id)
        if ticket.asker != user and self.role_of(user) == Role.ASKER:
            raise NotPermitted("not your ticket")
        return ticket

    def claim(self, expert: UserRef, ticket_id: int) -> Ticket:
        self._require(expert, Role.EXPERT, Role.ADMIN)
        with self._lock:
            ticket = self._get(ticket_id)
            if ticket.claimed_by and ticket.claimed_by != expert.key:
                raise AlreadyClaimed("claimed", holder=ticket.claimed_by_name or ticket.claimed_by)
            return self._set(
                replace(
                    ticket,
                    status=TicketStatus.CLAIMED,
                    claimed_by=expert.key,
                    claimed_by_name=expert.display_name,
                )
            )

    def release(self, expert: UserRef, ticket_id: int) -> Ticket:
        ticket = self._get(ticket_id)
        return self._set(replace(ticket, status=TicketStatus.OPEN, claimed_by=None))

    def answer_ticket(
        self, expert: UserRef, ticket_id: int, text: str, publish: bool = False
    ) -> Ticket:
        self._require(expert, Role.EXPERT, Role.ADMIN)
        ticket = self._get(ticket_id)
        if ticket.claimed_by not in (None, expert.key):
            raise AlreadyClaimed("claimed", holder=ticket.claimed_by)
        return self._set(
            replace(ticket, status=TicketStatus.ANSWERED, answer=text, answered_by=expert.key)
        )

    def publish(self, expert: UserRef, ticket_id: int) -> FaqEntry:
        ticket = self._get(ticket_id)
        self._set(replace(ticket, published_faq_id=f"faq-{ticket_id}"))
        return FaqEntry(f"faq-{ticket_id}", ticket.question, ticket.answer or "")

    # --- admins -----------------------------------------------------------------------------
    def add_document(
        self, admin: UserRef, path: Path, file_name: str | None = None
    ) -> IngestOutcome:
        self._require(admin, Role.ADMIN)
        name = file_name or path.name
        data = path.read_bytes()
        self.documents_added.append((name, data))
        doc = SourceDocument(f"d{len(self._docs) + 1}", name, name, DocumentKind.OTHER, "h")
        self._docs[doc.doc_id] = doc
        return IngestOutcome(name, doc, sections=1, chunks=1)

    def remove_document(self, admin: UserRef, doc_id: str) -> SourceDocument:
        self._require(admin, Role.ADMIN)
        return self._docs.pop(doc_id)

    def documents(self, viewer: UserRef) -> list[SourceDocument]:
        self._require(viewer, Role.EXPERT, Role.ADMIN)
        return list(self._docs.values())

    def stats(
        self, viewer: UserRef, since: datetime | None = None, until: datetime | None = None
    ) -> Stats:
        self._require(viewer, Role.EXPERT, Role.ADMIN)
        return Stats(
            since, until, 1, len(self.asked), 0, len(self.tickets), 0, None, None, None, None, 0, 0
        )

    # --- helpers ----------------------------------------------------------------------------
    def _get(self, ticket_id: int) -> Ticket:
        try:
            return self.tickets[ticket_id]
        except KeyError:
            raise TicketNotFound(f"ticket {ticket_id}") from None

    def _set(self, ticket: Ticket) -> Ticket:
        self.tickets[ticket.ticket_id] = ticket
        return ticket
