"""Tickets and their life cycle: open → claimed → answered → closed (or cancelled).

Every change is a conditional UPDATE (``… WHERE id = :id AND status = …``), so it is atomic on
SQLite and PostgreSQL alike: when two experts claim at once exactly one row is updated, and the
other reads who holds the ticket. Each change also writes a ``ticket_events`` row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, update

from core.answers import Citation
from core.errors import AlreadyClaimed, InvalidTransition, NotPermitted, TicketNotFound
from core.people import Domain, UserRef
from core.ports import Clock
from core.tickets import Ticket, TicketStatus
from escalation.records import citations_from_json, citations_to_json, user_from_row
from escalation.schema import ticket_events, tickets
from escalation.similarity import same_question

ACTIVE = (TicketStatus.OPEN, TicketStatus.CLAIMED)
LAST_ANNOUNCE_LEVEL = 2  # 0: first announcement, 1: again to the domain, 2: to all experts


@dataclass(frozen=True, slots=True)
class TicketEvent:
    ticket_id: int
    at: datetime
    action: str
    actor: str | None = None
    detail: str = ""


def ticket_from_row(row: Any) -> Ticket:
    """A ticket from a row of ``tickets`` joined with its asker (columns ``asker_*``); a query
    that selects only some columns (the console's queue) leaves the others at their defaults."""
    data = row._mapping
    optional = {
        name: data[name]
        for name in (
            "draft_answer",
            "claimed_by",
            "claimed_by_name",
            "answer",
            "answered_by",
            "published_faq_id",
            "claimed_at",
            "answered_at",
            "closed_at",
            "updated_at",
            "reopen_count",
        )
        if name in data
    }
    if "passages" in data:
        optional["passages"] = citations_from_json(data["passages"])
    return Ticket(
        ticket_id=data["id"],
        question=data["question"],
        asker=user_from_row(data, "asker_"),
        status=TicketStatus(data["status"]),
        domain=Domain(data["domain"]),
        created_at=data["created_at"],
        **optional,
    )


def _name(user: UserRef) -> str:
    return user.display_name or user.key


class TicketRepo:
    """Ticket rows, inside one transaction."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    # --- reading ----------------------------------------------------------------------------
    def get(self, ticket_id: int) -> Ticket:
        row = self._conn.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
        if row is None:
            raise TicketNotFound(f"ticket {ticket_id}", ticket_id=ticket_id)
        return ticket_from_row(row)

    def find(
        self,
        *,
        statuses: Sequence[TicketStatus] = (),
        domain: Domain | None = None,
        asker: UserRef | None = None,
        claimed_by: UserRef | None = None,
        limit: int = 200,
    ) -> list[Ticket]:
        """Tickets matching every given filter, oldest first."""
        query = select(tickets).order_by(tickets.c.created_at, tickets.c.id).limit(limit)
        if statuses:
            query = query.where(tickets.c.status.in_([s.value for s in statuses]))
        if domain is not None:
            query = query.where(tickets.c.domain == domain.value)
        if asker is not None:
            query = query.where(tickets.c.asker_key == asker.key)
        if claimed_by is not None:
            query = query.where(tickets.c.claimed_by == claimed_by.key)
        return [ticket_from_row(row) for row in self._conn.execute(query)]

    def find_repeat(self, asker: UserRef, question: str) -> Ticket | None:
        """The asker's open or claimed ticket asking the same thing, if any."""
        for ticket in self.find(statuses=ACTIVE, asker=asker):
            if same_question(ticket.question, question):
                return ticket
        return None

    def events(self, ticket_id: int) -> list[TicketEvent]:
        rows = self._conn.execute(
            select(ticket_events)
            .where(ticket_events.c.ticket_id == ticket_id)
            .order_by(ticket_events.c.id)
        )
        return [TicketEvent(r.ticket_id, r.at, r.action, r.actor, r.detail) for r in rows]

    # --- changes ----------------------------------------------------------------------------
    def open(
        self,
        asker: UserRef,
        question: str,
        domain: Domain,
        *,
        draft_answer: str = "",
        passages: Sequence[Citation] = (),
        interaction_id: int | None = None,
    ) -> Ticket:
        """A new open ticket (the asker must exist in ``people``)."""
        now = self._clock.now()
        ticket_id = self._conn.execute(
            insert(tickets)
            .values(
                asker_key=asker.key,
                asker_channel=asker.channel.value,
                asker_user_id=asker.user_id,
                asker_chat_id=asker.chat_id,
                asker_name=asker.display_name,
                question=question,
                status=TicketStatus.OPEN.value,
                domain=domain.value,
                draft_answer=draft_answer,
                passages=citations_to_json(passages),
                interaction_id=interaction_id,
                created_at=now,
                updated_at=now,
                last_announced_at=now,
            )
            .returning(tickets.c.id)
        ).scalar_one()
        self._event(ticket_id, asker, "opened", domain.value)
        return self.get(ticket_id)

    def claim(self, ticket_id: int, expert: UserRef) -> Ticket:
        """``expert`` takes the open ticket; AlreadyClaimed (with the holder) if someone has it.

        Claiming a ticket one already holds changes nothing.
        """
        now = self._clock.now()
        won = self._change(
            ticket_id,
            tickets.c.status == TicketStatus.OPEN.value,
            status=TicketStatus.CLAIMED.value,
            claimed_by=expert.key,
            claimed_by_name=_name(expert),
            claimed_at=now,
            first_claimed_at=func.coalesce(tickets.c.first_claimed_at, now),
        )
        ticket = self.get(ticket_id)
        if won:
            self._event(ticket_id, expert, "claimed")
            return ticket
        if ticket.status == TicketStatus.CLAIMED:
            if ticket.claimed_by == expert.key:
                return ticket
            raise AlreadyClaimed(
                f"ticket {ticket_id} held by {ticket.claimed_by}",
                holder=ticket.claimed_by_name or ticket.claimed_by,
                ticket_id=ticket_id,
            )
        raise InvalidTransition(f"cannot claim a {ticket.status} ticket", ticket_id=ticket_id)

    def release(self, ticket_id: int, actor: UserRef, *, force: bool = False) -> Ticket:
        """The holder (or, with ``force``, an admin) gives the ticket back to the queue."""
        condition = tickets.c.status == TicketStatus.CLAIMED.value
        if not force:
            condition = and_(condition, tickets.c.claimed_by == actor.key)
        now = self._clock.now()
        if not self._change(
            ticket_id,
            condition,
            status=TicketStatus.OPEN.value,
            claimed_by=None,
            claimed_by_name=None,
            claimed_at=None,
            announce_level=0,
            last_announced_at=now,
        ):
            ticket = self.get(ticket_id)
            if ticket.status == TicketStatus.CLAIMED:
                raise NotPermitted(f"ticket {ticket_id} is held by {ticket.claimed_by}")
            raise InvalidTransition(f"cannot release a {ticket.status} ticket")
        self._event(ticket_id, actor, "released")
        return self.get(ticket_id)

    def reassign(self, ticket_id: int, actor: UserRef, to: UserRef) -> Ticket:
        """Hand an open or claimed ticket to the expert ``to`` (who then holds it)."""
        now = self._clock.now()
        if not self._change(
            ticket_id,
            tickets.c.status.in_([s.value for s in ACTIVE]),
            status=TicketStatus.CLAIMED.value,
            claimed_by=to.key,
            claimed_by_name=_name(to),
            claimed_at=now,
            first_claimed_at=func.coalesce(tickets.c.first_claimed_at, now),
        ):
            raise InvalidTransition(f"cannot reassign a {self.get(ticket_id).status} ticket")
        self._event(ticket_id, actor, "reassigned", to.key)
        return self.get(ticket_id)

    def answer(self, ticket_id: int, expert: UserRef, text: str, *, force: bool = False) -> Ticket:
        """Record the expert's answer. The expert must hold the ticket, or it must be open (it
        is then claimed by them at the same moment); ``force`` lets an admin answer a ticket
        someone else holds."""
        held_by_expert = and_(
            tickets.c.status == TicketStatus.CLAIMED.value, tickets.c.claimed_by == expert.key
        )
        condition: ColumnElement[bool] = or_(
            tickets.c.status == TicketStatus.OPEN.value, held_by_expert
        )
        if force:
            condition = tickets.c.status.in_([s.value for s in ACTIVE])
        now = self._clock.now()
        if not self._change(
            ticket_id,
            condition,
            status=TicketStatus.ANSWERED.value,
            claimed_by=expert.key,
            claimed_by_name=_name(expert),
            claimed_at=func.coalesce(tickets.c.claimed_at, now),
            first_claimed_at=func.coalesce(tickets.c.first_claimed_at, now),
            answer=text,
            answered_by=expert.key,
            answered_by_name=_name(expert),
            answered_at=now,
            first_answered_at=func.coalesce(tickets.c.first_answered_at, now),
        ):
            ticket = self.get(ticket_id)
            if ticket.status == TicketStatus.CLAIMED:
                raise AlreadyClaimed(
                    f"ticket {ticket_id} held by {ticket.claimed_by}",
                    holder=ticket.claimed_by_name or ticket.claimed_by,
                    ticket_id=ticket_id,
                )
            raise InvalidTransition(f"cannot answer a {ticket.status} ticket")
        self._event(ticket_id, expert, "answered")
        return self.get(ticket_id)

    def close(self, ticket_id: int, actor: UserRef) -> Ticket:
        """An answered ticket is done (the asker found the answer useful)."""
        if not self._change(
            ticket_id,
            tickets.c.status == TicketStatus.ANSWERED.value,
            status=TicketStatus.CLOSED.value,
            closed_at=self._clock.now(),
        ):
            ticket = self.get(ticket_id)
            if ticket.status == TicketStatus.CLOSED:
                return ticket
            raise InvalidTransition(f"cannot close a {ticket.status} ticket")
        self._event(ticket_id, actor, "closed")
        return self.get(ticket_id)

    def cancel(self, ticket_id: int, asker: UserRef) -> Ticket:
        """The asker withdraws a question no expert has answered yet."""
        self._require_asker(ticket_id, asker)
        if not self._change(
            ticket_id,
            tickets.c.status.in_([s.value for s in ACTIVE]),
            status=TicketStatus.CANCELLED.value,
            closed_at=self._clock.now(),
        ):
            raise InvalidTransition(f"cannot cancel a {self.get(ticket_id).status} ticket")
        self._event(ticket_id, asker, "cancelled")
        return self.get(ticket_id)

    def reopen(self, ticket_id: int, asker: UserRef) -> Ticket:
        """The asker says the answer did not solve it (没解决): back to the queue, answer kept."""
        self._require_asker(ticket_id, asker)
        now = self._clock.now()
        if not self._change(
            ticket_id,
            tickets.c.status.in_([TicketStatus.ANSWERED.value, TicketStatus.CLOSED.value]),
            status=TicketStatus.OPEN.value,
            claimed_by=None,
            claimed_by_name=None,
            claimed_at=None,
            answered_at=None,
            closed_at=None,
            reopen_count=tickets.c.reopen_count + 1,
            announce_level=0,
            last_announced_at=now,
        ):
            raise InvalidTransition(f"cannot reopen a {self.get(ticket_id).status} ticket")
        self._event(ticket_id, asker, "reopened")
        return self.get(ticket_id)

    def set_domain(self, ticket_id: int, actor: UserRef, domain: Domain) -> Ticket:
        if not self._change(ticket_id, tickets.c.id == ticket_id, domain=domain.value):
            raise TicketNotFound(f"ticket {ticket_id}", ticket_id=ticket_id)
        self._event(ticket_id, actor, "domain", domain.value)
        return self.get(ticket_id)

    def set_published(self, ticket_id: int, actor: UserRef, faq_id: str | None) -> Ticket:
        if not self._change(ticket_id, tickets.c.id == ticket_id, published_faq_id=faq_id):
            raise TicketNotFound(f"ticket {ticket_id}", ticket_id=ticket_id)
        self._event(ticket_id, actor, "published" if faq_id else "unpublished", faq_id or "")
        return self.get(ticket_id)

    def reannounce_due(self, older_than: datetime) -> list[tuple[Ticket, int]]:
        """Open tickets last announced before ``older_than``, each moved one announcement level
        up (1: again to its domain, 2: to every expert); returns them with their new level.

        The level moves by a conditional UPDATE, so of several workers running this at once
        only one announces each ticket.
        """
        rows = self._conn.execute(
            select(tickets.c.id, tickets.c.announce_level)
            .where(
                tickets.c.status == TicketStatus.OPEN.value,
                tickets.c.announce_level < LAST_ANNOUNCE_LEVEL,
                tickets.c.last_announced_at <= older_than,
            )
            .order_by(tickets.c.id)
        ).all()
        now = self._clock.now()
        due: list[tuple[Ticket, int]] = []
        for ticket_id, level in rows:
            if self._change(
                ticket_id,
                and_(
                    tickets.c.status == TicketStatus.OPEN.value,
                    tickets.c.announce_level == level,
                ),
                announce_level=level + 1,
                last_announced_at=now,
            ):
                self._event(ticket_id, None, "reannounced", str(level + 1))
                due.append((self.get(ticket_id), level + 1))
        return due

    def skip_announce_level(self, ticket_id: int, level: int) -> None:
        """Mark announcement ``level`` as done without sending it (nobody new to tell)."""
        self._change(ticket_id, tickets.c.announce_level < level, announce_level=level)

    # --- internals --------------------------------------------------------------------------
    def _change(self, ticket_id: int, condition: ColumnElement[bool], **values: Any) -> bool:
        values.setdefault("updated_at", self._clock.now())
        result = self._conn.execute(
            update(tickets).where(tickets.c.id == ticket_id, condition).values(**values)
        )
        return result.rowcount == 1

    def _require_asker(self, ticket_id: int, asker: UserRef) -> None:
        if self.get(ticket_id).asker.key != asker.key:
            raise NotPermitted(f"{asker.key} did not ask ticket {ticket_id}")

    def _event(self, ticket_id: int, actor: UserRef | None, action: str, detail: str = "") -> None:
        self._conn.execute(
            insert(ticket_events).values(
                ticket_id=ticket_id,
                at=self._clock.now(),
                actor=actor.key if actor else None,
                action=action,
                detail=detail,
            )
        )
