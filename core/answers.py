"""What the knowledge base returns for a question."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Decision(StrEnum):
    ANSWER = "answer"
    ESCALATE = "escalate"
    CLARIFY = "clarify"  # too vague to answer or route: one short question back, with choices


class EscalationReason(StrEnum):
    """Why the desk did not answer by itself."""

    NONE = ""
    NO_MATCH = "no_match"  # nothing in the library is close enough
    LOW_CONFIDENCE = "low_confidence"  # something related, not clearly the answer
    NEEDS_EXPERT = "needs_expert"  # asks for a judgement about the asker's own case
    INVALID = "invalid"  # empty, too long, not a question
    OUTDATED = "outdated"  # its best source is repealed or superseded, no successor held


@dataclass(frozen=True, slots=True)
class Citation:
    """One source an answer rests on, down to the clause."""

    document: str  # file name the chunk came from
    title: str
    chunk_id: str
    text: str  # the whole chunk text
    score: float
    section: str = ""
    article: str | None = None
    doc_number: str | None = None
    kind: str = ""
    quote: str = ""  # the sentences of the chunk quoted in the answer
    faq_id: str | None = None  # set when the source is an expert FAQ entry
    status: str = ""  # core.document_status.DocumentStatus of its document when answered
    status_label: str = ""  # the same in words (现行有效; 尚未生效，自2027年1月1日起施行; …)


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    decision: Decision
    text: str  # what the user sees (already in Chinese, with sources)
    citations: tuple[Citation, ...] = ()
    confidence: float = 0.0
    reason: EscalationReason = EscalationReason.NONE
    from_expert: bool = False  # answered from an approved expert FAQ entry
    faq_id: str | None = None
    signals: dict[str, float] = field(default_factory=dict)  # retrieval signals, for eval/debug
    composer: str = "extractive"  # which composer wrote ``text``: extractive or llm
    fallback: str = ""  # why an LLM composition was not used (timeout, schema…), else empty
    choices: tuple[str, ...] = ()  # for CLARIFY: what the asker may pick (the last: an expert)


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """An approved expert answer, served to later askers of similar questions."""

    faq_id: str
    question: str
    answer: str
    sources: tuple[str, ...] = ()  # file names of the documents it relied on
    approved_by: str = ""
    approved_at: str = ""  # ISO timestamp
    ticket_id: int | None = None


class FaqStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class FaqRecord:
    entry: FaqEntry
    status: FaqStatus
    flagged: bool
    flag_reason: str
    updated_at: datetime
