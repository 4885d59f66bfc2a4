"""Rate limits, network failures, blocked users, floods, slow answers, handler errors, webhooks."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

import pytest

import prompts
from core.errors import DeliveryError, InvalidQuestion, PermanentDeliveryError
from core.people import Channel, UserRef
from core.tickets import Notification, NotificationKind
from desk.api import Reply
from tests.fakes.desk import FakeDesk
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import (
    FAST,
    WEBHOOK_SECRET,
    Telegram,
    no_proxy,
    running_bot,
    tg_user,
)

pytestmark = pytest.mark.e2e

ALICE = tg_user(1001, "爱丽丝")
BOB = tg_user(1002, "鲍勃")
ANSWER = "列入目录的产品须经强制性产品认证。"


@pytest.fixture
async def api():
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


@pytest.fixture
def desk() -> FakeDesk:
    return FakeDesk()


def expert_answer(chat: int, ticket_id: int = 7) -> Notification:
    user = UserRef(Channel.TELEGRAM, str(chat), str(chat), "某人")
    return Notification(1, NotificationKind.EXPERT_ANSWER, user, "专家答复：可以。", ticket_id)


async def test_429_retry_after_is_honoured(api, desk):
    api.fail("sendMessage", 429, retry_after=1)
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ALICE, "3C是什么")
        await api.wait_message(1001, ANSWER)
    limited, sent = api.called("sendMessage")
    assert (limited.status, sent.status) == (429, 200)
    assert sent.at - limited.at >= 1.0


async def test_network_errors_are_retried_and_nothing_is_lost(api, desk):
    api.fail("getUpdates", 502)
    api.fail("sendMessage", 502, times=2)
    tg = Telegram(api)
    await tg.text(ALICE, "3C是什么")  # waiting before the bot even starts
    async with running_bot(api, desk):
        await api.wait_message(1001, ANSWER)
    assert [c.status for c in api.called("sendMessage")] == [502, 502, 200]
    assert api.called("getUpdates")[0].status == 502
    assert len(api.messages(1001)) == 1 and len(desk.asked) == 1


async def test_a_flood_from_one_user_is_throttled_without_slowing_others(api, desk):
    tuning = replace(FAST, flood_capacity=3, flood_refill_per_s=0.01)
    tg = Telegram(api)
    async with running_bot(api, desk, tuning=tuning):
        for n in range(12):
            last = await tg.text(ALICE, f"3C 第{n}次")
        await tg.text(BOB, "3C 我也问")
        await api.wait_message(1002, ANSWER)
        await api.wait_for(lambda: api.confirmed(last["update_id"]))
    busy = prompts.text("telegram.ask.busy")
    alice = [m.plain for m in api.messages(1001)]
    assert alice.count(busy) == 1
    assert len([p for p in alice if ANSWER in p]) == 3
    # the first three are let through (in the order sent); the desk answers them concurrently
    admitted = sorted(q for u, q in desk.asked if u.user_id == "1001")
    assert admitted == ["3C 第0次", "3C 第1次", "3C 第2次"]
    assert [m.plain for m in api.messages(1002) if m.plain == busy] == []


async def test_a_backlog_released_at_once_is_counted_as_it_was_sent_not_as_a_flood(api, desk):
    """Questions written a minute apart that wait (an outage, a restart) and reach the bot at
    once are answered, not throttled."""
    tuning = replace(FAST, flood_capacity=3, flood_refill_per_s=0.05)
    tg = Telegram(api)
    written = int(time.time()) - 12 * 60
    for n in range(12):  # waiting before the bot even starts
        message = tg._message(ALICE, None, text=f"3C 第{n}次")
        await api.push_update({"message": message | {"date": written + 60 * n}})
    async with running_bot(api, desk, tuning=tuning):
        await api.wait_for(lambda: len(api.messages(1001)) == 12, what="twelve answers")
    busy = prompts.text("telegram.ask.busy")
    assert [m.plain for m in api.messages(1001) if m.plain == busy] == []
    assert len([q for u, q in desk.asked if u.user_id == "1001"]) == 12


async def test_a_slow_answer_for_one_user_does_not_block_others(api, desk):
    desk.gate["很难的问题"] = threading.Event()
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ALICE, "很难的问题")
        await api.wait_for(
            lambda: any(chat == 1001 for chat, _, _ in api.chat_actions), what="typing"
        )
        await tg.text(BOB, "3C是什么")
        await api.wait_message(1002, ANSWER)
        assert api.messages(1001) == []  # Alice's answer is still being worked on
        desk.gate["很难的问题"].set()
        await api.wait_message(1001, "已转交专家")


async def test_many_slow_answers_at_once_do_not_hold_up_a_quick_one(api, desk):
    """More slow questions than the default thread pool has workers: the quick one (and the
    bookkeeping every update needs) must still get through."""
    slow = threading.Event()
    tg = Telegram(api)
    async with running_bot(api, desk):
        for n in range(12):
            desk.gate[f"难题{n}"] = slow
            await tg.text(tg_user(5000 + n), f"难题{n}")
        await api.wait_for(
            lambda: len({c for c, _, _ in api.chat_actions}) == 12, what="all typing"
        )
        await tg.text(BOB, "3C是什么")
        await api.wait_message(1002, ANSWER)
        assert all(api.messages(5000 + n) == [] for n in range(12))
        slow.set()
        await api.wait_for(lambda: all(api.messages(5000 + n) for n in range(12)), what="slow ones")


async def test_a_user_who_blocked_the_bot_is_not_retried(api, desk, caplog):
    api.blocked.add(1001)
    tg = Telegram(api)
    async with running_bot(api, desk) as channel:
        with pytest.raises(PermanentDeliveryError):
            await channel.notifier.send(expert_answer(1001))
        update = await tg.text(ALICE, "3C是什么")
        await api.wait_for(lambda: api.confirmed(update["update_id"]))
    to_alice = [c for c in api.calls if str(c.params.get("chat_id")) == "1001"]
    assert [(c.method, c.status) for c in to_alice] == [
        ("sendMessage", 403),
        ("sendChatAction", 403),
    ]
    assert "handler_failed" in caplog.text


async def test_notifier_reports_failures_the_outbox_should_retry(api, desk):
    tuning = replace(FAST, network_retries=1, retry_after_retries=0)
    async with running_bot(api, desk, tuning=tuning) as channel:
        api.fail("sendMessage", 502, times=5)
        with pytest.raises(DeliveryError) as failed:
            await channel.notifier.send(expert_answer(1001))
        assert not isinstance(failed.value, PermanentDeliveryError)
        api.clear_faults()
        api.fail("sendMessage", 429, retry_after=30)
        with pytest.raises(DeliveryError) as limited:
            await channel.notifier.send(expert_answer(1001))
        assert not isinstance(limited.value, PermanentDeliveryError)
        api.clear_faults()
        await channel.notifier.send(expert_answer(1001))  # the outbox's next attempt
        delivered = await api.wait_message(1001, "专家答复：可以。")
    assert [c.status for c in api.called("sendMessage")] == [502, 502, 429, 200]
    assert [label for label, _ in delivered.buttons()] == ["👍 有用", "没解决", "转人工专家"]


async def test_handler_errors_are_logged_with_context_and_the_user_hears_politely(api, caplog):
    class Broken(FakeDesk):
        def ask(self, user: UserRef, text: str) -> Reply:
            if "炸" in text:
                raise RuntimeError("database on fire")
            if "？？" in text:
                raise InvalidQuestion("not a question")
            return super().ask(user, text)

    tg = Telegram(api)
    with caplog.at_level(logging.ERROR, logger="bot.telegram"):
        async with running_bot(api, Broken()):
            update = await tg.text(ALICE, "炸了吗")
            sorry = await api.wait_message(1001, prompts.text("telegram.error.generic"))
            await tg.text(ALICE, "？？")
            await api.wait_message(1001, prompts.error_text("invalid_question"))
            await tg.text(ALICE, "3C呢")
            await api.wait_message(1001, ANSWER)  # the bot carries on
    [record] = [r for r in caplog.records if "handler_failed" in r.getMessage()]
    assert f"update_id={update['update_id']}" in record.getMessage()
    assert "chat_id=1001" in record.getMessage() and "user_id=1001" in record.getMessage()
    assert record.exc_info is not None and "database on fire" in str(record.exc_info[1])
    shown = " ".join(m.plain for m in api.messages(1001))
    assert "Traceback" not in shown and "database on fire" not in shown
    assert sorry.buttons() == []


async def test_webhook_mode_registers_the_webhook_and_answers(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk, webhook=True):
        methods = [c.method for c in api.calls]
        assert "getUpdates" not in methods and "deleteWebhook" not in methods
        assert methods[0] == "getMe"
        hook = api.webhook
        assert hook is not None and hook["secret_token"] == WEBHOOK_SECRET
        assert hook["url"].endswith("/telegram/webhook")
        assert set(hook["allowed_updates"]) == {
            "message",
            "edited_message",
            "callback_query",
            "my_chat_member",
        }
        await tg.text(ALICE, "3C是什么")
        await api.wait_message(1001, ANSWER)
    assert api.webhook_statuses == [200]


async def test_webhook_refuses_a_wrong_secret_and_handles_a_redelivery_once(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk, webhook=True):
        api.webhook = {**api.webhook, "secret_token": "wrong"}  # a forger
        await tg.text(ALICE, "3C 伪造的")
        assert await api.deliver({"update_id": 99, "message": {}}, secret="") == 403
        api.webhook = {**api.webhook, "secret_token": WEBHOOK_SECRET}
        update = {"update_id": 500, "message": {
            "message_id": 1, "date": 0, "chat": {"id": 1002, "type": "private"},
            "from": BOB, "text": "3C 真的",
        }}  # fmt: skip
        assert await api.deliver(update) == 200
        assert await api.deliver(update) == 200  # Telegram delivering it again
        assert await api.deliver({"update_id": 501, "garbage": True}) in (200, 400)
        await api.wait_message(1002, ANSWER)
    assert api.webhook_statuses == [403]
    assert desk.asked == [(UserRef(Channel.TELEGRAM, "1002", "1002", "鲍勃"), "3C 真的")]
    assert api.messages(1001) == [] and len(api.messages(1002)) == 1
