"""The question log's value types: which questions (``QuestionQuery``, ``Outcome``) and
what a page of them holds; ``escalation.question_log`` reads them from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

LOW_CONFIDENCE = 0.6
"""An answer the desk gave counts as low confidence when its confidence (the decision's
calibrated chance that answering is right) is under this: a property of the answer, so it does
not move with the fitted threshold (answers start lower, at ``AnswerModel.threshold``); after a
refit that puts the threshold above it, this filter is rightly empty."""


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
