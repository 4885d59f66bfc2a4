"""The question log admins read: every question put to the desk, what it decided, the
feedback, filtered and a page at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, true

from core.question_log import LOW_CONFIDENCE, LoggedQuestion, Outcome, QuestionPage, QuestionQuery
from escalation.interactions import InteractionKind
from escalation.schema import interactions, people, tickets


def outcome_condition(outcome: Outcome, low_below: float = LOW_CONFIDENCE) -> ColumnElement[bool]:
    """The WHERE clause of one filter."""
    c = interactions.c
    if outcome is Outcome.ANSWERED:
        return c.decision == "answer"
    if outcome is Outcome.ESCALATED:
        return or_(c.decision == "escalate", c.ticket_id.is_not(None))
    if outcome is Outcome.NOT_HELPFUL:
        return c.feedback == "not_helpful"
    if outcome is Outcome.CLARIFY:
        return c.decision == "clarify"
    if outcome is Outcome.FOLLOW_UP:
        return c.typed.is_not(None)
    return and_(c.decision == "answer", c.confidence < low_below)


class QuestionLogRepo:
    """Read the log, inside one (read) transaction."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def find(self, query: QuestionQuery) -> QuestionPage:
        """The questions ``query`` selects, newest first."""
        outcome, since, until, channel = query.outcome, query.since, query.until, query.channel
        limit, offset = max(1, query.limit), max(0, query.offset)
        c = interactions.c
        where: ColumnElement[bool] = and_(c.kind == InteractionKind.ASK.value, true())
        if outcome is not None:
            where = and_(where, outcome_condition(outcome, query.low_below))
        if since is not None:
            where = and_(where, c.created_at >= since)
        if until is not None:
            where = and_(where, c.created_at < until)
        if channel:
            where = and_(where, people.c.channel == channel)
        joined = interactions.join(people, people.c.key == c.user_key).outerjoin(
            tickets, tickets.c.id == c.ticket_id
        )
        total = self._conn.execute(
            select(func.count()).select_from(joined).where(where)
        ).scalar_one()
        rows = self._conn.execute(
            select(
                interactions,
                people.c.channel.label("channel"),
                people.c.display_name.label("asker_name"),
                tickets.c.status.label("ticket_status"),
            )
            .select_from(joined)
            .where(where)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return QuestionPage([_logged(r._mapping) for r in rows], int(total), offset, limit)


def _logged(d: Any) -> LoggedQuestion:
    return LoggedQuestion(
        interaction_id=int(d["id"]),
        asked_at=d["created_at"],
        user_key=d["user_key"],
        channel=d["channel"],
        asker_name=d["asker_name"],
        question=d["question"],
        decision=d["decision"],
        confidence=float(d["confidence"]),
        reason=d["reason"],
        answer_text=d["answer_text"],
        feedback=d["feedback"],
        ticket_id=d["ticket_id"],
        ticket_status=d["ticket_status"],
        typed=d["typed"],
    )
