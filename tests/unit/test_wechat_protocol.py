"""Callback checks in the right order: signature and freshness, then safe XML, then the message."""

from __future__ import annotations

import time

import pytest
from wechatpy.crypto import WeChatCrypto

from bot.wechat.protocol import (
    CallbackCodec,
    ForgedCallback,
    InboundKind,
    MalformedCallback,
)
from bot.wechat.rendering import byte_length
from tests.fakes.wechat_platform import ACCOUNT, AES_KEY, TOKEN, WeChatPlatform, sign

APP_ID = "wx0123456789abcdef"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"

# wechatpy's own known answer (tests/test_crypto.py): token, key and id, an encrypted message
# from "messense" saying "test", signed at 1411525903.
KA_TOKEN, KA_KEY, KA_ID = (
    "123456",
    "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
    "wx49f0ab532d5d035a",
)
KA_BODY = (
    "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<Encrypt><![CDATA["
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTy"
    "eDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYy"
    "olBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWO"
    "MZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7ml"
    "sl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>\n"
    "<AgentID><![CDATA[1]]></AgentID>\n</xml>"
)
KA_QUERY = {
    "encrypt_type": "aes",
    "msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
    "timestamp": "1411525903",
    "nonce": "461056294",
}

BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"
)


def platform(safe: bool = False) -> WeChatPlatform:
    return WeChatPlatform(
        ["http://unused"], token=TOKEN, aes_key=AES_KEY if safe else None, app_id=APP_ID
    )


def text_xml(content: str = "3C认证是什么？") -> str:
    return platform().message_xml(OPENID, {"MsgType": "text", "Content": content, "MsgId": "42"})


def test_known_answer_from_wechatpy_decrypts() -> None:
    codec = CallbackCodec(KA_TOKEN, KA_KEY, KA_ID, clock=lambda: 1411525903)
    envelope = codec.open(KA_QUERY, KA_BODY.encode())
    assert envelope.encrypted
    assert envelope.inbound.kind is InboundKind.TEXT
    assert envelope.inbound.message.text == "test"
    assert envelope.inbound.user.user_id == "messense"


def test_known_answer_with_a_wrong_signature_is_forged() -> None:
    codec = CallbackCodec(KA_TOKEN, KA_KEY, KA_ID, clock=lambda: 1411525903)
    with pytest.raises(ForgedCallback):
        codec.open({**KA_QUERY, "msg_signature": "0" * 40}, KA_BODY.encode())


def test_known_answer_replayed_today_is_stale() -> None:
    codec = CallbackCodec(KA_TOKEN, KA_KEY, KA_ID)
    with pytest.raises(ForgedCallback, match="stale"):
        codec.open(KA_QUERY, KA_BODY.encode())


def test_url_verification_returns_echostr_only_when_signed() -> None:
    codec = CallbackCodec(TOKEN)
    ts, nonce = str(int(time.time())), "123"
    query = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "e1"}
    assert codec.verify_url(query) == "e1"
    with pytest.raises(ForgedCallback):
        codec.verify_url({**query, "signature": sign("other", ts, nonce)})
    with pytest.raises(ForgedCallback):
        codec.verify_url({**query, "signature": ""})
    old = str(int(time.time()) - 3600)
    with pytest.raises(ForgedCallback):
        codec.verify_url({**query, "timestamp": old, "signature": sign(TOKEN, old, nonce)})


def test_plain_message_opens_with_its_key() -> None:
    params, body = platform().signed(text_xml())
    envelope = CallbackCodec(TOKEN).open(params, body.encode())
    inbound = envelope.inbound
    assert not envelope.encrypted
    assert (inbound.kind, inbound.key, inbound.message.text) == (
        InboundKind.TEXT,
        f"wechat:msg:{ACCOUNT}:{OPENID}:42",
        "3C认证是什么？",
    )
    assert inbound.user.user_id == OPENID
    assert OPENID not in inbound.ref and len(inbound.ref) == 12
    assert (envelope.timestamp, envelope.nonce) == (params["timestamp"], params["nonce"])


def test_the_same_msgid_from_two_users_or_accounts_is_two_messages() -> None:
    fields = {"MsgType": "text", "Content": "3C", "MsgId": "42"}
    keys = set()
    for account, openid in ((ACCOUNT, OPENID), (ACCOUNT, "o-another"), ("gh_other", OPENID)):
        sender = WeChatPlatform(["http://unused"], token=TOKEN, account=account)
        params, body = sender.signed(sender.message_xml(openid, fields))
        keys.add(CallbackCodec(TOKEN).open(params, body.encode()).inbound.key)
    assert len(keys) == 3


