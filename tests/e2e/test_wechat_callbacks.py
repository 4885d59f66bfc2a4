"""Signed callbacks over HTTP: verification, refusals, odd messages, events and menus."""

from __future__ import annotations

import time

import pytest

import prompts
from core.people import Channel, UserRef
from tests.fakes.wechat_platform import WatchedDesk, WatchedMemory, new_openid, sign, wechat_rig

pytestmark = pytest.mark.e2e

BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]><xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)


def untouched(desk: WatchedDesk) -> bool:
    memory = desk.memory
    return not (
        desk.asked or memory.seen or memory.inbound or memory.replies or memory.values or desk.holds
    )


async def test_url_verification_echoes_only_a_signed_request() -> None:
    desk = WatchedDesk()
    async with wechat_rig(desk) as rig:
        good = await rig.platform.verify_url(echostr="1234567890123456789")
        forged = await rig.platform.verify_url(forge=True, echostr="1234567890123456789")
    assert good.status_code == 200
    assert good.content == b"1234567890123456789"  # unchanged: no quotes, no newline
    assert forged.status_code == 403
    assert b"1234567890123456789" not in forged.content
    assert untouched(desk)


async def test_forged_or_stale_messages_are_refused_and_touch_nothing() -> None:
    desk = WatchedDesk()
    async with wechat_rig(desk) as rig:
        xml = rig.platform.message_xml(
            new_openid(), {"MsgType": "text", "Content": "3C认证", "MsgId": "77"}
        )
        forged = await rig.platform.post_raw(xml.encode(), signed=False)
        old = int(time.time()) - 3600
        params, body = rig.platform.signed(xml, timestamp=old)
        stale = await rig.platform.post_raw(body.encode(), params=params)
        unsigned = await rig.platform.post_raw(xml.encode(), params={})
    assert (forged.status_code, stale.status_code, unsigned.status_code) == (403, 403, 403)
    assert untouched(desk)


async def test_malformed_xml_is_refused() -> None:
    desk = WatchedDesk()
    async with wechat_rig(desk) as rig:
        broken = await rig.platform.post_raw(b"<xml><ToUserName>gh</ToUserName><MsgType>te")
        not_xml = await rig.platform.post_raw("你好".encode())
        wrong_root = await rig.platform.post_raw(b"<msg><MsgType>text</MsgType></msg>")
    assert (broken.status_code, not_xml.status_code, wrong_root.status_code) == (400, 400, 400)
    assert untouched(desk)


async def test_xml_bomb_is_refused_before_it_expands() -> None:
    desk = WatchedDesk()
    async with wechat_rig(desk) as rig:
        started = time.monotonic()
        response = await rig.platform.post_raw(BOMB.encode())
        elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert elapsed < 1.0
    assert untouched(desk)


async def test_ten_thousand_character_message_gets_a_reply_that_fits() -> None:
    desk = WatchedDesk()
    question = "请问3C认证" + "具体要求是什么" * 1428
    question = question[:10_000]
    openid = new_openid()
    async with wechat_rig(desk) as rig:
        exchange = await rig.platform.send_text(openid, question)
    assert len(question) == 10_000
    assert exchange.accepted and exchange.violations == []
    assert exchange.deliveries == 1
    assert [q for _, q in desk.asked] == [question]  # the whole text reached the desk
    assert exchange.reply is not None and "强制性产品认证" in exchange.reply


@pytest.mark.parametrize("msg_type", ["image", "voice", "video", "shortvideo", "location", "link"])
async def test_non_text_messages_get_a_polite_reply(msg_type: str) -> None:
    desk = WatchedDesk()
    async with wechat_rig(desk) as rig:
        exchange = await rig.platform.send_media(new_openid(), msg_type)
    assert exchange.violations == []
    assert exchange.reply == prompts.text("wechat.text_only")
    assert desk.asked == []


async def test_subscribe_welcomes_with_example_questions() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    async with wechat_rig(desk) as rig:
        exchange = await rig.platform.send_event(openid, "subscribe")
    assert exchange.violations == []
    assert exchange.reply is not None
    assert exchange.reply.startswith(prompts.text("wechat.welcome").splitlines()[0])
    for example in prompts.texts("wechat.examples"):
        assert example in exchange.reply
    assert desk.asked == []


async def test_unsubscribe_is_recorded_without_a_reply() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    async with wechat_rig(desk) as rig:
        await rig.platform.send_event(openid, "subscribe")
        gone = await rig.platform.send_event(openid, "unsubscribe")
        assert desk.memory.value(f"wechat-unsubscribed:{openid}") == "1"
        back = await rig.platform.send_event(openid, "subscribe")
    assert gone.accepted and gone.reply is None and gone.violations == []
    assert back.reply is not None
    assert desk.memory.value(f"wechat-unsubscribed:{openid}") == ""


async def test_menu_clicks_and_typed_commands() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    user = UserRef(Channel.WECHAT, openid)
    async with wechat_rig(desk) as rig:
        empty = await rig.platform.send_event(openid, "CLICK", "MY_QUESTIONS")
        await rig.platform.send_text(openid, "我家工厂的锅炉要不要年检？")
        mine = await rig.platform.send_event(openid, "CLICK", "MY_QUESTIONS")
        typed = await rig.platform.send_text(openid, "我的问题")
        help_ = await rig.platform.send_event(openid, "CLICK", "HELP")
        typed_help = await rig.platform.send_text(openid, " 使用说明 ")
        link = await rig.platform.send_event(openid, "VIEW", "https://example.com")
    (ticket,) = desk.my_tickets(user)
    assert empty.reply == prompts.text("wechat.my_tickets_empty")
    assert mine.reply is not None and f"#{ticket.ticket_id}" in mine.reply
    assert prompts.text("desk.status.open") in mine.reply
    assert typed.reply == mine.reply
    assert help_.reply == typed_help.reply == prompts.text("wechat.help")
    assert link.accepted and link.reply is None
    assert [q for _, q in desk.asked] == ["我家工厂的锅炉要不要年检？"]
    assert all(not e.violations for e in rig.platform.exchanges)


async def test_signatures_are_checked_on_every_worker() -> None:
    desk = WatchedDesk()
    async with wechat_rig(desk, workers=2) as rig:
        answers = [await rig.platform.verify_url(target=i, echostr="42") for i in (0, 1)]
        ts, nonce = str(int(time.time())), "1"
        bad = {"signature": sign("x", ts, nonce), "timestamp": ts, "nonce": nonce}
        refused = await rig.platform.post_raw(b"<xml/>", target=1, params=bad)
    assert [a.text for a in answers] == ["42", "42"]
    assert refused.status_code == 403


class ReadOnlyMemory(WatchedMemory):
    """A channel memory that cannot be written (its database went read-only)."""

    def save_reply(self, message_key: str, text: str) -> None:
        raise RuntimeError("attempt to write a readonly database")


async def test_a_failing_memory_gets_a_polite_reply_not_a_failure() -> None:
    desk = WatchedDesk()
    desk.memory = ReadOnlyMemory()
    async with wechat_rig(desk) as rig:
        exchange = await rig.platform.send_text(new_openid(), "3C认证？")
    assert exchange.violations == [] and exchange.deliveries == 1
    assert exchange.reply == prompts.error_text("error")
