"""``qadesk serve`` with the web console on, for browser tests: the one ASGI app
(``app.server.create_app``, lifespan on: the outbox dispatcher, the Telegram channel polling the
stand-in Bot API) served by uvicorn on 127.0.0.1 in a thread of its own, so a test can drive
Chromium (blocking) while the server and the stand-in keep running.

``ConsoleServer.run(coro)`` runs a coroutine (the stand-in's helpers) on the server's loop;
``login_link(user)`` asks the bot for a login link as that Telegram user would (``/console``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app import bootstrap
from app.server import create_app
from app.settings import Settings
from core.people import Channel, UserRef
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import Telegram, no_proxy
from tests.fakes.telegram_wire import listening_socket, serve_asgi

T = TypeVar("T")
SECRET = "console-secret-for-tests-0123456789abcdef"


@dataclass
class ConsoleServer:
    base: str  # http://127.0.0.1:port
    api: FakeBotApi
    tg: Telegram
    container: bootstrap.Container
    loop: asyncio.AbstractEventLoop

    @property
    def console(self) -> str:
        return f"{self.base}/console"

    @property
    def desk(self) -> Any:
        return self.container.desk

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def login_link(self, user: dict[str, Any]) -> str:
        """The link the bot sends ``user`` (a Telegram user dict) for /console."""
        before = self.last_id(user["id"])
        self.run(self.tg.text(user, "/console"))
        sent = self.run(self.api.wait_message(user["id"], "登录链接", after=before))
        found = re.search(r"https?://\S+", sent.plain)
        assert found, sent.plain
        return found.group(0)

    def sign_in(self, browser: Any, user: dict[str, Any]) -> str:
        """``user`` signs in with the link the bot sent them and lands on the queue, their
        name in the header; the link used."""
        link = self.login_link(user)
        browser.open(link)
        browser.wait_for("#login-button")
        browser.click("#login-button")
        browser.wait_url("/console/queue")
        browser.wait_text(user["first_name"], "header")
        return link

    def last_id(self, chat_id: int) -> int:
        sent = self.api.messages(chat_id)
        return sent[-1].message_id if sent else 0

    def ask(self, user: dict[str, Any], text: str) -> str:
        """``user`` asks on Telegram; the bot's reply."""
        before = len(self.api.messages(user["id"]))
        self.run(self.tg.text(user, text))
        reply = self.run(self.api.wait_for(lambda: self.api.messages(user["id"])[before:] or None))
        return str(reply[0].plain)


def telegram_ref(user: dict[str, Any]) -> UserRef:
    uid = str(user["id"])
    return UserRef(Channel.TELEGRAM, uid, uid, user.get("first_name"))


@contextlib.contextmanager
def console_server(
    data_dir: Path, *, embedder: Any, admins: list[str], experts: list[str], **values: Any
) -> Iterator[ConsoleServer]:
    """The desk with Telegram (stand-in) and the console on, until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="console-server", daemon=True)
    thread.start()

    def run(coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    with no_proxy():
        api = run(FakeBotApi().start())
        sock = listening_socket()
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=data_dir,
            admins=admins,
            experts=experts,
            telegram_token=api.token,
            telegram_api_url=api.base_url,
            console_enabled=True,
            console_secret=SECRET,
            console_base_url=f"{base}/console",
            console_refresh_seconds=1,
            **values,
        )
        container = bootstrap.build(settings, embedder=embedder)
        server, task, _ = run(serve_asgi(create_app(settings, container), sock, lifespan="on"))
        try:
            run(api.wait_for(lambda: api.polling >= 1, what="long polling"))
            yield ConsoleServer(base, api, Telegram(api), container, loop)
        finally:
            server.should_exit = True

            async def finished() -> None:
                await task

            run(finished())
            run(api.stop())
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
