"""``qadesk serve`` with a Telegram token: the one ASGI app (``app.server.create_app``) with its
lifespan, built by ``app.bootstrap`` from settings, runs the bot against the stand-in Bot API
(``QADESK_TELEGRAM_API_URL``) — long polling by default, the shared server's webhook route
when a webhook URL is set — and its outbox dispatcher brings cards to experts and answers to
askers with nobody calling the notifier by hand.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import bootstrap
from app.server import create_app
from app.settings import Settings
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import (
    EXPERT_CHAT,
    Telegram,
    group_chat,
    no_proxy,
    tg_user,
)
from tests.fakes.telegram_wire import listening_socket, serve_asgi

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ASKER = tg_user(1001, "老板")
WANG = tg_user(2001, "王工")
GROUP = group_chat(EXPERT_CHAT)
SECRET = "server-Secret_42"
QUESTION = "锅炉要年检吗？"
ANSWER = "锅炉属于特种设备，使用单位应当按规定向检验机构申请定期检验。"


@pytest.fixture
async def api():
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


@contextlib.asynccontextmanager
async def qadesk_serve(api: FakeBotApi, data_dir: Path, *, webhook: bool) -> AsyncIterator[str]:
    """The server as ``qadesk serve`` runs it; yields its base URL."""
    sock = listening_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "admins": ["telegram:9001"],
        "experts": ["telegram:2001"],
        "telegram_token": api.token,
        "telegram_api_url": api.base_url,
        "telegram_expert_chat_id": EXPERT_CHAT,
    }
    if webhook:
        values |= {
            "telegram_webhook_url": f"{base}/telegram/webhook",
            "telegram_webhook_secret": SECRET,
        }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    container = bootstrap.build(settings, embedder=FakeEmbedder())
    server, task, _ = await serve_asgi(create_app(settings, container), sock, lifespan="on")
    try:
        yield base
    finally:
        server.should_exit = True
        await task


async def test_serve_runs_the_bot_by_long_polling_and_the_outbox_does_the_rest(api, tmp_path):
    tg = Telegram(api)
    async with qadesk_serve(api, tmp_path, webhook=False) as base:
        await api.wait_for(lambda: api.polling == 1, what="long polling")
        async with httpx.AsyncClient(trust_env=False) as http:
            health = (await http.get(f"{base}/healthz")).json()
        assert health["channels"] == ["telegram"]
        await tg.text(ASKER, QUESTION)
        await api.wait_message(1001, "专家")
        card = await api.wait_message(EXPERT_CHAT, QUESTION)  # the dispatcher posted it
        await tg.press(WANG, card, card.button("认领"))
        await api.wait_for(lambda: "王工 已认领" in card.plain)
        await tg.text(WANG, ANSWER, chat=GROUP, reply_to=card)
        delivered = await api.wait_message(1001, ANSWER)  # the dispatcher delivered it
        assert [label for label, _ in delivered.buttons()] == ["👍 有用", "没解决", "转人工专家"]
    last = api.called("getUpdates")[-1]
    assert float(last.params["timeout"]) == 0  # stopped cleanly, updates confirmed
    assert api.calls[0].method == "getMe"


async def test_serve_in_webhook_mode_takes_updates_on_its_own_route(api, tmp_path):
    tg = Telegram(api)
    async with qadesk_serve(api, tmp_path, webhook=True) as base:
        await api.wait_for(lambda: api.webhook is not None, what="webhook set")
        assert api.webhook["url"] == f"{base}/telegram/webhook"
        assert api.webhook["secret_token"] == SECRET
        forged = {"update_id": 77, "message": {"message_id": 1, "date": 0, "text": QUESTION,
                  "chat": {"id": 1001, "type": "private"}, "from": ASKER}}  # fmt: skip
        assert await api.deliver(forged, secret="not-the-secret") == 403
        await tg.text(ASKER, QUESTION)
        await api.wait_message(1001, "专家")
        await api.wait_message(EXPERT_CHAT, QUESTION)
    assert api.called("getUpdates") == []
    assert api.webhook_statuses == [200]
    assert len(api.messages(1001)) == 1  # the forged update was never handled
