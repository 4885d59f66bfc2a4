"""Safe mode (encrypt_type=aes) end to end: the platform encrypts with wechatpy's WeChatCrypto,
the channel decrypts, and its replies come back encrypted and signed. An account in safe mode
takes nothing in plaintext (a plain signature does not cover the body)."""

from __future__ import annotations

import threading

import pytest

from tests.fakes.wechat_platform import (
    TOKEN,
    WatchedDesk,
    WeChatPlatform,
    new_openid,
    sign,
    wechat_rig,
)

pytestmark = pytest.mark.e2e

ANSWER_3C = "列入目录的产品须经强制性产品认证。"


async def test_safe_mode_fast_answer_is_encrypted() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    async with wechat_rig(desk, safe_mode=True) as rig:
        exchange = await rig.platform.send_text(openid, "3C认证是什么？")
        subscribe = await rig.platform.send_event(openid, "subscribe")
    assert exchange.violations == [] and subscribe.violations == []
    body = exchange.attempts[0].body
    assert "<Encrypt>" in body and ANSWER_3C not in body  # nothing readable on the wire
    assert exchange.reply is not None and exchange.reply.startswith(ANSWER_3C)
    assert subscribe.reply is not None
    assert [q for _, q in desk.asked] == ["3C认证是什么？"]


async def test_safe_mode_slow_answer_and_redelivery() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    question = "慢：3C认证？"
    gate = threading.Event()
    desk.gate[question] = gate
    async with wechat_rig(desk, safe_mode=True) as rig:
        slow = await rig.platform.send_text(openid, question)
        assert slow.accepted and slow.reply is None
        assert slow.attempts[0].body == "success"
        gate.set()
        pushed = await rig.api.wait_sent(openid, 1)
        lost = await rig.platform.send_text(openid, "3C？", lose=1)
    assert pushed[0].startswith(ANSWER_3C)
    assert lost.deliveries == 2 and lost.violations == []
    assert lost.reply is not None and lost.reply.startswith(ANSWER_3C)
    assert len(desk.asked) == 2


async def test_safe_mode_forged_or_tampered_messages_are_refused() -> None:
    desk = WatchedDesk()
    async with wechat_rig(desk, safe_mode=True) as rig:
        xml = rig.platform.message_xml(
            new_openid(), {"MsgType": "text", "Content": "3C", "MsgId": "9"}
        )
        params, body = rig.platform.signed(xml)
        good_signature = params["msg_signature"]
        forged = await rig.platform.post_raw(
            body.encode(), params={**params, "msg_signature": sign("x", "1", "2", "3")}
        )
        tampered_body = body.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[AAAA")
        tampered = await rig.platform.post_raw(tampered_body.encode(), params=params)
        no_signature = {k: v for k, v in params.items() if k != "msg_signature"}
        unsigned = await rig.platform.post_raw(body.encode(), params=no_signature)
        verified = await rig.platform.verify_url(echostr="safe-mode-echo")
    assert good_signature
    assert (forged.status_code, tampered.status_code, unsigned.status_code) == (403, 403, 403)
    assert verified.text == "safe-mode-echo"  # URL verification stays plain for accounts
    assert desk.asked == [] and not desk.memory.seen


async def test_safe_mode_refuses_a_plaintext_callback_and_records_nothing() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    async with wechat_rig(desk, safe_mode=True) as rig:
        plain = WeChatPlatform(rig.urls, token=TOKEN)  # knows the token, does not encrypt
        xml = plain.message_xml(openid, {"MsgType": "text", "Content": "3C认证？", "MsgId": "5"})
        params, body = plain.signed(xml, openid=openid)
        downgraded = await plain.post_raw(body.encode(), params=params)
        raw = await plain.post_raw(body.encode(), params={**params, "encrypt_type": "raw"})
        await plain.aclose()
        sealed = await rig.platform.send_text(openid, "3C认证？")  # the account still works
    assert (downgraded.status_code, raw.status_code) == (403, 403)
    assert ANSWER_3C not in downgraded.text + raw.text
    assert sealed.violations == [] and sealed.reply is not None
    assert [q for _, q in desk.asked] == ["3C认证？"]  # only the encrypted one
    assert len(desk.memory.seen) == 1


async def test_safe_mode_callback_sent_again_unchanged_is_answered_once() -> None:
    desk = WatchedDesk()
    openid = new_openid()
    async with wechat_rig(desk, safe_mode=True, workers=2) as rig:
        xml = rig.platform.message_xml(
            openid, {"MsgType": "text", "Content": "3C认证是什么？", "MsgId": "8"}
        )
        params, body = rig.platform.signed(xml, openid=openid)
        first = await rig.platform.post_raw(body.encode(), target=0, params=params)
        replays = [
            await rig.platform.post_raw(body.encode(), target=n, params=params) for n in (1, 0)
        ]
    assert first.status_code == 200 and "<Encrypt>" in first.text
    assert [r.status_code for r in replays] == [200, 200]
    assert all("<Encrypt>" in r.text and ANSWER_3C not in r.text for r in replays)
    assert [q for _, q in desk.asked] == ["3C认证是什么？"]  # answered once, on one worker
