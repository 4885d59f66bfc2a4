"""What ``qadesk serve`` writes to its log while WeChat users talk to it: logging configured and
uvicorn started the way the command does (``bootstrap.configure_logging``, then
``log_level="info"`` with uvicorn's own access log on), every line captured.

A WeChat callback URL carries the signature, timestamp, nonce and the sender's openid; none of
them, and no openid at all, may reach a log line — while the access log still tells which
method, path and status each request had.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from app import bootstrap
from app.server import create_app
from app.settings import Settings
from core.people import Channel, UserRef
from tests.fakes.knowledge import FakeKnowledge
from tests.fakes.wechat_api import WeChatApiStandIn, serve
from tests.fakes.wechat_platform import TOKEN, WeChatPlatform, new_openid

pytestmark = pytest.mark.e2e

EXPERT = UserRef(Channel.TELEGRAM, "2001", display_name="李工")
ANSWERABLE = "用于贸易结算的电子秤需要强制检定吗？"
ESCALATED = "锅炉要年检吗？"
WATCHED = ("", "uvicorn", "uvicorn.access", "uvicorn.error")  # where records end up


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def configured_as_served() -> Iterator[None]:
    """``bootstrap.configure_logging("INFO")`` as ``qadesk serve`` calls it; levels restored
    afterwards."""
    names = ["", *logging.root.manager.loggerDict]
    levels = {name: logging.getLogger(name).level for name in names}
    bootstrap.configure_logging("INFO")
    logging.getLogger().setLevel(logging.INFO)  # basicConfig does nothing under pytest
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextmanager
def captured() -> Iterator[Lines]:
    """Every line logged at INFO or above, by the app and by uvicorn (call after uvicorn's
    configuration, which replaces its loggers' handlers)."""
    handler = Lines()
    for name in WATCHED:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in WATCHED:
            logging.getLogger(name).removeHandler(handler)


async def test_no_query_string_or_openid_reaches_the_log(tmp_path: Path) -> None:
    api = WeChatApiStandIn()
    asker, other = new_openid(), new_openid()
    with configured_as_served():
        await talk_and_watch(api, tmp_path, asker, other)


async def talk_and_watch(api: WeChatApiStandIn, tmp_path: Path, asker: str, other: str) -> None:
    async with serve(api.app()) as api_url:
        settings = Settings(
            _env_file=None,
            data_dir=tmp_path,
            experts=["telegram:2001=other"],
            wechat_token=TOKEN,
            wechat_app_id=api.app_id,
            wechat_app_secret=api.secret,
            wechat_api_url=api_url,
        )
        container = bootstrap.build(settings, knowledge=FakeKnowledge())  # type: ignore[arg-type]
        app = create_app(settings, container)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)  # requests wait in the backlog until start-up is done
        port = sock.getsockname()[1]
        # as `qadesk serve` runs it: uvicorn.run(app, host=…, port=…, log_level="info")
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info"))
        with captured() as log:
            task = asyncio.create_task(server.serve(sockets=[sock]))
            platform = WeChatPlatform([f"http://127.0.0.1:{port}/wechat"], token=TOKEN, api=api)
            try:
                verified = await platform.verify_url(echostr="qadesk")
                answered = await platform.send_text(asker, ANSWERABLE)
                escalated = await platform.send_text(asker, ESCALATED)
                subscribed = await platform.send_event(other, "subscribe")
                media = await platform.send_media(other, "image")
                await platform.send_event(other, "unsubscribe")
                xml = platform.message_xml(
                    other, {"MsgType": "text", "Content": "3C", "MsgId": "1"}
                )
                params, body = platform.signed(xml, openid=other)
                forged = await platform.post_raw(
                    body.encode(), params={**params, "signature": "0" * 40}
                )
                (ticket,) = container.desk.my_tickets(UserRef(Channel.WECHAT, asker))
                container.desk.claim(EXPERT, ticket.ticket_id)
                container.desk.answer_ticket(EXPERT, ticket.ticket_id, "锅炉应定期检验。")
                await api.wait_sent(asker, 1)
            finally:
                await platform.aclose()
                server.should_exit = True
                await task
                sock.close()
    assert verified.text == "qadesk" and forged.status_code == 403
    assert answered.reply and escalated.reply and subscribed.reply and media.reply
    leaks = [
        line
        for line in log.lines
        if asker in line
        or other in line
        or any(word in line for word in ("signature=", "nonce=", "timestamp=", "openid=", "?"))
    ]
    assert leaks == []
    access = [line for line in log.lines if line.startswith("uvicorn.access")]
    assert any('"POST /wechat HTTP/1.1" 200' in line for line in access)  # still on
    assert any('"POST /wechat HTTP/1.1" 403' in line for line in access)
    assert any('"GET /wechat HTTP/1.1" 200' in line for line in access)
    assert any(line.startswith("bot.wechat") for line in log.lines)  # the channel did log