def test_the_fingerprint_names_the_message_not_the_request() -> None:
    xml = text_xml()
    first, second = (platform().signed(xml) for _ in range(2))
    other = platform().signed(text_xml("别的问题"))
    codec = CallbackCodec(TOKEN)
    prints = [codec.open(p, b.encode()).fingerprint for p, b in (first, second, other)]
    assert prints[0] == prints[1] != prints[2]
    safe = CallbackCodec(TOKEN, AES_KEY, APP_ID)
    sealed = [platform(safe=True).signed(xml) for _ in range(2)]  # new random bytes each time
    assert {safe.open(p, b.encode()).fingerprint for p, b in sealed} == {prints[0]}


def test_safe_mode_refuses_a_plaintext_callback() -> None:
    params, body = platform().signed(text_xml())  # correctly signed, but not encrypted
    with pytest.raises(ForgedCallback, match="safe mode"):
        CallbackCodec(TOKEN, AES_KEY, APP_ID).open(params, body.encode())
    with pytest.raises(ForgedCallback, match="safe mode"):
        CallbackCodec(TOKEN, AES_KEY, APP_ID).open({**params, "encrypt_type": "raw"}, body.encode())


def test_overlong_sender_ids_are_refused() -> None:
    xml = platform().message_xml("o" * 65, {"MsgType": "text", "Content": "3C", "MsgId": "1"})
    params, body = platform().signed(xml)
    with pytest.raises(MalformedCallback):
        CallbackCodec(TOKEN).open(params, body.encode())


def test_events_are_keyed_by_sender_and_time() -> None:
    xml = platform().message_xml(OPENID, {"MsgType": "event", "Event": "subscribe"}, 1700000000)
    params, body = platform().signed(xml)
    inbound = CallbackCodec(TOKEN).open(params, body.encode()).inbound
    assert inbound.kind is InboundKind.EVENT
    assert inbound.key == f"wechat:evt:{ACCOUNT}:{OPENID}:1700000000:subscribe"


def test_forged_plain_message_is_refused_before_parsing() -> None:
    params, _ = platform().signed(text_xml())
    with pytest.raises(ForgedCallback):
        CallbackCodec("another-token").open(params, BOMB.encode())


@pytest.mark.parametrize(
    "body",
    [
        BOMB,
        '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Content>&x;</Content></xml>',
        "<xml><ToUserName>a</ToUserName>",
        "not xml at all",
        "<root><MsgType>text</MsgType></root>",
        "<xml><FromUserName>a</FromUserName></xml>",
        "",
        '<?xml version="1.0" encoding="GBK"?><xml><MsgType>text</MsgType><Content>\u4f60</Content></xml>',
    ],
)
def test_signed_but_malformed_bodies_are_refused(body: str) -> None:
    params, _ = platform().signed(text_xml())
    data = body.encode("gbk") if "GBK" in body else body.encode()
    with pytest.raises(MalformedCallback):
        CallbackCodec(TOKEN).open(params, data)


def test_bomb_inside_the_encrypted_payload_is_refused() -> None:
    params, body = platform(safe=True).signed(BOMB)
    with pytest.raises(MalformedCallback):
        CallbackCodec(TOKEN, AES_KEY, APP_ID).open(params, body.encode())


def test_safe_mode_round_trip_reply_is_encrypted_for_the_sender() -> None:
    params, body = platform(safe=True).signed(text_xml())
    codec = CallbackCodec(TOKEN, AES_KEY, APP_ID)
    envelope = codec.open(params, body.encode())
    assert envelope.encrypted and envelope.inbound.message.text == "3C认证是什么？"
    sealed, media_type = codec.seal(envelope, "答复")
    assert media_type == "application/xml"
    assert "答复" not in sealed
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    import xmltodict

    outer = xmltodict.parse(sealed)["xml"]
    plain = crypto.decrypt_message(
        sealed, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"]
    )
    inner = xmltodict.parse(plain)["xml"]
    assert (inner["ToUserName"], inner["Content"]) == (OPENID, "答复")
    assert outer["Nonce"] == params["nonce"]


def test_safe_mode_callback_without_a_key_is_refused() -> None:
    params, body = platform(safe=True).signed(text_xml())
    with pytest.raises(ForgedCallback):
        CallbackCodec(TOKEN).open(params, body.encode())


def test_success_and_reply_budget() -> None:
    params, body = platform().signed(text_xml())
    codec = CallbackCodec(TOKEN)
    envelope = codec.open(params, body.encode())
    assert codec.seal(envelope, None) == ("success", "text/plain")
    room = codec.content_budget(envelope)
    assert 1700 < room < 2048
    rendered = codec.render(envelope, "质" * (room // 3))
    assert byte_length(rendered) <= 2048
    assert f"<ToUserName><![CDATA[{OPENID}]]></ToUserName>" in rendered
