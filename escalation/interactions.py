"""Every exchange with an asker: the question, what the desk decided and said, the feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from core.answers import Answer, Citation
from core.errors import NotPermitted
from core.people import UserRef
from core.ports import Clock
from escalation.records import citations_from_json, citations_to_json
from escalation.schema import interactions


class InteractionKind(StrEnum):
    ASK = "ask"  # a question put to the desk
    EXPERT_ANSWER = "expert_answer"  # an expert's answer delivered to the asker


@dataclass(frozen=True, slots=True)
class Interaction:
    interaction_id: int
    kind: InteractionKind
    user_key: str
    question: str
    decision: str  # answer | escalate | invalid
    answer_text: str
    citations: tuple[Citation, ...]
    confidence: float
    reason: str
    from_expert: bool
    faq_id: str | None
    ticket_id: int | None
    feedback: str | None
    created_at: datetime


def _interaction(row: Any) -> Interaction:
    d = row._mapping
    return Interaction(
        interaction_id=d["id"],
        kind=InteractionKind(d["kind"]),
        user_key=d["user_key"],
        question=d["question"],
        decision=d["decision"],
        answer_text=d["answer_text"],
        citations=citations_from_json(d["citations"]),
        confidence=d["confidence"],
        reason=d["reason"],
        from_expert=bool(d["from_expert"]),
        faq_id=d["faq_id"],
        ticket_id=d["ticket_id"],
        feedback=d["feedback"],
        created_at=d["created_at"],
    )


class InteractionRepo:
    """Interaction rows, inside one transaction (the user must exist in ``people``)."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    def record(
        self,
        user: UserRef,
        answer: Answer,
        *,
        question: str | None = None,
        decision: str | None = None,
        kind: InteractionKind = InteractionKind.ASK,
        ticket_id: int | None = None,
        at: datetime | None = None,
        typed: str | None = None,
    ) -> int:
        """Store one exchange. ``question`` is what the user asked (default: the answer's
        question); ``decision`` overrides the answer's (e.g. ``"invalid"``); ``at`` is when it
        happened (default: now; earlier for a question kept on disk during an outage);
        ``typed`` what the asker typed when ``question`` was completed from earlier turns."""
        interaction_id: int = self._conn.execute(
            insert(interactions)
            .values(
                kind=kind.value,
                user_key=user.key,
                question=answer.question if question is None else question,
                decision=decision or answer.decision.value,
                confidence=float(answer.confidence),
                reason=answer.reason.value,
                answer_text=answer.text,
                citations=citations_to_json(answer.citations),
                from_expert=answer.from_expert,
                faq_id=answer.faq_id,
                ticket_id=ticket_id,
                created_at=at or self._clock.now(),
                composer=_composer(answer, decision),
                composer_fallback=answer.fallback or None,
                typed=typed,
            )
            .returning(interactions.c.id)
        ).scalar_one()
        return interaction_id

    def get(self, interaction_id: int) -> Interaction:
        row = self._conn.execute(
            select(interactions).where(interactions.c.id == interaction_id)
        ).first()
        if row is None:  # ids come from buttons the desk made: an unknown one is not the caller's
            raise NotPermitted(f"no interaction {interaction_id}")
        return _interaction(row)

    def own(self, user: UserRef, interaction_id: int) -> Interaction:
        """The interaction, if ``user`` is the one who had it."""
        found = self.get(interaction_id)
        if found.user_key != user.key:
            raise NotPermitted(f"interaction {interaction_id} is not {user.key}'s")
        return found

    def link_ticket(self, interaction_id: int, ticket_id: int) -> None:
        self._conn.execute(
            update(interactions)
            .where(interactions.c.id == interaction_id)
            .values(ticket_id=ticket_id)
        )

    def unhelpful_expert_answer(self, ticket_id: int) -> None:
        """Note 没解决 on the ticket's latest expert answer, unless feedback was already given."""
        latest = self._conn.execute(
            select(interactions.c.id)
            .where(
                interactions.c.ticket_id == ticket_id,
                interactions.c.kind == InteractionKind.EXPERT_ANSWER.value,
            )
            .order_by(interactions.c.id.desc())
            .limit(1)
        ).scalar()
        if latest is None:
            return
        self._conn.execute(
            update(interactions)
            .where(interactions.c.id == latest, interactions.c.feedback.is_(None))
            .values(feedback="not_helpful", feedback_at=self._clock.now())
        )

    def set_feedback(self, user: UserRef, interaction_id: int, helpful: bool) -> Interaction:
        """Record 有用 (True) or 没解决 (False); a later tap replaces an earlier one."""
        self.own(user, interaction_id)
        self._conn.execute(
            update(interactions)
            .where(interactions.c.id == interaction_id)
            .values(
                feedback="helpful" if helpful else "not_helpful",
                feedback_at=self._clock.now(),
            )
        )
        return self.get(interaction_id)


def _composer(answer: Answer, decision: str | None) -> str | None:
    """Which composer wrote a desk answer (escalations, refusals and expert answers: none;
    an escalation because the model said the passages do not answer: llm)."""
    if decision is not None or answer.from_expert:
        return None
    if answer.decision.value == "answer" or answer.composer != "extractive":
        return answer.composer
    return None
