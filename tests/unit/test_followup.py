"""Follow-up turns: which turns follow on, how they are completed from the frame, and the
desk keeping each asker's frame in the database (a second worker sees it; it lapses)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.people import Channel, UserRef
from desk.service import Desk
from escalation.store import EscalationStore
from knowledge.followup import complete, frame_of, is_follow_up
from tests.fakes.clock import FakeClock
from tests.fakes.knowledge import FakeIngest, FakeKnowledge


@pytest.mark.parametrize(
    "turn",
    [
        "那网上卖的呢？",
        "出口的话呢",
        "罚多少",
        "那加油机呢",
        "如果是在广东呢",
        "要是做批发呢",
        "还有标签有什么要求",
    ],
)
def test_short_marked_or_subjectless_turns_follow_on(turn) -> None:
    assert is_follow_up(turn)


@pytest.mark.parametrize(
    "turn",
    [
        "我卖的充电宝要3C认证吗？",
        "那电动车要3C认证吗",  # names a subject and a requirement of its own
        "电子秤要检定吗",
        "小作坊生产辣椒酱需要办食品生产许可证吗，还有别的要求没有呢",  # long: says enough
        "那好吧",  # the conversation ends rather than goes on
        "那谢谢了",
        "那算了",
        "好的呢",
        "",
    ],
)
def test_turns_that_stand_alone(turn) -> None:
    assert not is_follow_up(turn)


def run(*turns: str) -> list[str]:
    frame, out = None, []
    for turn in turns:
        done = complete(frame, turn)
        frame = done.frame
        out.append(done.question)
    return out


def test_a_follow_up_replaces_only_what_it_names() -> None:
    assert run("我卖的充电宝要3C认证吗？", "那网上卖的呢？", "出口的话呢", "罚多少") == [
        "我卖的充电宝要3C认证吗？",
        "网上销售充电宝是否需要3C认证",
        "出口销售充电宝是否需要3C认证",
        "出口充电宝没有3C认证罚多少",
    ]
    assert run("店里的电子秤多久检定一次", "那加油机呢", "找谁") == [
        "店里的电子秤多久检定一次",
        "店里的加油机多久检定一次",  # the earlier question's words, the product replaced
        "加油机检定找哪个部门",  # a slot it lacked: written from the frame
    ]
    assert run("开超市卖散装白酒要什么证", "那要是做批发呢", "如果是在广东呢")[1:] == [
        "开批发卖散装白酒要什么证",
        "在广东批发散装白酒需要办哪些证",
    ]
    assert run("产品质量有问题销售者要负责吗", "那生产者呢")[1] == (
        "生产者，产品质量有问题销售者要负责吗"  # words outside the vocabulary: put before
    )


def test_a_new_requirement_drops_the_old_ask_and_no_frame_means_no_completion() -> None:
    assert run("充电宝没有3C认证罚多少", "那要检验报告吗")[1] == "充电宝是否需要检验报告"
    assert complete(None, "那网上卖的呢？").question == "那网上卖的呢？"
    assert frame_of("我卖的充电宝要3C认证吗").slots == {
        "requirement": "3C认证",
        "product": "充电宝",
    }


ASKER = UserRef(Channel.TELEGRAM, "1001", "1001", "王老板")
OTHER = UserRef(Channel.WECHAT, "o-zhao", None, "赵经理")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Desk, Desk, FakeClock]]:
    clock = FakeClock()
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    store = EscalationStore.open(url, clock=clock)
    other_store = EscalationStore.open(url, clock=clock)
    knowledge = FakeKnowledge()
    first = Desk(knowledge, store, FakeIngest(knowledge), clock=clock)
    second = Desk(knowledge, other_store, clock=clock, follow_up_within=timedelta(minutes=5))
    try:
        yield first, second, clock
    finally:
        store.close()
        other_store.close()


def test_the_completed_question_is_answered_shown_and_kept_by_every_worker(rig) -> None:
    first, second, clock = rig
    first.ask(ASKER, "店里的电子秤要不要强制检定？")
    reply = second.ask(ASKER, "那加油机呢")  # another worker, same database
    assert reply.text.startswith("您问的是：店里的加油机要不要强制检定？\n")
    assert reply.answer.question == "店里的加油机要不要强制检定？"
    assert second.ask(OTHER, "那加油机呢").text.startswith("您问的是") is False  # not his frame
    clock.advance(minutes=6)  # past the second worker's window
    late = second.ask(ASKER, "那出租车计价器呢")
    assert not late.text.startswith("您问的是")
    assert late.answer.question == "那出租车计价器呢"


def test_an_escalated_follow_up_opens_the_ticket_with_the_completed_question(rig) -> None:
    first, _, _ = rig
    assert first.ask(ASKER, "锅炉要年检吗？").ticket is not None
    reply = first.ask(ASKER, "那压力容器呢")
    assert reply.ticket is not None
    assert reply.ticket.question == reply.answer.question == "压力容器要年检吗？"
    assert reply.text.startswith("您问的是：压力容器要年检吗？\n")


def test_eval_lines_with_turns_are_asked_as_completed_and_clarify_counts_as_not_answered() -> None:
    from app import evaluation
    from core.answers import Answer, Decision

    item = {"turns": ["我卖的充电宝要3C认证吗？"], "question": "罚多少"}
    assert evaluation.asked(item) == "充电宝没有3C认证罚多少"
    assert evaluation.asked({"question": "罚多少"}) == "罚多少"
    vague = {"question": "想办个证，怎么弄", "type": "vague"}
    report = evaluation.run([vague], lambda q: Answer(q, Decision.CLARIFY, "…", choices=("a",)))
    summary = report.summary()
    assert summary["clarify_rate[vague]"] == 1.0 and summary["escalation_rate[vague]"] == 1.0


def test_the_conversation_evaluation_file_has_forty_cases_from_the_library() -> None:
    import json

    root = Path(__file__).resolve().parents[2]
    rows = [json.loads(line) for line in (root / "tests/data/conversation.jsonl").open()]
    follow_ups = [r for r in rows if r.get("turns")]
    vague = [r for r in rows if r.get("type") == "vague"]
    assert len(follow_ups) + len(vague) >= 40 and len(follow_ups) >= 20 and len(vague) >= 10
    names = {p.name for p in (root / "library").rglob("*") if p.is_file()}
    assert all(r["source_doc"] in names and r["evidence"] for r in follow_ups)


def test_a_follow_up_kept_through_an_outage_is_stored_with_what_was_typed(tmp_path: Path) -> None:
    from contextlib import ExitStack

    from sqlalchemy import select

    from core.answers import Answer
    from desk.spool import QuestionSpool
    from escalation.retry import RetryPolicy
    from escalation.schema import interactions
    from tests.fakes.databases import write_lock

    path = tmp_path / "desk.sqlite3"
    store = EscalationStore.open(
        f"sqlite:///{path}", busy_timeout_s=0.1, retry=RetryPolicy(attempts=2, first_delay_s=0.01)
    )
    outage = ExitStack()

    class AnswersThenTheDatabaseGoes(FakeKnowledge):
        def answer(self, question: str) -> Answer:  # the frame was read; now no writes
            if question.startswith("店里的加油机"):
                outage.enter_context(write_lock(path))
            return super().answer(question)

    spool = QuestionSpool(tmp_path / "spool")
    desk = Desk(AnswersThenTheDatabaseGoes(), store, spool=spool)
    try:
        desk.ask(ASKER, "店里的电子秤要不要强制检定？")
        with outage:
            reply = desk.ask(ASKER, "那加油机呢")
            assert reply.answer.question == "店里的加油机要不要强制检定？"
            assert reply.interaction_id == 0 and spool.count() == 1  # kept on disk
        assert desk.drain_spool() == 1
        with store.engine.connect() as connection:
            rows = connection.execute(
                select(interactions.c.question, interactions.c.typed).order_by(interactions.c.id)
            ).all()
    finally:
        store.close()
    assert [tuple(r) for r in rows] == [
        ("店里的电子秤要不要强制检定？", None),
        ("店里的加油机要不要强制检定？", "那加油机呢"),
    ]
