"""The rows statistics are broken down from: each question of a period with its channel and
domain, each ticket with its expert times (the grouping itself is pure, in ``desk``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select

from core.people import Domain
from escalation.domains import infer_domain
from escalation.interactions import InteractionKind
from escalation.records import citations_from_json
from escalation.schema import interactions, people, tickets
from escalation.stats import _within as within


@dataclass(frozen=True, slots=True)
class AskedRow:
    """One question put to the desk (refused ones left out, as in the desk's figures)."""

    at: datetime
    channel: str
    domain: Domain  # its ticket's, else inferred from its wording and sources
    answered: bool  # the desk answered itself
    escalated: bool  # it went to an expert, at once or later
    feedback: str | None
    clarified: bool = False  # the desk asked back which of a few things was meant


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One ticket opened for an expert."""

    created_at: datetime
    channel: str
    domain: Domain
    first_claimed_at: datetime | None
    first_answered_at: datetime | None


class BreakdownRepo:
    """Read the rows of ``since`` ≤ time < ``until``, inside one (read) transaction."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def asked(self, since: datetime | None, until: datetime | None) -> list[AskedRow]:
        c = interactions.c
        query = (
            select(
                c.created_at,
                c.question,
                c.decision,
                c.citations,
                c.ticket_id,
                c.feedback,
                people.c.channel,
                tickets.c.domain,
            )
            .select_from(
                interactions.join(people, people.c.key == c.user_key).outerjoin(
                    tickets, tickets.c.id == c.ticket_id
                )
            )
            .where(
                c.kind == InteractionKind.ASK.value,
                c.decision != "invalid",
                within(c.created_at, since, until),
            )
            .order_by(c.created_at, c.id)
        )
        found: list[AskedRow] = []
        for row in self._conn.execute(query):
            d = row._mapping
            if d["domain"]:
                domain = Domain(d["domain"])
            else:
                domain = infer_domain(d["question"], citations_from_json(d["citations"]))
            found.append(
                AskedRow(
                    at=d["created_at"],
                    channel=str(d["channel"]),
                    domain=domain,
                    answered=d["decision"] == "answer",
                    escalated=d["decision"] == "escalate" or d["ticket_id"] is not None,
                    feedback=d["feedback"],
                    clarified=d["decision"] == "clarify",
                )
            )
        return found

    def tickets(self, since: datetime | None, until: datetime | None) -> list[TicketRow]:
        """Tickets created in the period, or first claimed or first answered in it."""
        t = tickets.c
        query = (
            select(t.created_at, t.asker_channel, t.domain, t.first_claimed_at, t.first_answered_at)
            .where(
                or_(
                    within(t.created_at, since, until),
                    and_(t.first_claimed_at.is_not(None), within(t.first_claimed_at, since, until)),
                    and_(
                        t.first_answered_at.is_not(None), within(t.first_answered_at, since, until)
                    ),
                )
            )
            .order_by(t.created_at, t.id)
        )
        return [
            TicketRow(
                created_at=r.created_at,
                channel=str(r.asker_channel),
                domain=Domain(r.domain),
                first_claimed_at=r.first_claimed_at,
                first_answered_at=r.first_answered_at,
            )
            for r in self._conn.execute(query)
        ]
