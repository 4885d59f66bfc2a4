"""The question log admins read: every question put to the desk, what it decided, the
feedback, filtered and a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, true

from escalation.interactions import InteractionKind
from escalation.schema import interactions, people, tickets

LOW_CONFIDENCE = 0.6  # below this, an answer the desk gave counts as low confidence


class Outcome(StrEnum):
    """The filters of the log."""

    ANSWERED = "answered"  # the desk answered itself
    ESCALATED = "escalated"  # went to an expert (at once, or later on request)
    NOT_HELPFUL = "not_helpful"  # the asker tapped 没解决 (👎)
    LOW_CONFIDENCE = "low_confidence"  # answered, with confidence under the bar
    CLARIFY = "clarify"  # asked back which of a few things was meant
    FOLLOW_UP = "follow_up"  # completed from the asker's earlier turns


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    interaction_id: int
    asked_at: datetime
    user_key: str
    channel: str
    asker_name: str | None
    question: str
    decision: str  # answer | escalate | invalid
    confidence: float
    reason: str
    answer_text: str
    feedback: str | None  # helpful | not_helpful
    ticket_id: int | None
    ticket_status: str | None
    typed: str | None = None  # what was typed, when ``question`` was completed (a follow-up)


@dataclass(frozen=True, slots=True)
class QuestionPage:
    rows: list[LoggedQuestion]
    total: int  # rows matching the filters, over all pages
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.rows) < self.total


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


@dataclass(frozen=True, slots=True)
class QuestionQuery:
    """Which questions of the log: asked ``since`` ≤ at < ``until``, on ``channel`` (its name:
    ``telegram``, ``wechat``, ``console``), matching ``outcome`` (an answer counts as low
    confidence below ``low_below``); a page of ``limit`` from ``offset``, newest first."""

    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None
    channel: str | None = None
    low_below: float = LOW_CONFIDENCE
    limit: int = 50
    offset: int = 0


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
