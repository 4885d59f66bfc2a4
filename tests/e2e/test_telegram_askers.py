"""Business owners in their private chat, driven through the stand-in Bot API over HTTP.

The real python-telegram-bot Application runs against ``tests.fakes.telegram_api`` with an
in-memory desk; assertions are on what the stand-in server received.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

import prompts
from core.people import Channel, UserRef
from core.tickets import TicketStatus
from tests.fakes.desk import FakeDesk
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import (
    EXPERT_CHAT,
    Telegram,
    group_chat,
    no_proxy,
    running_bot,
    tg_user,
)

pytestmark = pytest.mark.e2e

ALICE = tg_user(1001, "爱丽丝", "王")
ALICE_REF = UserRef(Channel.TELEGRAM, "1001", "1001", "爱丽丝 王")


@pytest.fixture
async def api():
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


@pytest.fixture
def desk() -> FakeDesk:
    return FakeDesk(
        answers={
            "3C": "列入目录的产品须经强制性产品认证。",
            "标志": "答复里有 <b>标签</b> & 符号，以及 1<2。",
            "长篇": "第一条 计量器具应当依法检定。" * 700,
        }
    )


async def test_polling_start_up_order_and_stop_confirms_updates(api: FakeBotApi, desk: FakeDesk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await api.wait_for(lambda: api.polling == 1, what="long polling")
        methods = [c.method for c in api.calls]
        assert methods[0] == "getMe"
        assert methods.index("deleteWebhook") < methods.index("getUpdates")
        assert "sendMessage" not in methods
        private = api.commands['{"type": "all_private_chats"}']
        assert [c["command"] for c in private] == ["start", "help", "my", "cancel"]
        group = api.commands[f'{{"chat_id": {EXPERT_CHAT}, "type": "chat"}}']
        assert [c["command"] for c in group] == ["queue", "stats", "answer"]
        update = await tg.text(ALICE, "3C认证是什么")
        await api.wait_message(1001, "强制性产品认证")
    last = api.called("getUpdates")[-1]
    assert int(last.params["offset"]) == update["update_id"] + 1
    assert float(last.params["timeout"]) == 0


async def test_start_welcome_says_what_the_desk_does_with_example_buttons(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ALICE, "/start")
        welcome = await api.wait_message(1001, "质量专家你问我答")
        assert (
            "爱丽丝" in welcome.plain
            and "我能做的" in welcome.plain
            and "我不能做的" in welcome.plain
        )
        examples = prompts.texts("telegram.start.examples")
        assert [label for label, _ in welcome.buttons()] == examples
        query = await tg.press(ALICE, welcome, welcome.button("3C"))
        answer = await api.wait_message(1001, "强制性产品认证")
        assert answer.plain.startswith(examples[0])  # the question as a bold title
        assert "<b>" in answer.text
        assert query in api.callback_answers
    assert desk.asked == [(ALICE_REF, examples[0])]


async def test_question_gets_typing_at_once_then_escaped_answer_sources_and_buttons(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        asked = await tg.text(ALICE, "CCC标志<script>怎么印 & 贴？")
        answer = await api.wait_message(1001, "标签")
    methods = [c.method for c in api.calls if c.params.get("chat_id") in ("1001", 1001)]
    assert methods[:2] == ["sendChatAction", "sendMessage"]
    assert api.chat_actions[0][:2] == (1001, "typing")
    assert "答复里有 <b>标签</b> & 符号，以及 1<2。" in answer.plain  # shown literally
    assert "来源：《中华人民共和国认证认可条例（2023年修订）》第二十八条" in answer.plain
    assert answer.reply_to == asked["message"]["message_id"]
    assert answer.buttons() == [
        ("👍 有用", "fb:1:y"),
        ("没解决", "fb:1:n"),
        ("转人工专家", "fb:1:x"),
    ]
    assert desk.asked == [(ALICE_REF, "CCC标志<script>怎么印 & 贴？")]


async def test_long_answer_is_split_under_the_limit_with_buttons_on_the_last(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ALICE, "长篇问题")
        last = await api.wait_for(
            lambda: next((m for m in api.messages(1001) if m.buttons()), None), what="last part"
        )
    parts = api.messages(1001)
    assert len(parts) >= 3 and parts[-1] is last
    assert all(not m.buttons() for m in parts[:-1])
    body = "".join(m.plain for m in parts).replace("\n", "")
    assert body.count("第一条 计量器具应当依法检定。") == 700
    assert all(len(m.plain) <= 4096 for m in parts)


async def test_helpful_records_feedback_and_removes_the_buttons(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ALICE, "3C是什么")
        answer = await api.wait_message(1001, "强制性产品认证")
        query = await tg.press(ALICE, answer, answer.button("有用"))
        await api.wait_for(lambda: answer.reply_markup is None, what="buttons removed")
    assert api.callback_answers[query]["text"] == "感谢反馈！"
    assert desk.feedbacks == [(ALICE_REF, 1, True)]


@pytest.mark.parametrize("label", ["没解决", "转人工专家"])
async def test_not_solved_or_to_expert_opens_a_ticket_in_one_tap(api, desk, label):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ALICE, "3C目录怎么查")
        answer = await api.wait_message(1001, "强制性产品认证")
        await tg.press(ALICE, answer, answer.button(label))
        told = await api.wait_message(1001, "已转交人工专家")
    [ticket] = desk.tickets.values()
    assert (ticket.question, ticket.asker, ticket.status) == (
        "3C目录怎么查",
        ALICE_REF,
        TicketStatus.OPEN,
    )
    assert f"#{ticket.ticket_id}" in told.plain and "会在这里通知您" in told.plain
    assert answer.reply_markup is None
    assert desk.feedbacks == ([(ALICE_REF, 1, False)] if label == "没解决" else [])


async def test_question_the_desk_cannot_answer_is_escalated_without_feedback_buttons(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ALICE, "我家工厂的锅炉能不能继续用？")
        reply = await api.wait_message(1001, "已转交专家")
    [ticket] = desk.tickets.values()
    assert f"#{ticket.ticket_id}" in reply.plain and reply.buttons() == []


async def test_my_lists_questions_with_status(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ALICE, "/my")
        await api.wait_message(1001, prompts.text("telegram.my.empty"))
        await tg.text(ALICE, "问题甲：锅炉年检？")
        await api.wait_message(1001, "已转交专家")
        await tg.text(ALICE, "问题乙：计量章？")
        await api.wait_for(lambda: len(desk.tickets) == 2 and len(api.messages(1001)) == 3)
        first, second = sorted(desk.tickets)
        desk.tickets[first] = replace(
            desk.tickets[first], status=TicketStatus.ANSWERED, answer="需要<年检>"
        )
        await tg.text(ALICE, "/my")
        listing = await api.wait_message(1001, "您的问题和工单")
    assert f"#{first}｜专家已答复｜问题甲：锅炉年检？" in listing.plain
    assert "专家答复：需要<年检>" in listing.plain
    assert f"#{second}｜等待专家认领｜问题乙：计量章？" in listing.plain
    assert listing.plain.index("问题乙") < listing.plain.index("问题甲")


async def test_cancel_one_or_choose_among_several(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ALICE, "/cancel")
        await api.wait_message(1001, prompts.text("telegram.cancel.nothing"))
        await tg.text(ALICE, "问题一")
        await tg.text(ALICE, "问题二")
        await api.wait_for(lambda: len(desk.tickets) == 2, what="two tickets")
        await api.wait_for(lambda: len([m for m in api.messages(1001) if "已转交" in m.plain]) == 2)
        await tg.text(ALICE, "/cancel")
        choice = await api.wait_message(1001, "请选择要撤回的工单")
        one, two = sorted(desk.tickets)
        assert choice.buttons() == [(f"撤回 #{one}", f"cx:{one}"), (f"撤回 #{two}", f"cx:{two}")]
        await tg.press(ALICE, choice, f"cx:{two}")
        await api.wait_message(1001, f"工单 #{two} 已撤回")
        assert desk.tickets[two].status is TicketStatus.CANCELLED
        await tg.text(ALICE, "/cancel")  # one left: cancelled directly
        await api.wait_message(1001, f"工单 #{one} 已撤回")
        await tg.text(ALICE, "/cancel 999")
        await api.wait_message(1001, prompts.error_text("ticket_not_found"))
        await tg.text(ALICE, "/cancel abc")
        await api.wait_message(1001, "用法：/cancel")
    assert desk.tickets[one].status is TicketStatus.CANCELLED


@pytest.mark.parametrize("kind", ["photo", "sticker", "voice", "location"])
async def test_media_gets_a_specific_polite_reply(api, desk, kind):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.media(ALICE, kind)
        await api.wait_message(1001, prompts.text(f"telegram.unsupported.{kind}"))
    assert desk.asked == []


async def test_edited_message_is_answered_politely_not_reprocessed(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        original = await tg.text(ALICE, "3C要多久")
        await api.wait_message(1001, "强制性产品认证")
        await tg.edit(ALICE, original, "3C要多久办下来")
        note = await api.wait_message(1001, prompts.text("telegram.unsupported.edited"))
    assert note.reply_to == original["message"]["message_id"]
    assert len(desk.asked) == 1


async def test_help_and_unknown_commands(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ALICE, "/help")
        await api.wait_message(1001, "使用方法")
        await tg.text(ALICE, "/frobnicate")
        await api.wait_for(
            lambda: len([m for m in api.messages(1001) if "使用方法" in m.plain]) == 2
        )
    assert desk.asked == []


async def test_other_groups_get_one_note_then_silence(api, desk):
    tg = Telegram(api)
    shop = group_chat(-100777, "某某商会")
    async with running_bot(api, desk):
        await tg.add_bot_to(ALICE, shop)
        await api.wait_message(-100777, "只在私聊")
        await tg.text(ALICE, "/start", chat=shop)
        await api.wait_for(lambda: len(api.messages(-100777)) == 2, what="note for a command")
        chatter = await tg.text(ALICE, "大家好，3C 的事谁懂？", chat=shop)
        photo = await tg.media(ALICE, "photo", chat=shop)
        await api.wait_for(lambda: api.confirmed(photo["update_id"]), what="group messages fetched")
    # stopping the bot waits for every fetched update to be handled: silence is now certain
    assert api.confirmed(chatter["update_id"])
    assert len(api.messages(-100777)) == 2
    assert desk.asked == []
