"""Experts in their group (and privately): cards, claims, answers, publishing, the queue.

The outbox is played by calling the channel's notifier with the notifications the desk would
queue; everything else goes through the stand-in Bot API over HTTP.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import prompts
from core.answers import Citation
from core.people import Channel, Role, UserRef
from core.tickets import Notification, NotificationKind, Ticket, TicketStatus
from tests.fakes.desk import FakeDesk
from tests.fakes.telegram_api import FakeBotApi, SentMessage
from tests.fakes.telegram_harness import (
    EXPERT_CHAT,
    Telegram,
    group_chat,
    no_proxy,
    running_bot,
    tg_user,
)

pytestmark = pytest.mark.e2e

ASKER = tg_user(1001, "老板")
WANG = tg_user(2001, "王工")
LI = tg_user(2002, "李工")
OUTSIDER = tg_user(3003, "路人")
GROUP = group_chat(EXPERT_CHAT)
WANG_REF = UserRef(Channel.TELEGRAM, "2001", "2001", "王工")
GROUP_REF = UserRef(Channel.TELEGRAM, str(EXPERT_CHAT), str(EXPERT_CHAT))
_ids = itertools.count(1)


@pytest.fixture
async def api():
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


@pytest.fixture
def desk() -> FakeDesk:
    return FakeDesk(roles={"telegram:2001": Role.EXPERT, "telegram:2002": Role.EXPERT})


async def open_ticket(tg: Telegram, api: FakeBotApi, desk: FakeDesk, question: str) -> Ticket:
    """The asker asks something the desk cannot answer; the ticket gets a draft and passages."""
    before = set(desk.tickets)
    await tg.text(ASKER, question)
    await api.wait_for(lambda: set(desk.tickets) - before, what="ticket opened")
    [tid] = set(desk.tickets) - before
    passage = Citation("L03.md", "中华人民共和国计量法", "c9", "第九条 " + "强制检定的计量器具" * 60,
                       0.71, article="第九条", quote="用于贸易结算的计量器具实行强制检定。")  # fmt: skip
    desk.tickets[tid] = replace(
        desk.tickets[tid], draft_answer="可能需要强制检定 <草稿> & 待确认", passages=(passage,)
    )
    return desk.tickets[tid]


async def announce(channel, ticket: Ticket, recipient: UserRef = WANG_REF,
                   kind: NotificationKind = NotificationKind.NEW_TICKET) -> None:  # fmt: skip
    text = f"新问题 #{ticket.ticket_id}：{ticket.question}"
    await channel.notifier.send(Notification(next(_ids), kind, recipient, text, ticket.ticket_id))


async def card_for(api: FakeBotApi, ticket: Ticket, chat: int = EXPERT_CHAT) -> SentMessage:
    return await api.wait_message(chat, f"#{ticket.ticket_id}")


async def test_new_ticket_card_shows_everything_experts_need_and_is_remembered(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, "电子秤<大>需要强制检定吗？")
        await announce(channel, ticket, GROUP_REF)  # the group itself is not staff: text card
        await announce(channel, ticket, GROUP_REF)  # a retried NEW_TICKET posts nothing
        card = await card_for(api, ticket)
        [fallback] = api.messages(EXPERT_CHAT)
        assert f"新问题 #{ticket.ticket_id}：电子秤<大>需要强制检定吗？" in fallback.plain
        assert fallback.buttons() == [
            ("认领", f"tk:{ticket.ticket_id}:c"),
            ("查看原文", f"tk:{ticket.ticket_id}:v"),
        ]
        await announce(channel, ticket, WANG_REF, NotificationKind.REANNOUNCE)  # rendered in full
        card = await api.wait_message(2001, "仍未认领")
    for text in ["电子秤<大>需要强制检定吗？", "领域：其他", "提问渠道：Telegram", "可能需要强制检定 <草稿> & 待确认",
                 "《中华人民共和国计量法》第九条", "用于贸易结算的计量器具实行强制检定。", "状态：待认领"]:  # fmt: skip
        assert text in card.plain
    refs = desk.memory.ticket_messages(ticket.ticket_id, "telegram")
    assert refs == [f"{EXPERT_CHAT}:{fallback.message_id}", f"2001:{card.message_id}"]


async def test_two_experts_race_to_claim_and_the_slower_is_told_who_won(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, "食品标签怎么标？")
        await announce(channel, ticket, WANG_REF)
        await announce(channel, ticket, UserRef(Channel.TELEGRAM, "2002", "2002", "李工"))
        await announce(channel, ticket, GROUP_REF)
        card = await card_for(api, ticket)
        q_wang = await tg.press(WANG, card, card.button("认领"))
        q_li = await tg.press(LI, card, card.button("认领"))
        await api.wait_for(
            lambda: {q_wang, q_li} <= set(api.callback_answers), what="both answered"
        )
        await api.wait_for(lambda: "已认领" in card.plain and len(api.messages(2002))
                           and "已认领" in api.messages(2002)[0].plain, what="cards redrawn")  # fmt: skip
    answers = {api.callback_answers[q]["text"] for q in (q_wang, q_li)}
    winner = desk.tickets[ticket.ticket_id].claimed_by_name
    loser = "李工" if winner == "王工" else "王工"
    assert answers == {
        f"您已认领 #{ticket.ticket_id}，请直接回复工单卡片作答。",
        f"慢了一步：{winner} 已经认领了这个问题。",
    }
    assert loser not in card.plain and f"{winner} 已认领" in card.plain
    assert card.buttons() == [("查看原文", f"tk:{ticket.ticket_id}:v")]
    assert all(f"{winner} 已认领" in m.plain for m in api.messages(2001) + api.messages(2002))


async def test_someone_in_the_group_who_is_not_an_expert_cannot_claim_or_answer(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, "认证证书过期怎么办？")
        await announce(channel, ticket, GROUP_REF)
        card = await card_for(api, ticket)
        query = await tg.press(OUTSIDER, card, card.button("认领"))
        await api.wait_for(lambda: query in api.callback_answers)
        reply = await tg.text(OUTSIDER, "我觉得不用管", chat=GROUP, reply_to=card)
        refusal = await api.wait_message(EXPERT_CHAT, "只有专家")
    assert api.callback_answers[query]["text"] == prompts.text("telegram.expert.not_expert")
    assert api.callback_answers[query]["show_alert"] in (True, "true", "True")
    assert refusal.reply_to == reply["message"]["message_id"]
    assert desk.tickets[ticket.ticket_id].status is TicketStatus.OPEN
    assert desk.tickets[ticket.ticket_id].answer is None


async def test_expert_reply_to_card_answers_and_the_answer_reaches_the_asker(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, "计量器具要送检吗？")
        await announce(channel, ticket, GROUP_REF)
        card = await card_for(api, ticket)
        await tg.press(WANG, card, card.button("认领"))
        await api.wait_for(lambda: "王工 已认领" in card.plain)
        reply = await tg.text(
            WANG, "需要送检。<依据> 计量法第九条 & 细则", chat=GROUP, reply_to=card
        )
        sent = await api.wait_message(EXPERT_CHAT, "答复已发送给提问者")
        await api.wait_for(lambda: "王工 已答复" in card.plain, what="card shows the answer")
        assert sent.reply_to == reply["message"]["message_id"]
        assert sent.buttons() == [("发布到知识库", f"tk:{ticket.ticket_id}:p")]
        assert [label for label, _ in card.buttons()] == ["发布到知识库", "查看原文"]
        answered = desk.tickets[ticket.ticket_id]
        assert (answered.status, answered.answer) == (
            TicketStatus.ANSWERED,
            "需要送检。<依据> 计量法第九条 & 细则",
        )

        # the outbox delivers the answer to the asker, with the feedback buttons
        text = f"关于您的问题（工单 #{ticket.ticket_id}），王工答复如下：\n\n{answered.answer}"
        await channel.notifier.send(Notification(next(_ids), NotificationKind.EXPERT_ANSWER,
                                                 answered.asker, text, ticket.ticket_id))  # fmt: skip
        delivered = await api.wait_message(1001, "王工答复如下")
        assert delivered.plain.startswith(f"专家答复了您的问题 #{ticket.ticket_id}")
        assert "需要送检。<依据> 计量法第九条 & 细则" in delivered.plain
        assert [label for label, _ in delivered.buttons()] == ["👍 有用", "没解决", "转人工专家"]
        await tg.press(ASKER, delivered, delivered.button("没解决"))
        await api.wait_message(1001, f"已把工单 #{ticket.ticket_id} 退回专家")
    assert desk.tickets[ticket.ticket_id].status is TicketStatus.OPEN


async def test_publish_button_publishes_and_updates_the_card(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, "网店要公示许可证吗？")
        await announce(channel, ticket, GROUP_REF)
        card = await card_for(api, ticket)
        await tg.text(
            WANG, f"/answer {ticket.ticket_id} 需要。\n依据：电子商务法第十五条", chat=GROUP
        )
        sent = await api.wait_message(EXPERT_CHAT, "答复已发送给提问者")
        query = await tg.press(WANG, sent, sent.button("发布到知识库"))
        await api.wait_for(lambda: "已发布到知识库" in card.plain and sent.reply_markup is None)
    assert api.callback_answers[query]["text"].startswith(
        f"已发布到知识库（条目 faq-{ticket.ticket_id}）"
    )
    assert desk.tickets[ticket.ticket_id].published_faq_id == f"faq-{ticket.ticket_id}"
    assert desk.tickets[ticket.ticket_id].answer == "需要。\n依据：电子商务法第十五条"
    assert card.buttons() == [("查看原文", f"tk:{ticket.ticket_id}:v")]


async def test_answer_command_explains_its_mistakes(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, "检验报告有效期？")
        await announce(channel, ticket, GROUP_REF)
        await card_for(api, ticket)
        for text, expected in [
            ("/answer", "用法：/answer"),
            (f"/answer {ticket.ticket_id}", "答复内容不能为空"),
            ("/answer 999 有答复", prompts.error_text("ticket_not_found")),
        ]:
            await tg.text(WANG, text, chat=GROUP)
            await api.wait_message(EXPERT_CHAT, expected)
    assert desk.tickets[ticket.ticket_id].answer is None


async def test_view_original_sends_the_whole_question_and_passages(api, desk):
    tg = Telegram(api)
    question = "请问" + "关于实验室资质认定的细节，" * 150
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, question)
        await announce(channel, ticket, GROUP_REF)
        card = await card_for(api, ticket)
        await tg.press(WANG, card, card.button("查看原文"))
        first = await api.wait_message(EXPERT_CHAT, f"工单 #{ticket.ticket_id} 原文")
        await api.wait_for(lambda: any("强制检定的计量器具" * 60 in m.plain.replace("\n", "")
                                       for m in api.messages(EXPERT_CHAT)))  # fmt: skip
    assert first.reply_to == card.message_id
    everything = "".join(m.plain for m in api.messages(EXPERT_CHAT)).replace("\n", "")
    assert question in everything


async def test_queue_lists_open_tickets_oldest_first_and_stats_for_experts_only(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        tickets = [await open_ticket(tg, api, desk, f"排队问题{n}") for n in range(3)]
        now = datetime.now(UTC)
        for age, ticket in zip((5, 50, 500), tickets, strict=True):
            desk.tickets[ticket.ticket_id] = replace(
                ticket, created_at=now - timedelta(minutes=age)
            )
        await tg.text(WANG, "/queue", chat=GROUP)
        queue = await api.wait_message(EXPERT_CHAT, "待处理工单")
        await tg.text(OUTSIDER, "/queue", chat=GROUP)
        await api.wait_message(EXPERT_CHAT, "只有专家")
        await tg.text(WANG, "/stats", chat=GROUP)
        stats = await api.wait_message(EXPERT_CHAT, "服务统计")
        await tg.text(OUTSIDER, "/stats", chat=GROUP)
        await api.wait_for(
            lambda: len([m for m in api.messages(EXPERT_CHAT) if "只有专家" in m.plain]) == 2
        )
    lines = queue.plain.splitlines()
    order = [next(i for i, line in enumerate(lines) if f"排队问题{n}" in line) for n in (2, 1, 0)]
    assert order == sorted(order)
    assert "8 小时前" in queue.plain and "5 分钟前" in queue.plain
    assert [data for _, data in queue.buttons()] == [
        f"tk:{t.ticket_id}:c" for t in reversed(tickets)
    ]
    assert "收到的问题：3" in stats.plain and "转交专家：3" in stats.plain


async def test_restart_in_the_middle_of_an_expert_answering(api, desk):
    """The card→ticket link lives in the desk: a new process finds it, and updates sent while
    the bot was down are not lost."""
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, "出口商品要法检吗？")
        await announce(channel, ticket, GROUP_REF)
        card = await card_for(api, ticket)
        await tg.press(WANG, card, card.button("认领"))
        await api.wait_for(lambda: "王工 已认领" in card.plain)
    await tg.text(
        WANG, "列入目录的进出口商品须经法定检验。", chat=GROUP, reply_to=card
    )  # bot is down
    async with running_bot(api, desk) as channel:
        await api.wait_message(EXPERT_CHAT, "答复已发送给提问者")
        await api.wait_for(lambda: "王工 已答复" in card.plain)
        assert desk.tickets[ticket.ticket_id].answer == "列入目录的进出口商品须经法定检验。"
        text = f"工单 #{ticket.ticket_id}：{desk.tickets[ticket.ticket_id].answer}"
        await channel.notifier.send(Notification(next(_ids), NotificationKind.EXPERT_ANSWER,
                                                 ticket.asker, text, ticket.ticket_id))  # fmt: skip
        await api.wait_message(1001, "列入目录的进出口商品须经法定检验。")


async def test_claim_made_elsewhere_redraws_every_card(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, "商品条码要注册吗？")
        await announce(channel, ticket, GROUP_REF)
        await announce(channel, ticket, WANG_REF)
        group_card, own_card = await card_for(api, ticket), await card_for(api, ticket, 2001)
        desk.roles["console:li"] = Role.EXPERT
        desk.roles[GROUP_REF.key] = Role.EXPERT  # like the real desk: destinations see tickets
        desk.claim(UserRef(Channel.CONSOLE, "li", None, "李工"), ticket.ticket_id)
        await channel.notifier.send(Notification(next(_ids), NotificationKind.TICKET_CLAIMED,
                                                 GROUP_REF, "已认领", ticket.ticket_id))  # fmt: skip
        await api.wait_for(
            lambda: "李工 已认领" in group_card.plain and "李工 已认领" in own_card.plain
        )
        assert (
            group_card.buttons() == own_card.buttons() == [("查看原文", f"tk:{ticket.ticket_id}:v")]
        )


async def test_expert_answers_a_card_sent_privately_and_asker_replies_are_questions(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, "ISO9001 证书能挂靠吗？")
        await announce(channel, ticket, WANG_REF)
        card = await card_for(api, ticket, 2001)
        await tg.text(WANG, "不能，属于违规行为。", reply_to=card)
        await api.wait_message(2001, "答复已发送给提问者")
        [escalated] = [m for m in api.messages(1001) if "已转交专家" in m.plain]
        await tg.text(ASKER, "那3C呢？", reply_to=escalated)
        await api.wait_message(1001, "强制性产品认证")
    assert desk.tickets[ticket.ticket_id].answer == "不能，属于违规行为。"
    assert [q for _, q in desk.asked][-1] == "那3C呢？"


async def test_cards_are_kept_apart_from_group_chatter(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        ticket = await open_ticket(tg, api, desk, "型式试验报告谁出？")
        await announce(channel, ticket, GROUP_REF)
        card = await card_for(api, ticket)
        await tg.text(WANG, "/answer", chat=GROUP)
        usage = await api.wait_message(EXPERT_CHAT, "用法：/answer")
        chatter = await tg.text(
            LI, "收到", chat=GROUP, reply_to=usage
        )  # a reply, but not to a card
        plain = await tg.text(LI, "大家早", chat=GROUP)
        await api.wait_for(
            lambda: api.confirmed(plain["update_id"]) and api.confirmed(chatter["update_id"])
        )
    assert [m.message_id for m in api.messages(EXPERT_CHAT)] == [card.message_id, usage.message_id]
    assert desk.tickets[ticket.ticket_id].answer is None
