"""The escalation store on SQLite and PostgreSQL: people and roles, the ticket life cycle,
interactions, the FAQ mirror and channel state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.answers import Answer, Citation, Decision, EscalationReason, FaqEntry, FaqStatus
from core.errors import (
    AlreadyClaimed,
    ConfigurationError,
    InvalidTransition,
    NotPermitted,
    TicketNotFound,
)
from core.people import Channel, Domain, Role, UserRef
from core.tickets import NotificationKind, TicketStatus
from escalation.channel_memory import StoreChannelMemory
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.databases import BACKENDS, fresh_database

pytestmark = pytest.mark.integration

ASKER = UserRef(Channel.TELEGRAM, "1001", "1001", "王老板")
OTHER_ASKER = UserRef(Channel.WECHAT, "o-abc", None, "赵经理")
LI = UserRef(Channel.TELEGRAM, "2001", display_name="李工")
ZHANG = UserRef(Channel.TELEGRAM, "2002", display_name="张工")
CITE = Citation(
    "L03_计量法_2018.md", "中华人民共和国计量法", "c1", "第九条……", 0.4, article="第九条"
)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EscalationStore]:
    with fresh_database(request.param, tmp_path) as url:
        opened = EscalationStore.open(url, clock=FakeClock())
        try:
            yield opened
        finally:
            opened.close()


def clock_of(store: EscalationStore) -> FakeClock:
    assert isinstance(store.clock, FakeClock)
    return store.clock


def open_ticket(store: EscalationStore, question: str = "电子秤要检定吗", asker: UserRef = ASKER):
    with store.transaction() as tx:
        tx.people.touch(asker)
        return tx.tickets.open(
            asker, question, Domain.METROLOGY, draft_answer="草稿", passages=(CITE,)
        )


# --- people ---------------------------------------------------------------------------------
def test_roles_are_seeded_from_settings_strings(store: EscalationStore) -> None:
    store.seed_roles(
        admins=["telegram:9", "console:admin"],
        experts=["telegram:2001=metrology|food", "wechat:o-x", "console:admin=quality"],
    )
    with store.reading() as tx:
        people = {p.user.key: p for p in tx.people.staff()}
        assert people["telegram:9"].role is Role.ADMIN
        assert people["telegram:2001"].role is Role.EXPERT
        assert people["telegram:2001"].domains == (Domain.METROLOGY, Domain.FOOD)
        assert people["wechat:o-x"].domains == ()
        assert people["console:admin"].role is Role.ADMIN
        assert people["console:admin"].domains == (Domain.QUALITY,)
        assert tx.people.role(ASKER) is Role.ASKER
        food = {p.user.key for p in tx.people.ticket_takers(Domain.FOOD)}
        # the food expert, the expert without domains; not the admin without domains
        assert food == {"telegram:2001", "wechat:o-x"}
        quality = {p.user.key for p in tx.people.ticket_takers(Domain.QUALITY)}
        assert quality == {"wechat:o-x", "console:admin"}


@pytest.mark.parametrize("spec", ["telegram", "fax:1", "telegram:1=astrology"])
def test_a_malformed_role_entry_is_refused(store: EscalationStore, spec: str) -> None:
    with pytest.raises(ConfigurationError):
        store.seed_roles(experts=[spec])


def test_seeding_again_keeps_names_learned_from_the_channel(store: EscalationStore) -> None:
    store.seed_roles(experts=["telegram:2001=metrology"])
    with store.transaction() as tx:
        tx.people.touch(LI)
    store.seed_roles(experts=["telegram:2001=metrology|testing"])
    with store.reading() as tx:
        li = tx.people.get("telegram:2001")
    assert li is not None
    assert li.user.display_name == "李工"
    assert li.domains == (Domain.METROLOGY, Domain.TESTING)


# --- tickets ----------------------------------------------------------------------------------
def test_a_ticket_keeps_question_asker_draft_and_passages(store: EscalationStore) -> None:
    ticket = open_ticket(store)
    with store.reading() as tx:
        again = tx.tickets.get(ticket.ticket_id)
    assert again.asker == ASKER
    assert again.status is TicketStatus.OPEN
    assert again.domain is Domain.METROLOGY
    assert again.draft_answer == "草稿"
    assert again.passages == (CITE,)
    assert again.created_at == clock_of(store).now()


def test_the_same_asker_repeating_an_open_question_finds_the_ticket(
    store: EscalationStore,
) -> None:
    ticket = open_ticket(store, "我们厂的电子秤需要强制检定吗？")
    with store.reading() as tx:
        assert tx.tickets.find_repeat(ASKER, "我们厂的电子秤需要强制检定吗").ticket_id == (
            ticket.ticket_id
        )
        assert tx.tickets.find_repeat(OTHER_ASKER, "我们厂的电子秤需要强制检定吗？") is None
        assert tx.tickets.find_repeat(ASKER, "食品标签上必须标注哪些内容？") is None


def test_claim_then_someone_else_is_told_who_holds_it(store: EscalationStore) -> None:
    ticket = open_ticket(store)
    clock_of(store).advance(minutes=5)
    with store.transaction() as tx:
        claimed = tx.tickets.claim(ticket.ticket_id, LI)
    assert claimed.status is TicketStatus.CLAIMED
    assert claimed.claimed_by == LI.key
    assert claimed.claimed_at == ticket.created_at + timedelta(minutes=5)
    with pytest.raises(AlreadyClaimed) as raised, store.transaction() as tx:
        tx.tickets.claim(ticket.ticket_id, ZHANG)
    assert raised.value.holder == "李工"
    with store.transaction() as tx:  # claiming what one holds changes nothing
        assert tx.tickets.claim(ticket.ticket_id, LI).claimed_at == claimed.claimed_at


def test_release_only_by_the_holder_unless_forced(store: EscalationStore) -> None:
    ticket = open_ticket(store)
    with store.transaction() as tx:
        tx.tickets.claim(ticket.ticket_id, LI)
    with pytest.raises(NotPermitted), store.transaction() as tx:
        tx.tickets.release(ticket.ticket_id, ZHANG)
    with store.transaction() as tx:
        released = tx.tickets.release(ticket.ticket_id, ZHANG, force=True)
    assert released.status is TicketStatus.OPEN
    assert released.claimed_by is None
    with store.transaction() as tx:
        assert tx.tickets.claim(ticket.ticket_id, ZHANG).claimed_by == ZHANG.key


def test_reassign_hands_the_ticket_over(store: EscalationStore) -> None:
    ticket = open_ticket(store)
    with store.transaction() as tx:
        tx.tickets.claim(ticket.ticket_id, LI)
        moved = tx.tickets.reassign(ticket.ticket_id, LI, ZHANG)
    assert moved.claimed_by == ZHANG.key
    assert moved.claimed_by_name == "张工"


def test_answering_an_open_ticket_claims_it_but_not_one_held_by_another(
    store: EscalationStore,
) -> None:
    first, second = open_ticket(store, "问题一"), open_ticket(store, "问题二")
    with store.transaction() as tx:
        answered = tx.tickets.answer(first.ticket_id, LI, "答复一")
        tx.tickets.claim(second.ticket_id, ZHANG)
    assert answered.status is TicketStatus.ANSWERED
    assert (answered.claimed_by, answered.answered_by, answered.answer) == (
        LI.key,
        LI.key,
        "答复一",
    )
    assert answered.answered_at == answered.claimed_at
    with pytest.raises(AlreadyClaimed), store.transaction() as tx:
        tx.tickets.answer(second.ticket_id, LI, "抢答")
    with store.transaction() as tx:  # an admin may answer anyway
        assert tx.tickets.answer(second.ticket_id, LI, "管理员答复", force=True).answer == (
            "管理员答复"
        )
    with pytest.raises(InvalidTransition), store.transaction() as tx:
        tx.tickets.answer(first.ticket_id, LI, "再答一次")


def test_cancel_reopen_and_close_follow_the_life_cycle(store: EscalationStore) -> None:
    ticket = open_ticket(store)
    with pytest.raises(NotPermitted), store.transaction() as tx:
        tx.tickets.cancel(ticket.ticket_id, OTHER_ASKER)
    with store.transaction() as tx:
        tx.tickets.answer(ticket.ticket_id, LI, "答复")
    with pytest.raises(InvalidTransition), store.transaction() as tx:
        tx.tickets.cancel(ticket.ticket_id, ASKER)
    with store.transaction() as tx:
        reopened = tx.tickets.reopen(ticket.ticket_id, ASKER)
    assert reopened.status is TicketStatus.OPEN
    assert reopened.reopen_count == 1
    assert reopened.answer == "答复"  # kept for the next expert
    assert reopened.claimed_by is None
    with store.transaction() as tx:
        tx.tickets.answer(ticket.ticket_id, ZHANG, "更好的答复")
        closed = tx.tickets.close(ticket.ticket_id, ASKER)
    assert closed.status is TicketStatus.CLOSED
    with store.reading() as tx:
        actions = [e.action for e in tx.tickets.events(ticket.ticket_id)]
    assert actions == ["opened", "answered", "reopened", "answered", "closed"]

    other = open_ticket(store, "另一个问题")
    with store.transaction() as tx:
        cancelled = tx.tickets.cancel(other.ticket_id, ASKER)
    assert cancelled.status is TicketStatus.CANCELLED
    assert cancelled.closed_at is not None


def test_an_unknown_ticket_is_reported(store: EscalationStore) -> None:
    with pytest.raises(TicketNotFound), store.reading() as tx:
        tx.tickets.get(424242)


def test_a_failed_transaction_leaves_no_answer_and_no_notification(
    store: EscalationStore,
) -> None:
    ticket = open_ticket(store)

    class Crash(Exception):
        pass

    with pytest.raises(Crash), store.transaction() as tx:
        tx.tickets.answer(ticket.ticket_id, LI, "答复")
        tx.outbox.enqueue(NotificationKind.EXPERT_ANSWER, ASKER, "答复", ticket_id=ticket.ticket_id)
        raise Crash
    with store.reading() as tx:
        assert tx.tickets.get(ticket.ticket_id).status is TicketStatus.OPEN
        assert tx.outbox.records() == []


def test_reannouncement_moves_each_ticket_up_one_level_once(store: EscalationStore) -> None:
    clock = clock_of(store)
    old = open_ticket(store, "旧问题")
    clock.advance(minutes=20)
    fresh = open_ticket(store, "新问题")
    clock.advance(minutes=15)
    cutoff = clock.now() - timedelta(minutes=30)
    with store.transaction() as tx:
        due = tx.tickets.reannounce_due(cutoff)
    assert [(t.ticket_id, level) for t, level in due] == [(old.ticket_id, 1)]
    with store.transaction() as tx:
        assert tx.tickets.reannounce_due(cutoff) == []
    clock.advance(minutes=31)
    with store.transaction() as tx:
        due = tx.tickets.reannounce_due(clock.now() - timedelta(minutes=30))
    assert [(t.ticket_id, level) for t, level in due] == [(old.ticket_id, 2), (fresh.ticket_id, 1)]
    clock.advance(hours=5)
    with store.transaction() as tx:
        due = tx.tickets.reannounce_due(clock.now() - timedelta(minutes=30))
    assert [(t.ticket_id, level) for t, level in due] == [(fresh.ticket_id, 2)]


# --- interactions -------------------------------------------------------------------------------
def test_interactions_keep_the_answer_and_the_feedback(store: EscalationStore) -> None:
    answer = Answer("电子秤要检定吗", Decision.ANSWER, "要。", (CITE,), 0.8)
    with store.transaction() as tx:
        tx.people.touch(ASKER)
        iid = tx.interactions.record(ASKER, answer)
    with pytest.raises(NotPermitted), store.transaction() as tx:
        tx.interactions.set_feedback(OTHER_ASKER, iid, True)
    with store.transaction() as tx:
        found = tx.interactions.set_feedback(ASKER, iid, False)
    assert (found.question, found.answer_text, found.citations) == (
        "电子秤要检定吗",
        "要。",
        (CITE,),
    )
    assert found.feedback == "not_helpful"
    with pytest.raises(NotPermitted), store.reading() as tx:
        tx.interactions.get(iid + 1000)


def test_invalid_questions_are_recorded_with_their_decision(store: EscalationStore) -> None:
    refused = Answer("", Decision.ESCALATE, "请描述问题", reason=EscalationReason.INVALID)
    with store.transaction() as tx:
        tx.people.touch(ASKER)
        iid = tx.interactions.record(ASKER, refused, decision="invalid")
        assert tx.interactions.get(iid).decision == "invalid"


# --- FAQ mirror -------------------------------------------------------------------------------
def test_faq_entries_are_flagged_when_a_source_changes_and_can_be_withdrawn(
    store: EscalationStore,
) -> None:
    ticket = open_ticket(store)
    entry = FaqEntry(
        "faq-1",
        "电子秤要检定吗",
        "要检定。",
        ("L03_计量法_2018.md", "L08_计量法实施细则_2022.md"),
        "李工",
        "2025-03-03T09:00:00+00:00",
        ticket.ticket_id,
    )
    other = FaqEntry("faq-2", "3C认证", "看目录。", ("L04_认证认可条例_2023.md",), "张工")
    with store.transaction() as tx:
        saved = tx.faq.save(entry)
        tx.faq.save(other)
    assert saved.entry.sources == ("L03_计量法_2018.md", "L08_计量法实施细则_2022.md")
    assert saved.status is FaqStatus.ACTIVE
    with store.transaction() as tx:
        flagged = tx.faq.flag_citing(["L08_计量法实施细则_2022.md"], "replaced")
    assert flagged == ["faq-1"]
    with store.reading() as tx:
        assert [r.entry.faq_id for r in tx.faq.find(flagged=True)] == ["faq-1"]
    with store.transaction() as tx:  # publishing again (an update) clears the flag
        tx.faq.save(FaqEntry("faq-1", "电子秤要检定吗", "要，每年一次。", ("L03_计量法_2018.md",)))
        withdrawn = tx.faq.withdraw("faq-2")
    assert withdrawn is not None and withdrawn.status is FaqStatus.WITHDRAWN
    with store.reading() as tx:
        updated = tx.faq.get("faq-1")
        assert updated is not None
        assert (updated.flagged, updated.entry.answer) == (False, "要，每年一次。")
        assert updated.entry.sources == ("L03_计量法_2018.md",)
        assert tx.faq.flag_citing(["L04_认证认可条例_2023.md"], "removed") == []


# --- channel memory ------------------------------------------------------------------------------
def test_inbound_messages_are_deduplicated_and_activity_noted(store: EscalationStore) -> None:
    memory = StoreChannelMemory(store)
    assert memory.last_inbound(ASKER) is None
    assert memory.record_inbound(ASKER, "wx:msg-1") is True
    assert memory.record_inbound(ASKER, "wx:msg-1") is False
    clock_of(store).advance(hours=1)
    assert memory.record_inbound(ASKER, "wx:msg-2") is True
    assert memory.last_inbound(ASKER) == clock_of(store).now()


def test_replies_are_kept_for_redeliveries(store: EscalationStore) -> None:
    memory = StoreChannelMemory(store)
    assert memory.saved_reply("wx:msg-1") is None
    memory.save_reply("wx:msg-1", "第一次")
    memory.save_reply("wx:msg-1", "更新后")
    assert memory.saved_reply("wx:msg-1") == "更新后"
    assert memory.value("wx:msg-1") is None  # a saved reply is not a kept value
    memory.set_value("wechat-token:wx1", "t1")
    memory.set_value("wechat-token:wx1", "t2")
    assert memory.value("wechat-token:wx1") == "t2"


def test_held_messages_come_out_once_oldest_first(store: EscalationStore) -> None:
    memory = StoreChannelMemory(store)
    memory.hold(ASKER, "专家答复一")
    memory.hold(OTHER_ASKER, "别人的")
    memory.hold(ASKER, "专家答复二")
    assert memory.take_held(ASKER) == ["专家答复一", "专家答复二"]
    assert memory.take_held(ASKER) == []
    assert memory.take_held(OTHER_ASKER) == ["别人的"]


def test_channel_messages_map_to_tickets(store: EscalationStore) -> None:
    memory = StoreChannelMemory(store)
    ticket = open_ticket(store)
    memory.link_ticket_message(ticket.ticket_id, "telegram", "-100:5")
    memory.link_ticket_message(ticket.ticket_id, "telegram", "-100:9")
    memory.link_ticket_message(ticket.ticket_id, "wechat", "robot:1")
    assert memory.ticket_for_message("telegram", "-100:5") == ticket.ticket_id
    assert memory.ticket_for_message("telegram", "-100:6") is None
    assert memory.ticket_messages(ticket.ticket_id, "telegram") == ["-100:5", "-100:9"]
    assert memory.ticket_messages(ticket.ticket_id, "wechat") == ["robot:1"]


def test_old_message_keys_are_pruned(store: EscalationStore) -> None:
    memory = StoreChannelMemory(store)
    memory.record_inbound(ASKER, "old")
    memory.save_reply("old", "旧回复")
    clock_of(store).advance(days=3)
    memory.record_inbound(ASKER, "new")
    with store.transaction() as tx:
        gone = tx.channel.prune(clock_of(store).now() - timedelta(days=2))
    assert gone == 2
    assert memory.record_inbound(ASKER, "new") is False
    assert memory.saved_reply("old") is None
