"""Service statistics for a period, read from interactions and tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, true

from core.people import Domain
from core.stats import Stats, percentile
from escalation.figures import cluster_topics
from escalation.interactions import InteractionKind
from escalation.schema import interactions, tickets
from escalation.tickets import ACTIVE


def _within(column: Any, since: datetime | None, until: datetime | None) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = true()
    if since is not None:
        condition = and_(condition, column >= since)
    if until is not None:
        condition = and_(condition, column < until)
    return condition


def _seconds(pairs: list[tuple[datetime, datetime]]) -> list[float]:
    return [max(0.0, (end - start).total_seconds()) for start, end in pairs]


class StatsRepo:
    """Statistics queries, inside one (read) transaction."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def figures(
        self, since: datetime | None = None, until: datetime | None = None, top: int = 10
    ) -> Stats:
        asks = and_(
            interactions.c.kind == InteractionKind.ASK.value,
            interactions.c.decision != "invalid",
            _within(interactions.c.created_at, since, until),
        )
        askers, questions, by_desk, clarified = self._conn.execute(
            select(
                func.count(func.distinct(interactions.c.user_key)),
                func.count(),
                func.count().filter(interactions.c.decision == "answer"),
                func.count().filter(interactions.c.decision == "clarify"),
            ).where(asks)
        ).one()
        escalated = self._count(tickets, _within(tickets.c.created_at, since, until))
        answered = self._count(
            tickets,
            and_(
                tickets.c.first_answered_at.is_not(None),
                _within(tickets.c.first_answered_at, since, until),
            ),
        )
        claim_times = _seconds(self._pairs(tickets.c.first_claimed_at, since, until))
        answer_times = _seconds(self._pairs(tickets.c.first_answered_at, since, until))
        feedback: dict[str, int] = dict(
            self._conn.execute(
                select(interactions.c.feedback, func.count())
                .where(
                    interactions.c.feedback.is_not(None),
                    _within(interactions.c.feedback_at, since, until),
                )
                .group_by(interactions.c.feedback)
            ).all()
        )
        unanswered = list(
            self._conn.execute(
                select(interactions.c.question)
                .where(asks, interactions.c.decision == "escalate")
                .order_by(interactions.c.created_at, interactions.c.id)
            ).scalars()
        )
        composed_by = self._grouped(interactions.c.composer, asks)
        fallbacks = self._grouped(interactions.c.composer_fallback, asks)
        return Stats(
            since=since,
            until=until,
            askers=int(askers),
            questions=int(questions),
            answered_by_desk=int(by_desk),
            escalated=escalated,
            answered_by_experts=answered,
            claim_p50_s=percentile(claim_times, 50),
            claim_p90_s=percentile(claim_times, 90),
            answer_p50_s=percentile(answer_times, 50),
            answer_p90_s=percentile(answer_times, 90),
            helpful=int(feedback.get("helpful", 0)),
            not_helpful=int(feedback.get("not_helpful", 0)),
            clarified=int(clarified),
            backlog_by_domain=self.backlog(until),
            top_unanswered=cluster_topics(unanswered, limit=top),
            composed_by=composed_by,
            composer_fallbacks=fallbacks,
        )

    def _grouped(self, column: Any, condition: ColumnElement[bool]) -> dict[str, int]:
        """How many rows have each non-empty value of ``column``."""
        rows = self._conn.execute(
            select(column, func.count()).where(condition, column.is_not(None)).group_by(column)
        ).all()
        return {str(value): int(count) for value, count in rows}

    def backlog(self, at: datetime | None = None) -> dict[str, int]:
        """Tickets waiting for an expert answer, by domain (every domain listed).

        Now: open and claimed tickets. At a past moment ``at``: tickets created before it and
        neither answered nor closed (or cancelled) before it.
        """
        if at is None:
            waiting: ColumnElement[bool] = tickets.c.status.in_([s.value for s in ACTIVE])
        else:
            waiting = and_(
                tickets.c.created_at < at,
                or_(tickets.c.first_answered_at.is_(None), tickets.c.first_answered_at >= at),
                or_(tickets.c.closed_at.is_(None), tickets.c.closed_at >= at),
            )
        rows = self._conn.execute(
            select(tickets.c.domain, func.count()).where(waiting).group_by(tickets.c.domain)
        ).all()
        found = {str(domain): int(count) for domain, count in rows}
        return {d.value: found.get(d.value, 0) for d in Domain}

    def _count(self, table: Any, condition: ColumnElement[bool]) -> int:
        return int(
            self._conn.execute(
                select(func.count()).select_from(table).where(condition)
            ).scalar_one()
        )

    def _pairs(
        self, column: Any, since: datetime | None, until: datetime | None
    ) -> list[tuple[datetime, datetime]]:
        rows = self._conn.execute(
            select(tickets.c.created_at, column).where(
                column.is_not(None), _within(column, since, until)
            )
        ).all()
        return [(created, moment) for created, moment in rows]
