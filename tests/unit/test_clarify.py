"""Clarifying questions: which questions are too vague (a general rule), the choices, and the
desk's round: a number or the choice's words continue as the completed question, 转人工 opens
a ticket with the original question, and there is never a second round."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.answers import Answer, Decision
from core.people import Channel, UserRef
from desk.report import text_report
from desk.service import Desk
from escalation.store import EscalationStore
from knowledge.clarify import clarification, clarifying_answer
from knowledge.text import normalize_question
from tests.fakes.clock import FakeClock
from tests.fakes.knowledge import FakeIngest, FakeKnowledge

ASKER = UserRef(Channel.WECHAT, "o-li", None, "李老板")


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("想办个证，怎么弄", "证"),
        ("质量这块有啥要求", "质量"),
        ("我想问问检测", "检测"),
        ("标准方面的问题", "标准"),
        ("有哪些认证", "认证"),
    ],
)
def test_a_general_word_and_nothing_more_is_vague(question, term) -> None:
    vague = clarification(question)
    assert vague is not None and vague.term == term
    assert 2 <= len(vague.choices) <= 3


@pytest.mark.parametrize(
    "question",
    [
        "充电宝要3C认证吗",  # a product and a requirement
        "食品质量有啥要求",  # a product
        "检验检测机构资质认定怎么申请",
        "GB 2760 标准",  # a standard named
        "开超市卖散装白酒要什么证",  # a product and a channel
        "我们小作坊自己灌装散装白酒卖，需要办哪些许可证？",  # long: says enough
        "你好",
    ],
)
def test_a_question_naming_what_it_is_about_is_not(question) -> None:
    assert clarification(question) is None


def test_the_reply_numbers_the_choices_and_ends_with_an_expert() -> None:
    vague = clarification("想办个证，怎么弄")
    assert vague is not None
    answer = clarifying_answer("想办个证，怎么弄", vague)
    assert answer.decision is Decision.CLARIFY
    assert answer.choices[-1] == "其他·转人工专家" and len(answer.choices) == 4
    assert "1. 3C强制性产品认证" in answer.text and "请回复 1/2/3/4" in answer.text


class Clarifying(FakeKnowledge):
    """The desk tests' knowledge base, asking back as the real one does."""

    def answer(self, question: str) -> Answer:
        vague = clarification(normalize_question(question))
        return clarifying_answer(question, vague) if vague else super().answer(question)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    clock = FakeClock()
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}", clock=clock)
    knowledge = Clarifying()
    try:
        yield Desk(knowledge, store, FakeIngest(knowledge), clock=clock)
    finally:
        store.close()


def test_a_number_continues_as_the_completed_question(desk: Desk) -> None:
    asked = desk.ask(ASKER, "我想问问检测")
    assert asked.answer.decision is Decision.CLARIFY and asked.ticket is None
    assert asked.choices[:1] == ("检验检测机构资质认定（CMA）",) and not asked.offer_feedback
    assert desk.awaiting_choice(ASKER)
    chosen = desk.ask(ASKER, "３")  # a full-width digit from a phone keyboard
    assert chosen.answer.question == "哪些计量器具需要强制检定"
    assert chosen.text.startswith("您问的是：哪些计量器具需要强制检定\n")
    assert not desk.awaiting_choice(ASKER)


def test_the_choices_words_pick_it_too(desk: Desk) -> None:
    desk.ask(ASKER, "想办个证，怎么弄")
    chosen = desk.ask(ASKER, "食品生产许可")
    assert chosen.answer.question == "食品生产许可证怎么申请办理"


def test_the_expert_choice_opens_a_ticket_with_the_original_question(desk: Desk) -> None:
    asked = desk.ask(ASKER, "质量这块有啥要求")
    chosen = desk.ask(ASKER, str(len(asked.choices)))
    assert chosen.ticket is not None and chosen.ticket.question == "质量这块有啥要求"


def test_there_is_at_most_one_clarifying_round(desk: Desk) -> None:
    desk.ask(ASKER, "想办个证，怎么弄")
    again = desk.ask(ASKER, "标准方面的问题")
    assert again.answer.decision is Decision.ESCALATE and again.ticket is not None
    assert again.ticket.question == "标准方面的问题"


def test_a_clarifying_round_is_counted_as_asked_back_in_the_statistics(desk: Desk) -> None:
    admin = UserRef(Channel.TELEGRAM, "9001", "9001", "管理员")
    desk.store.seed_roles(admins=[admin.key], experts=[])
    desk.ask(ASKER, "我想问问检测")  # asked back
    desk.ask(ASKER, "３")  # the choice, answered
    figures = desk.stats(admin)
    assert (figures.questions, figures.clarified, figures.answered_by_desk) == (2, 1, 1)
    assert figures.escalated == 0
    assert "追问澄清（请提问人说明所指）：1" in text_report(figures)
    now = desk.store.clock.now()
    period = desk.statistics(admin, now - timedelta(days=1), now + timedelta(days=1))
    assert (period.total.questions, period.total.clarified) == (2, 1)


def test_qadesk_chat_completes_follow_ups_and_takes_a_number_as_the_choice(desk: Desk) -> None:
    from bot.console import run_console

    lines = iter(["我想问问检测", "3", "店里的电子秤要强制检定吗", "那加油机呢"])
    shown: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:  # the end of input, as at a terminal
            raise EOFError from None

    run_console(desk, read, shown.append)
    assert any("3. 计量器具强制检定" in s for s in shown)
    assert any(s.startswith("您问的是：哪些计量器具需要强制检定") for s in shown)
    assert any(s.startswith("您问的是：店里的加油机要强制检定吗") for s in shown)
