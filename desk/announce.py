"""Who hears about a ticket, and what they read.

Each method writes notifications into the outbox of the caller's transaction, so they go out
exactly when the ticket change they describe is committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from core.people import Person, UserRef
from core.tickets import NotificationKind, Ticket
from desk import texts
from escalation.store import Transaction


def _ticket_data(ticket: Ticket) -> dict[str, str]:
    return {
        "ticket_id": str(ticket.ticket_id),
        "domain": ticket.domain.value,
        "question": ticket.question,
        "status": ticket.status.value,
    }


def _unique(users: Sequence[UserRef]) -> list[UserRef]:
    seen: set[str] = set()
    result: list[UserRef] = []
    for user in users:
        if user.key not in seen:
            seen.add(user.key)
            result.append(user)
    return result


class Announcer:
    """Fans ticket news out to experts and to the experts' shared destinations (e.g. the
    Telegram expert group, a WeCom robot)."""

    def __init__(self, destinations: Sequence[UserRef] = ()) -> None:
        self.destinations = tuple(destinations)

    def domain_experts(self, tx: Transaction, ticket: Ticket) -> list[Person]:
        """The experts of the ticket's domain, or every expert when the domain has none."""
        return tx.people.ticket_takers(ticket.domain) or tx.people.ticket_takers()

    def new_ticket(self, tx: Transaction, ticket: Ticket) -> int:
        people = [p.user for p in self.domain_experts(tx, ticket)]
        return self._send(tx, NotificationKind.NEW_TICKET, ticket, texts.new_ticket(ticket), people)

    def reopened(self, tx: Transaction, ticket: Ticket) -> int:
        people = [p.user for p in self.domain_experts(tx, ticket)]
        return self._send(tx, NotificationKind.REANNOUNCE, ticket, texts.reopened(ticket), people)

    def released(self, tx: Transaction, ticket: Ticket) -> int:
        people = [p.user for p in self.domain_experts(tx, ticket)]
        return self._send(tx, NotificationKind.REANNOUNCE, ticket, texts.released(ticket), people)

    def reannounce(self, tx: Transaction, ticket: Ticket, level: int, waited: timedelta) -> int:
        """Level 1: again to the domain's experts; level 2: to every expert. When the domain
        has no experts of its own, level 1 already reaches everyone and level 2 is skipped."""
        own = tx.people.ticket_takers(ticket.domain)
        if level <= 1:
            people = own or tx.people.ticket_takers()
            if not own:
                tx.tickets.skip_announce_level(ticket.ticket_id, 2)
        else:
            people = tx.people.ticket_takers()
        text = texts.reannounce(ticket, level if own else 2, waited)
        users = [p.user for p in people]
        return self._send(tx, NotificationKind.REANNOUNCE, ticket, text, users)

    def assigned(self, tx: Transaction, ticket: Ticket, expert: UserRef) -> int:
        text = texts.assigned(ticket)
        return self._send(tx, NotificationKind.NEW_TICKET, ticket, text, [expert], shared=False)

    def changed(self, tx: Transaction, ticket: Ticket, key: str, expert: str = "") -> int:
        """A state change the experts' shared destinations show on the ticket's card."""
        text = texts.card_update(ticket, key, expert)
        data = _ticket_data(ticket) | {"change": key, "expert": expert}
        for destination in self.destinations:
            tx.outbox.enqueue(
                NotificationKind.TICKET_CLAIMED,
                destination,
                text,
                ticket_id=ticket.ticket_id,
                data=data,
            )
        return len(self.destinations)

    def expert_answer(
        self, tx: Transaction, ticket: Ticket, interaction_id: int, expert_name: str
    ) -> int:
        """The answer, to the asker on their own channel."""
        return tx.outbox.enqueue(
            NotificationKind.EXPERT_ANSWER,
            ticket.asker,
            texts.expert_answer(ticket, expert_name),
            ticket_id=ticket.ticket_id,
            data={
                "ticket_id": str(ticket.ticket_id),
                "interaction_id": str(interaction_id),
                "expert": expert_name,
            },
        )

    def _send(
        self,
        tx: Transaction,
        kind: NotificationKind,
        ticket: Ticket,
        text: str,
        people: Sequence[UserRef],
        *,
        shared: bool = True,
    ) -> int:
        recipients = _unique([*people, *(self.destinations if shared else ())])
        for recipient in recipients:
            tx.outbox.enqueue(
                kind, recipient, text, ticket_id=ticket.ticket_id, data=_ticket_data(ticket)
            )
        return len(recipients)
