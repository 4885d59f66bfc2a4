"""One voice per escalation: knowledge says why it does not answer, the desk says what happens
next (the ticket), so the reason the asker reads is the reason the desk decided on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import prompts
from core.answers import Answer, Decision, EscalationReason
from core.people import Channel, UserRef
from desk import texts
from desk.service import Desk
from escalation.store import EscalationStore
from knowledge.composer import compose_escalation
from tests.fakes.clock import FakeClock
from tests.fakes.knowledge import FakeIngest, FakeKnowledge

ASKER = UserRef(Channel.TELEGRAM, "1001", "1001", "王老板")
CASE = "我们厂的电子秤上个月检定过了，这批货还能按原来的计量结果出厂吗？"
REASONS = [r for r in EscalationReason if r is not EscalationReason.NONE]


@pytest.mark.parametrize("reason", [r for r in REASONS if r is not EscalationReason.INVALID])
def test_knowledge_gives_the_reason_only_never_a_ticket_it_did_not_open(
    reason: EscalationReason,
) -> None:
    """`qadesk ask` prints what knowledge says: it may not claim an expert has the question."""
    text = compose_escalation(reason)
    assert text == prompts.text(f"answer.escalate_{reason.value}")
    assert "转" not in text and "工单" not in text and "专家答复" not in text


class CaseKnowledge(FakeKnowledge):
    """Answers like the fake library, but judges every question to need an expert."""

    def answer(self, question: str) -> Answer:
        found = super().answer(question)
        why = compose_escalation(EscalationReason.NEEDS_EXPERT)
        reason = EscalationReason.NEEDS_EXPERT
        return Answer(question, Decision.ESCALATE, why, found.citations, 0.3, reason)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    clock = FakeClock()
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}", clock=clock)
    knowledge = CaseKnowledge()
    try:
        yield Desk(knowledge, store, FakeIngest(knowledge), clock=clock)
    finally:
        store.close()


def test_a_question_needing_an_expert_is_told_so_and_given_its_ticket(desk: Desk) -> None:
    reply = desk.ask(ASKER, CASE)
    assert reply.ticket is not None
    first, notice = reply.text.split("\n", 1)
    assert first == prompts.text("answer.escalate_needs_expert")  # the reason decided on
    assert notice.startswith(
        prompts.text(
            "desk.ask.escalated",
            ticket_id=reply.ticket.ticket_id,
            domain=texts.domain_label(reply.ticket.domain),
        )
    )
    assert "没有把握" not in reply.text  # not the low-confidence wording
    assert reply.text.count("已转交人工专家") == 1  # said once, by the desk


def test_the_same_question_again_is_pointed_at_its_ticket(desk: Desk) -> None:
    first = desk.ask(ASKER, CASE)
    again = desk.ask(ASKER, CASE)
    assert first.ticket is not None and again.ticket is not None
    assert again.ticket.ticket_id == first.ticket.ticket_id
    status = texts.status_label(again.ticket.status)
    assert again.text == prompts.text("desk.ask.escalated_again", ticket_id=1, status=status)
