"""``build_telegram_channel``: what it accepts, refuses and derives (no network needed)."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from bot.telegram.runtime import build_telegram_channel
from core.errors import ConfigurationError
from tests.fakes.desk import FakeDesk

TOKEN = "123456:ABC-def_ghi"


def build(**overrides: object):
    args: dict[str, object] = {
        "token": TOKEN,
        "api_url": None,
        "file_url": None,
        "webhook_url": None,
        "webhook_secret": None,
        "expert_chat_id": -100123,
        "max_file_bytes": 50 * 1024 * 1024,
    }
    args.update(overrides)
    desk = FakeDesk()
    return build_telegram_channel(desk, desk.memory, **args)  # type: ignore[arg-type]


def test_polling_by_default_with_no_routes():
    channel = build()
    assert channel.name == "telegram"
    assert channel.routes() == []
    assert channel.application.updater is not None
    assert channel.services.max_file_bytes == 20 * 1024 * 1024  # Telegram's getFile limit


def test_webhook_mode_has_one_route_and_no_updater():
    channel = build(webhook_url="https://desk.example.cn/hooks/tg", webhook_secret="abc_DEF-123")
    [route] = channel.routes()
    assert isinstance(route, Route) and route.path == "/hooks/tg" and route.methods == {"POST"}
    assert channel.application.updater is None


def test_self_hosted_bot_api_server_gets_file_url_and_its_own_size_limit():
    channel = build(api_url="http://127.0.0.1:8081/bot")
    bot = channel.application.bot
    assert bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    assert channel.services.max_file_bytes == 50 * 1024 * 1024


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"token": ""}, "token"),
        ({"webhook_url": "https://x.cn/tg"}, "secret"),
    ],
)
def test_unsafe_or_incomplete_settings_are_refused(overrides, problem):
    with pytest.raises(ConfigurationError, match=problem):
        build(**overrides)


def test_inbound_keys_name_what_the_user_did_not_the_update_number():
    from telegram import Update

    from bot.telegram.intake import inbound_key

    chat = {"id": 7, "type": "private"}
    user = {"id": 7, "is_bot": False, "first_name": "甲"}
    message = {"message_id": 3, "date": 0, "chat": chat, "from": user, "text": "问"}
    first = Update.de_json({"update_id": 1, "message": message}, None)
    restarted = Update.de_json({"update_id": 1, "message": {**message, "message_id": 4}}, None)
    edited = Update.de_json({"update_id": 2, "edited_message": {**message, "edit_date": 60}}, None)
    press = Update.de_json(
        {"update_id": 3, "callback_query": {"id": "cb9", "from": user, "chat_instance": "x"}}, None
    )
    later = Update.de_json({"update_id": 4, "message": {**message, "date": 86400}}, None)
    keys = [inbound_key(u, 555) for u in (first, restarted, edited, press, later)]
    assert keys == [
        "telegram:555:message:7:3:0",
        "telegram:555:message:7:4:0",
        "telegram:555:edit:7:3:60",
        "telegram:555:callback:cb9",
        "telegram:555:message:7:3:86400",  # the same message id again, after a bot swap
    ]
    assert inbound_key(first, 556) != keys[0]  # another bot
