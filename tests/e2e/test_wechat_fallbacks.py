"""Accounts that cannot push (unverified: 48001; no AppSecret): answers that miss WeChat's
window are held and become the reply to the user's next message. Nothing is lost."""

from __future__ import annotations

import threading

import pytest

import prompts
from core.people import Channel, UserRef
from tests.fakes.wechat_platform import WatchedDesk, new_openid, wechat_rig

pytestmark = pytest.mark.e2e

ANSWER_3C = "列入目录的产品须经强制性产品认证。"
PENDING = prompts.text("wechat.answer_pending")


def gated(desk: WatchedDesk, question: str) -> threading.Event:
    gate = threading.Event()
    desk.gate[question] = gate
    return gate


async def test_unverified_account_holds_the_answer_for_the_next_message() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    first_gate = gated(desk, "慢一：3C？")
    second_gate = gated(desk, "慢二：3C？")
    async with wechat_rig(desk, unverified=True) as rig:
        # First slow answer: the channel does not know yet and tries a push; WeChat says 48001.
        first = await rig.platform.send_text(openid, "慢一：3C？")
        assert first.accepted and first.reply is None
        first_gate.set()
        await rig.api.wait_requests(1)
        await desk.wait_holds(1)
        assert rig.api.refused == [(openid, 48001)]
        shown = await rig.platform.send_text(openid, "0")
        assert shown.reply is not None and shown.reply.startswith(ANSWER_3C)

        # From now on the channel knows: the delivery says so, and nothing is pushed.
        second = await rig.platform.send_text(openid, "慢二：3C？")
        assert second.reply == PENDING
        second_gate.set()
        await desk.wait_holds(2)
        early = await rig.platform.send_text(openid, "3C认证？")  # a new question meanwhile
    assert early.reply is not None
    assert early.reply.count(ANSWER_3C) == 2  # the held answer first, then the new one
    assert rig.api.send_requests == 1
    assert all(not e.violations for e in rig.platform.exchanges)
    assert desk.memory.take_held(UserRef(Channel.WECHAT, openid)) == []


async def test_other_workers_learn_the_account_cannot_push() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    gate = gated(desk, "慢：3C？")
    async with wechat_rig(desk, unverified=True, workers=2) as rig:
        await rig.platform.send_text(openid, "慢：3C？", route=lambda n: 0)
        gate.set()
        await desk.wait_holds(1)
        for channel in rig.channels:  # a restart reads what the desk remembers
            await channel.stop()
            await channel.start()
        slow_gate = gated(desk, "慢：再问")
        second = await rig.platform.send_text(openid, "慢：再问", route=lambda n: 1)
        slow_gate.set()
        await desk.wait_holds(2)
    assert second.reply == PENDING
    assert rig.api.send_requests == 1


async def test_without_app_secret_slow_answers_wait_for_zero() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    gate = gated(desk, "慢：3C？")
    async with wechat_rig(desk, credentials=False) as rig:
        fast = await rig.platform.send_text(openid, "3C？")
        slow = await rig.platform.send_text(openid, "慢：3C？")
        gate.set()
        await desk.wait_holds(1)
        shown = await rig.platform.send_text(openid, "0")
        nothing = await rig.platform.send_text(openid, "0")
    assert fast.reply is not None and fast.reply.startswith(ANSWER_3C)
    assert slow.reply == PENDING
    assert shown.reply is not None and shown.reply.startswith(ANSWER_3C)
    assert nothing.reply == prompts.text("wechat.nothing_held")
    assert rig.api.token_requests == 0 and rig.api.send_requests == 0


async def test_held_answer_then_feedback_refers_to_it() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    gate = gated(desk, "慢：3C？")
    async with wechat_rig(desk, credentials=False) as rig:
        await rig.platform.send_text(openid, "慢：3C？")
        gate.set()
        await desk.wait_holds(1)
        shown = await rig.platform.send_text(openid, "0")
        thanks = await rig.platform.send_text(openid, "1")
    assert shown.reply is not None and shown.reply.endswith(prompts.text("wechat.feedback_hint"))
    assert thanks.reply == "感谢反馈！"
    assert len(desk.feedbacks) == 1
