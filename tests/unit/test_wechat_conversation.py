"""What the desk says to a WeChat message, without HTTP: commands, held messages, errors, and
the factory's refusals."""

from __future__ import annotations

import asyncio

import pytest

import prompts
from bot.wechat import build_wechat_channel
from bot.wechat.conversation import Command, Conversation, command_of, welcome
from bot.wechat.delivery import Responder
from bot.wechat.outbound import Pusher
from bot.wechat.protocol import Inbound, InboundKind
from bot.wechat.state import WeChatState
from core.errors import ConfigurationError
from core.people import Channel, IncomingMessage, UserRef
from tests.fakes.desk import FakeDesk
from tests.fakes.memory import FakeMemory

USER = UserRef(Channel.WECHAT, "o6_bmjrPTlm6_2sgVt7hMZOPfL2M")


def text(content: str, n: int = 1) -> Inbound:
    key = f"wechat:msg:{n}"
    return Inbound(InboundKind.TEXT, IncomingMessage(USER, content, key), key, "text", "gh")


def event(name: str, event_key: str = "") -> Inbound:
    key = f"wechat:evt:{USER.user_id}:1:{name}"
    return Inbound(
        InboundKind.EVENT, IncomingMessage(USER, "", key), key, "event", "gh", name, event_key
    )


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("0", Command.MORE),
        (" 0 ", Command.MORE),
        ("１", Command.HELPFUL),
        ("2", Command.EXPERT),
        ("我的问题", Command.MY_QUESTIONS),
        ("帮助", Command.HELP),
        ("10", None),
        ("1. 3C认证怎么办", None),
        ("我的问题是锅炉要不要检验", None),
    ],
)
def test_commands_are_whole_messages(typed: str, command: Command | None) -> None:
    assert command_of(typed) is command


async def test_held_messages_come_first_then_the_answer() -> None:
    desk = FakeDesk()
    desk.memory.hold(USER, "专家已回复您的问题：\n要检验。")
    conversation = Conversation(desk, WeChatState(desk.memory))
    reply = await conversation.respond(text("3C认证？"))
    assert reply is not None
    held, answer = reply.split("\n\n", 1)
    assert held.startswith("专家已回复您的问题")
    assert answer.startswith("列入目录的产品须经强制性产品认证。")
    assert desk.memory.take_held(USER) == []


async def test_the_answer_remembers_its_interaction_in_the_channel_memory() -> None:
    desk = FakeDesk()
    state = WeChatState(desk.memory)
    await Conversation(desk, state).respond(text("3C认证？"))
    (iid,) = desk._interactions
    assert desk.memory.value(f"wechat-last:{USER.user_id}") == str(iid)
    assert await state.last_interaction(USER) == iid


async def test_desk_errors_become_chinese_text() -> None:
    desk = FakeDesk()
    reply = await Conversation(desk, WeChatState(desk.memory)).respond(
        text("   ")
    )  # InvalidQuestion
    assert reply == prompts.error_text("invalid_question")


async def test_events_without_anything_to_say() -> None:
    conversation = Conversation(FakeDesk(), WeChatState(FakeMemory()))
    assert await conversation.respond(event("view", "https://example.com")) is None
    assert await conversation.respond(event("location")) is None
    assert await conversation.respond(event("click", "UNKNOWN")) is None
    assert await conversation.respond(event("click", "help")) == prompts.text("wechat.help")
    assert await conversation.respond(event("subscribe")) == welcome()


def test_factory_refuses_unsafe_settings() -> None:
    desk = FakeDesk()
    base = dict(token="t", aes_key=None, app_id=None, app_secret=None, api_url=None)
    with pytest.raises(ConfigurationError):
        build_wechat_channel(desk, desk.memory, **{**base, "token": ""}, wecom_robot_url=None)
    with pytest.raises(ConfigurationError):  # safe mode needs the AppID
        build_wechat_channel(
            desk, desk.memory, **{**base, "aes_key": "a" * 43}, wecom_robot_url=None
        )
    with pytest.raises(ConfigurationError):  # not a key wechatpy can use
        build_wechat_channel(
            desk, desk.memory, **{**base, "aes_key": "short", "app_id": "wx1"}, wecom_robot_url=None
        )
    with pytest.raises(ConfigurationError):  # WeChat gives up after 5 s
        build_wechat_channel(desk, desk.memory, **base, wecom_robot_url=None, reply_budget_s=5.0)
    plain = build_wechat_channel(desk, desk.memory, **base, wecom_robot_url=None)
    assert plain.api is None
    assert [r.path for r in plain.routes()] == ["/wechat", "/wechat"]  # type: ignore[attr-defined]


class BrokenMemory(FakeMemory):
    def record_inbound(self, user: UserRef, message_key: str) -> bool:
        raise RuntimeError("database is down")


async def test_a_memory_that_cannot_record_gets_a_polite_error() -> None:
    desk = FakeDesk()
    state = WeChatState(BrokenMemory())
    responder = Responder(state, Conversation(desk, state), Pusher(state, None), budget_s=1.0)

    async def connected() -> bool:
        return True

    now = asyncio.get_running_loop().time()
    reply = await responder.respond(text("3C认证？"), 2000, now, connected)
    assert reply == prompts.error_text("error")
    assert desk.asked == []
    assert len(responder.jobs) == 0  # a re-delivery starts afresh
    state.close()
