"""What the desk writes for a question: the interaction and, for an escalation, the asker's
ticket (their open one for the same question, or a new one announced to the experts) — inside
the caller's transaction, so a question is stored whole or not at all."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from core.answers import Answer, Citation, Decision
from core.people import UserRef
from core.tickets import Ticket
from desk.announce import Announcer
from escalation.domains import infer_domain
from escalation.store import Transaction

log = logging.getLogger(__name__)

Recorded = tuple[int, Ticket | None, bool]  # interaction id, the ticket (if any), repeated


class QuestionRecorder:
    def __init__(self, announce: Announcer) -> None:
        self._announce = announce

    def refused(self, tx: Transaction, user: UserRef, question: str, refused: Answer) -> int:
        """A question the desk would not take (empty, too long, not a question)."""
        tx.people.touch(user)
        return tx.interactions.record(user, refused, question=question, decision="invalid")

    def question(
        self,
        tx: Transaction,
        user: UserRef,
        question: str,
        answer: Answer,
        asked_at: datetime | None = None,
        typed: str | None = None,
    ) -> Recorded:
        """The question, what the desk decided and, for an escalation, the asker's ticket
        (``asked_at``: when it was asked, if not now; ``typed``: what the asker typed, for a
        follow-up completed from earlier turns)."""
        tx.people.touch(user)
        iid = tx.interactions.record(user, answer, question=question, at=asked_at, typed=typed)
        if answer.decision is not Decision.ESCALATE:  # answered, or asked back (clarify)
            return iid, None, False
        # an escalation's text is the notice to the asker, not a draft for the expert
        ticket, repeated = self.open_ticket(tx, user, question, "", answer.citations, iid)
        return iid, ticket, repeated

    def open_ticket(
        self,
        tx: Transaction,
        user: UserRef,
        question: str,
        draft: str,
        passages: Sequence[Citation],
        interaction_id: int,
    ) -> tuple[Ticket, bool]:
        """The asker's open ticket for this question, or a new one announced to experts."""
        tx.people.lock(user)  # the same question arriving twice at once: one ticket
        repeat = tx.tickets.find_repeat(user, question)
        if repeat is not None:
            tx.interactions.link_ticket(interaction_id, repeat.ticket_id)
            return repeat, True
        ticket = tx.tickets.open(
            user,
            question,
            infer_domain(question, passages),
            draft_answer=draft,
            passages=passages,
            interaction_id=interaction_id,
        )
        tx.interactions.link_ticket(interaction_id, ticket.ticket_id)
        queued = self._announce.new_ticket(tx, ticket)
        log.info(
            "ticket opened ticket=%s domain=%s notified=%s",
            ticket.ticket_id,
            ticket.domain.value,
            queued,
        )
        return ticket, False
