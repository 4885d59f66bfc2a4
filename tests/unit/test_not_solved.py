"""没解决 is one desk rule (Desk.not_solved): counted as not helpful and sent to an expert, the
same from a Telegram button, a WeChat 回复 2 or the `qadesk chat` console."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import prompts
from bot.console import run_console
from core.answers import Decision
from core.people import Channel, UserRef
from desk.service import Desk
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.knowledge import FakeIngest, FakeKnowledge

ASKER = UserRef(Channel.WECHAT, "o-wang", None, "王老板")
CONSOLE = UserRef(Channel.CONSOLE, "local", display_name="console")
ADMIN = UserRef(Channel.CONSOLE, "admin")
ANSWERABLE = "用于贸易结算的电子秤需要强制检定吗？"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    clock = FakeClock()
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}", clock=clock)
    store.seed_roles(admins=[ADMIN.key])
    knowledge = FakeKnowledge()
    try:
        yield Desk(knowledge, store, FakeIngest(knowledge), clock=clock)
    finally:
        store.close()


def test_not_solved_counts_as_not_helpful_and_opens_a_ticket_with_the_answer(desk: Desk) -> None:
    reply = desk.ask(ASKER, ANSWERABLE)
    assert reply.answer.decision is Decision.ANSWER and reply.ticket is None
    result = desk.not_solved(ASKER, reply.interaction_id)
    assert result.ticket is not None
    assert result.ticket.question == ANSWERABLE
    assert result.ticket.draft_answer == reply.answer.text  # the expert sees what was said
    tid = result.ticket.ticket_id
    assert result.text == prompts.text("desk.feedback.sent_to_expert", ticket_id=tid)
    assert desk.stats(ADMIN).not_helpful == 1
    again = desk.not_solved(ASKER, reply.interaction_id)  # pressed twice: the same ticket
    assert again.ticket is not None and again.ticket.ticket_id == tid
    assert again.text == prompts.text("desk.feedback.escalated_already", ticket_id=tid)
    assert len(desk.my_tickets(ASKER)) == 1


def test_the_console_2_is_the_same_rule_and_my_lists_the_status_in_words(desk: Desk) -> None:
    lines = iter([ANSWERABLE, "2", "/my"])
    shown: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    run_console(desk, read, shown.append)
    (ticket,) = desk.my_tickets(CONSOLE)
    assert prompts.text("desk.feedback.sent_to_expert", ticket_id=ticket.ticket_id) in shown
    assert desk.stats(ADMIN).not_helpful == 1
    listed = prompts.text(
        "console.ticket_line",
        ticket_id=ticket.ticket_id,
        status="等待专家认领",
        question=ANSWERABLE,
    )
    assert shown[-2] == listed  # /my: the statuses every channel shows (then the goodbye)
