"""desk.Desk with the fake knowledge base and a SQLite store: what askers, experts and admins
see, and what the desk queues for delivery."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import prompts
from core.answers import Decision, EscalationReason
from core.errors import (
    AlreadyClaimed,
    InvalidQuestion,
    InvalidTransition,
    NotPermitted,
    PersonNotFound,
)
from core.people import Channel, Domain, Role, UserRef
from core.tickets import NotificationKind, TicketStatus
from desk.service import Desk
from escalation.outbox import OutboxRecord
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.knowledge import FakeIngest, FakeKnowledge

ASKER = UserRef(Channel.TELEGRAM, "1001", "1001", "王老板")
OTHER = UserRef(Channel.WECHAT, "o-zhao", None, "赵经理")
METROLOGIST = UserRef(Channel.TELEGRAM, "2001", display_name="李工")
FOOD_EXPERT = UserRef(Channel.TELEGRAM, "2002", display_name="张工")
GENERALIST = UserRef(Channel.WECHAT, "o-wu", display_name="吴工")
ADMIN = UserRef(Channel.CONSOLE, "admin")
GROUP = UserRef(Channel.TELEGRAM, "-1001234", "-1001234", "专家群")

ANSWERABLE = "用于贸易结算的电子秤需要强制检定吗？"
BAIJIU = "我们小作坊自己灌装散装白酒卖，需要办哪些许可证？"
BAIJIU_REWORDED = "自己灌装的散装白酒拿去卖，要办什么许可证"


@dataclass
class Rig:
    desk: Desk
    store: EscalationStore
    knowledge: FakeKnowledge
    clock: FakeClock

    def queued(self, kind: NotificationKind | None = None) -> list[OutboxRecord]:
        with self.store.reading() as tx:
            records = tx.outbox.records()
        return [r for r in records if kind is None or r.notification.kind is kind]

    def recipients(self, kind: NotificationKind) -> list[str]:
        return [r.notification.recipient.key for r in self.queued(kind)]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    clock = FakeClock()
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}", clock=clock)
    store.seed_roles(
        admins=["console:admin"],
        experts=["telegram:2001=metrology|testing", "telegram:2002=food"],
    )
    knowledge = FakeKnowledge()
    desk = Desk(
        knowledge,
        store,
        FakeIngest(knowledge),
        expert_destinations=[GROUP],
        clock=clock,
        max_question_chars=60,
    )
    try:
        yield Rig(desk, store, knowledge, clock)
    finally:
        store.close()


# --- asking ---------------------------------------------------------------------------------
def test_invisible_characters_never_reach_the_library_or_the_experts(rig: Rig) -> None:
    """NUL, bidi overrides and zero-width characters change nothing a reader sees, so they must
    change neither what is searched nor what an expert reads on the ticket."""
    sneaky = "\x00" + ANSWERABLE[:3] + "\u202e\u200b" + ANSWERABLE[3:] + "\ud800"
    reply = rig.desk.ask(ASKER, sneaky)
    assert rig.knowledge.questions[-1] == ANSWERABLE
    assert reply.answer.decision is Decision.ANSWER
    rig.desk.ask(ASKER, "\u2066" + BAIJIU + "\u2069")
    assert rig.knowledge.questions[-1] == BAIJIU


def test_a_question_the_library_answers_is_answered_with_feedback_offered(rig: Rig) -> None:
    reply = rig.desk.ask(ASKER, f"  {ANSWERABLE} ")
    assert reply.answer.decision is Decision.ANSWER
    assert reply.text == reply.answer.text
    assert "计量法" in reply.text
    assert reply.ticket is None
    assert reply.offer_feedback
    assert rig.queued() == []
    assert rig.knowledge.questions == [ANSWERABLE]


def test_an_unanswerable_question_opens_a_ticket_for_the_domain_experts(rig: Rig) -> None:
    reply = rig.desk.ask(ASKER, BAIJIU)
    ticket = reply.ticket
    assert ticket is not None
    assert reply.answer.decision is Decision.ESCALATE
    assert not reply.offer_feedback
    assert ticket.domain is Domain.FOOD
    assert ticket.asker == ASKER
    assert ticket.passages == reply.answer.citations
    assert f"#{ticket.ticket_id}" in reply.text
    assert "食品" in reply.text
    assert "《中华人民共和国食品安全法》" in reply.text  # the documents that look relevant
    new = rig.queued(NotificationKind.NEW_TICKET)
    assert [r.notification.recipient.key for r in new] == [FOOD_EXPERT.key, GROUP.key]
    first = new[0].notification
    assert first.ticket_id == ticket.ticket_id
    assert first.data["ticket_id"] == str(ticket.ticket_id)
    assert first.data["domain"] == "food"
    assert first.data["question"] == BAIJIU
    assert BAIJIU in first.text
    assert "王老板" in first.text


def test_a_domain_without_experts_is_announced_to_every_expert(rig: Rig) -> None:
    reply = rig.desk.ask(ASKER, "出口到欧盟的玩具需要做哪些CE认证？")
    assert reply.ticket is not None and reply.ticket.domain is Domain.CERTIFICATION
    recipients = rig.recipients(NotificationKind.NEW_TICKET)
    assert recipients == [METROLOGIST.key, FOOD_EXPERT.key, GROUP.key]


def test_repeating_an_open_question_does_not_open_a_second_ticket(rig: Rig) -> None:
    first = rig.desk.ask(ASKER, BAIJIU)
    again = rig.desk.ask(ASKER, BAIJIU.replace("，", " ").rstrip("？"))
    assert first.ticket is not None and again.ticket is not None
    assert again.ticket.ticket_id == first.ticket.ticket_id
    assert "不用重复提问" in again.text
    assert len(rig.queued(NotificationKind.NEW_TICKET)) == 2  # from the first only
    other = rig.desk.ask(OTHER, BAIJIU)
    assert other.ticket is not None and other.ticket.ticket_id != first.ticket.ticket_id


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_an_empty_question_is_refused_and_recorded(rig: Rig, text: str) -> None:
    reply = rig.desk.ask(ASKER, text)
    assert reply.answer.reason is EscalationReason.INVALID
    assert reply.ticket is None
    assert not reply.offer_feedback
    assert "请用文字描述" in reply.text
    assert rig.knowledge.questions == []
    with rig.store.reading() as tx:
        assert tx.interactions.get(reply.interaction_id).decision == "invalid"
    with pytest.raises(InvalidQuestion):
        rig.desk.escalate(ASKER, reply.interaction_id)


def test_what_the_library_finds_is_no_question_opens_no_ticket(rig: Rig) -> None:
    reply = rig.desk.ask(ASKER, "你好")
    assert reply.ticket is None
    assert not reply.offer_feedback
    assert reply.text == prompts.error_text("invalid_question")
    assert rig.queued() == []
    assert rig.desk.stats(ADMIN).escalated == 0


def test_a_question_over_the_limit_is_refused_with_the_limit(rig: Rig) -> None:
    reply = rig.desk.ask(ASKER, "电" * 61)
    assert "61" in reply.text and "60" in reply.text
    assert rig.knowledge.questions == []
    assert rig.desk.stats(ADMIN).questions == 0


# --- feedback and escalation ------------------------------------------------------------------
def test_helpful_feedback_is_thanked_and_counted(rig: Rig) -> None:
    reply = rig.desk.ask(ASKER, ANSWERABLE)
    result = rig.desk.feedback(ASKER, reply.interaction_id, True)
    assert result.ticket is None
    assert "感谢" in result.text
    assert (rig.desk.stats(ADMIN).helpful, rig.desk.stats(ADMIN).not_helpful) == (1, 0)


def test_not_solved_offers_an_expert_and_one_tap_carries_the_answer_along(rig: Rig) -> None:
    reply = rig.desk.ask(ASKER, ANSWERABLE)
    result = rig.desk.feedback(ASKER, reply.interaction_id, False)
    assert result.ticket is None
    assert "转人工专家" in result.text
    ticket = rig.desk.escalate(ASKER, reply.interaction_id)
    assert ticket.draft_answer == reply.answer.text
    assert ticket.passages == reply.answer.citations
    assert ticket.domain is Domain.METROLOGY
    assert rig.desk.escalate(ASKER, reply.interaction_id).ticket_id == ticket.ticket_id
    assert rig.recipients(NotificationKind.NEW_TICKET) == [METROLOGIST.key, GROUP.key]
    again = rig.desk.feedback(ASKER, reply.interaction_id, False)
    assert again.ticket is not None and again.ticket.ticket_id == ticket.ticket_id
    assert rig.desk.stats(ADMIN).not_helpful == 1  # the second tap replaced the first


def test_nobody_else_can_give_feedback_or_escalate_for_an_asker(rig: Rig) -> None:
    reply = rig.desk.ask(ASKER, ANSWERABLE)
    with pytest.raises(NotPermitted):
        rig.desk.feedback(OTHER, reply.interaction_id, True)
    with pytest.raises(NotPermitted):
        rig.desk.escalate(OTHER, reply.interaction_id)
    with pytest.raises(NotPermitted):
        rig.desk.feedback(ASKER, 99999, True)


def test_askers_see_and_cancel_only_their_own_tickets(rig: Rig) -> None:
    mine = rig.desk.ask(ASKER, BAIJIU).ticket
    theirs = rig.desk.ask(OTHER, "出口到欧盟的玩具需要做哪些CE认证？").ticket
    assert mine is not None and theirs is not None
    assert [t.ticket_id for t in rig.desk.my_tickets(ASKER)] == [mine.ticket_id]
    assert rig.desk.ticket(ASKER, mine.ticket_id).question == BAIJIU
    with pytest.raises(NotPermitted):
        rig.desk.ticket(ASKER, theirs.ticket_id)
    with pytest.raises(NotPermitted):
        rig.desk.cancel(ASKER, theirs.ticket_id)
    cancelled = rig.desk.cancel(ASKER, mine.ticket_id)
    assert cancelled.status is TicketStatus.CANCELLED
    changed = rig.queued(NotificationKind.TICKET_CLAIMED)
    assert [(r.notification.recipient.key, r.notification.data["change"]) for r in changed] == [
        (GROUP.key, "cancelled")
    ]
    with pytest.raises(InvalidTransition):
        rig.desk.claim(METROLOGIST, mine.ticket_id)


# --- experts ----------------------------------------------------------------------------------
def test_only_experts_see_the_queue_and_claim(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    assert rig.desk.role_of(ASKER) is Role.ASKER
    assert rig.desk.role_of(FOOD_EXPERT) is Role.EXPERT
    assert rig.desk.role_of(ADMIN) is Role.ADMIN
    for forbidden in (
        lambda: rig.desk.pending_tickets(ASKER),
        lambda: rig.desk.claim(ASKER, ticket.ticket_id),
        lambda: rig.desk.answer_ticket(ASKER, ticket.ticket_id, "自己答"),
        lambda: rig.desk.publish(ASKER, ticket.ticket_id),
    ):
        with pytest.raises(NotPermitted):
            forbidden()
    assert rig.desk.ticket(FOOD_EXPERT, ticket.ticket_id).ticket_id == ticket.ticket_id
    assert rig.desk.ticket(GROUP, ticket.ticket_id).ticket_id == ticket.ticket_id


def test_pending_tickets_put_the_experts_own_domain_first(rig: Rig) -> None:
    food = rig.desk.ask(ASKER, BAIJIU).ticket
    rig.clock.advance(minutes=1)
    toys = rig.desk.ask(OTHER, "出口到欧盟的玩具需要做哪些CE认证？").ticket
    assert food is not None and toys is not None
    assert [t.ticket_id for t in rig.desk.pending_tickets(METROLOGIST)] == [
        food.ticket_id,
        toys.ticket_id,
    ]
    rig.desk.add_expert(ADMIN, METROLOGIST, [Domain.CERTIFICATION])
    assert [t.ticket_id for t in rig.desk.pending_tickets(METROLOGIST)] == [
        toys.ticket_id,
        food.ticket_id,
    ]
    assert [t.ticket_id for t in rig.desk.pending_tickets(METROLOGIST, Domain.FOOD)] == [
        food.ticket_id
    ]
    rig.desk.claim(FOOD_EXPERT, food.ticket_id)
    assert [t.ticket_id for t in rig.desk.pending_tickets(METROLOGIST)] == [toys.ticket_id]
    assert food.ticket_id in [t.ticket_id for t in rig.desk.pending_tickets(FOOD_EXPERT)]


def test_a_claim_is_shown_to_the_group_and_a_second_claimer_told_who(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    claimed = rig.desk.claim(FOOD_EXPERT, ticket.ticket_id)
    assert claimed.claimed_by_name == "张工"
    with pytest.raises(AlreadyClaimed) as raised:
        rig.desk.claim(METROLOGIST, ticket.ticket_id)
    assert raised.value.holder == "张工"
    changed = rig.queued(NotificationKind.TICKET_CLAIMED)
    assert [r.notification.recipient.key for r in changed] == [GROUP.key]
    assert "张工" in changed[0].notification.text


def test_an_expert_without_a_name_on_the_channel_is_named_from_the_record(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    rig.desk.ask(FOOD_EXPERT, ANSWERABLE)  # the channel told us the name once
    nameless = UserRef(Channel.TELEGRAM, "2002")
    assert rig.desk.claim(nameless, ticket.ticket_id).claimed_by_name == "张工"


def test_release_and_reassign(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    rig.desk.claim(FOOD_EXPERT, ticket.ticket_id)
    with pytest.raises(NotPermitted):
        rig.desk.release(METROLOGIST, ticket.ticket_id)
    released = rig.desk.release(FOOD_EXPERT, ticket.ticket_id)
    assert released.status is TicketStatus.OPEN
    assert rig.recipients(NotificationKind.REANNOUNCE) == [FOOD_EXPERT.key, GROUP.key]
    with pytest.raises(NotPermitted):
        rig.desk.reassign(METROLOGIST, ticket.ticket_id, FOOD_EXPERT)  # not theirs, not admin
    with pytest.raises(PersonNotFound):
        rig.desk.reassign(ADMIN, ticket.ticket_id, OTHER)  # not an expert
    with pytest.raises(PersonNotFound):
        rig.desk.person(ADMIN, OTHER.key)  # the console's lookup of whom to hand it to
    assert rig.desk.person(ADMIN, METROLOGIST.key).user.key == METROLOGIST.key
    moved = rig.desk.reassign(ADMIN, ticket.ticket_id, METROLOGIST)
    assert (moved.status, moved.claimed_by) == (TicketStatus.CLAIMED, METROLOGIST.key)
    assigned = rig.queued(NotificationKind.NEW_TICKET)[-1].notification
    assert assigned.recipient.key == METROLOGIST.key
    assert "转交给您" in assigned.text


def test_the_answer_is_queued_for_the_asker_on_their_own_channel(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    with pytest.raises(InvalidQuestion):
        rig.desk.answer_ticket(FOOD_EXPERT, ticket.ticket_id, "   ")
    answered = rig.desk.answer_ticket(FOOD_EXPERT, ticket.ticket_id, "需要办理食品生产许可证。")
    assert answered.status is TicketStatus.ANSWERED
    (record,) = rig.queued(NotificationKind.EXPERT_ANSWER)
    note = record.notification
    assert note.recipient == ASKER
    assert "需要办理食品生产许可证。" in note.text
    assert "张工" in note.text
    with rig.store.reading() as tx:
        delivered = tx.interactions.get(int(note.data["interaction_id"]))
    assert delivered.from_expert and delivered.ticket_id == ticket.ticket_id
    with pytest.raises(InvalidTransition):
        rig.desk.answer_ticket(FOOD_EXPERT, ticket.ticket_id, "再答一遍")
    assert len(rig.queued(NotificationKind.EXPERT_ANSWER)) == 1


def test_helpful_on_the_expert_answer_closes_the_ticket(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    rig.desk.answer_ticket(FOOD_EXPERT, ticket.ticket_id, "需要办理食品生产许可证。")
    iid = int(rig.queued(NotificationKind.EXPERT_ANSWER)[0].notification.data["interaction_id"])
    result = rig.desk.feedback(ASKER, iid, True)
    assert f"#{ticket.ticket_id}" in result.text
    assert rig.desk.ticket(ASKER, ticket.ticket_id).status is TicketStatus.CLOSED


def test_not_solved_on_the_expert_answer_reopens_it_for_the_experts(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    rig.desk.answer_ticket(FOOD_EXPERT, ticket.ticket_id, "去市场监管局问问。")
    iid = int(rig.queued(NotificationKind.EXPERT_ANSWER)[0].notification.data["interaction_id"])
    result = rig.desk.feedback(ASKER, iid, False)
    assert result.ticket is not None and result.ticket.status is TicketStatus.OPEN
    assert result.ticket.reopen_count == 1
    (again,) = rig.queued(NotificationKind.REANNOUNCE)[:1]
    assert "去市场监管局问问。" in again.notification.text
    # the channel's 没解决 button may call reopen directly: it counts as not helpful too
    rig.desk.answer_ticket(FOOD_EXPERT, ticket.ticket_id, "请办理食品生产许可证。")
    rig.desk.reopen(ASKER, ticket.ticket_id)
    assert rig.desk.stats(ADMIN).not_helpful == 2
    with pytest.raises(NotPermitted):
        rig.desk.reopen(OTHER, ticket.ticket_id)


def test_an_expert_may_change_the_domain(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, "出口到欧盟的玩具需要做哪些CE认证？").ticket
    assert ticket is not None
    changed = rig.desk.set_domain(METROLOGIST, ticket.ticket_id, Domain.TESTING)
    assert changed.domain is Domain.TESTING
    with pytest.raises(NotPermitted):
        rig.desk.set_domain(ASKER, ticket.ticket_id, Domain.FOOD)


# --- re-announcement --------------------------------------------------------------------------
def test_an_unclaimed_ticket_is_announced_again_to_its_domain_then_to_everyone(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    rig.clock.advance(minutes=29)
    assert rig.desk.reannounce_due() == 0
    rig.clock.advance(minutes=2)
    assert rig.desk.reannounce_due() == 2
    assert rig.recipients(NotificationKind.REANNOUNCE) == [FOOD_EXPERT.key, GROUP.key]
    assert "31 分钟" in rig.queued(NotificationKind.REANNOUNCE)[0].notification.text
    assert rig.desk.reannounce_due() == 0
    rig.clock.advance(minutes=31)
    assert rig.desk.reannounce_due() == 3
    assert rig.recipients(NotificationKind.REANNOUNCE)[2:] == [
        METROLOGIST.key,
        FOOD_EXPERT.key,
        GROUP.key,
    ]
    assert "本领域暂无专家认领" in rig.queued(NotificationKind.REANNOUNCE)[-1].notification.text
    rig.clock.advance(hours=3)
    assert rig.desk.reannounce_due() == 0


def test_a_claimed_ticket_is_not_announced_again(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    rig.desk.claim(FOOD_EXPERT, ticket.ticket_id)
    rig.clock.advance(hours=2)
    assert rig.desk.reannounce_due() == 0


def test_without_domain_experts_the_second_announcement_is_the_last(rig: Rig) -> None:
    rig.desk.ask(ASKER, "出口到欧盟的玩具需要做哪些CE认证？")
    rig.clock.advance(minutes=31)
    assert rig.desk.reannounce_due() == 3  # everyone already: both experts and the group
    rig.clock.advance(minutes=31)
    assert rig.desk.reannounce_due() == 0


# --- roles --------------------------------------------------------------------------------------
def test_admins_manage_experts(rig: Rig) -> None:
    with pytest.raises(NotPermitted):
        rig.desk.add_expert(FOOD_EXPERT, GENERALIST)
    person = rig.desk.add_expert(ADMIN, GENERALIST, [Domain.QUALITY, Domain.OTHER])
    assert (person.role, person.domains) == (Role.EXPERT, (Domain.QUALITY, Domain.OTHER))
    assert GENERALIST.key in [p.user.key for p in rig.desk.experts(ADMIN)]
    assert rig.desk.role_of(GENERALIST) is Role.EXPERT
    removed = rig.desk.remove_expert(ADMIN, GENERALIST)
    assert removed.role is Role.ASKER
    assert rig.desk.role_of(GENERALIST) is Role.ASKER
    with pytest.raises(NotPermitted):
        rig.desk.remove_expert(ADMIN, ADMIN)
    with pytest.raises(NotPermitted):
        rig.desk.experts(ASKER)


# --- channel memory ----------------------------------------------------------------------------
def test_the_channels_memory_is_not_the_desks() -> None:
    """Channels keep what they remember in ``core.ports.ChannelMemory``, handed to them by the
    root: the desk contract has none of it."""
    from desk.api import DeskApi

    for name in ("record_inbound", "save_reply", "remember_key", "hold", "link_ticket_message"):
        assert not hasattr(DeskApi, name) and not hasattr(Desk, name)
