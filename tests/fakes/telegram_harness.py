"""Users talking to the stand-in Bot API, and the real bot running against it.

``Telegram(api)`` builds updates the way Telegram does (strict objects, a ``bot_command``
entity for commands, replies carrying the replied-to message) and queues them on the stand-in.
``running_bot(api, desk)`` starts the real Telegram channel (``build_telegram_channel``) pointed
at the stand-in with ``base_url``/``base_file_url``, in polling or webhook mode.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from docx import Document
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from starlette.applications import Starlette

from bot.telegram.runtime import TelegramChannel, build_telegram_channel
from bot.telegram.services import Tuning
from core.ports import ChannelMemory
from tests.fakes.memory import memory_of
from tests.fakes.telegram_api import FakeBotApi, SentMessage, serve_asgi

EXPERT_CHAT = -1001234567890
WEBHOOK_SECRET = "s3cret-Token_for-tests"
# Quick retries, and flood control loose enough for scripted conversations (the flood test
# sets its own).
FAST = Tuning(poll_timeout_s=5, network_backoff_s=0.05, flood_capacity=30)


def tg_user(uid: int, first_name: str = "用户", last_name: str | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": uid,
        "is_bot": False,
        "first_name": first_name,
        "language_code": "zh-hans",
    }
    if last_name:
        user["last_name"] = last_name
    return user


def private_chat(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "type": "private", "first_name": user["first_name"]}


def group_chat(chat_id: int, title: str = "质量专家组") -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": title}


class Telegram:
    """Users doing things in Telegram; each call queues one update on the stand-in."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self._queries = itertools.count(1)

    def _message(
        self, user: dict[str, Any], chat: dict[str, Any] | None, **content: Any
    ) -> dict[str, Any]:
        chat = chat or private_chat(user)
        self.api.chat_types[chat["id"]] = chat["type"]
        return {"message_id": self.api.new_message_id(chat["id"]), "date": int(time.time()),
                "chat": chat, "from": user, **content}  # fmt: skip

    async def text(self, user: dict[str, Any], text: str, chat: dict[str, Any] | None = None,
                   reply_to: SentMessage | None = None) -> dict[str, Any]:  # fmt: skip
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            content["reply_to_message"] = self.bot_message(reply_to)
        message = self._message(user, chat, **content)
        return await self.api.push_update({"message": message})

    def bot_message(self, sent: SentMessage) -> dict[str, Any]:
        chat_type = self.api.chat_types.get(
            sent.chat_id, "private" if sent.chat_id > 0 else "supergroup"
        )
        return {"message_id": sent.message_id, "date": int(time.time()), "from": self.api.bot,
                "chat": {"id": sent.chat_id, "type": chat_type}, "text": sent.plain}  # fmt: skip

    async def press(self, user: dict[str, Any], message: SentMessage, data: str) -> str:
        query_id = f"q{next(self._queries)}"
        await self.api.push_update({"callback_query": {
            "id": query_id, "from": user, "chat_instance": f"ci{message.chat_id}",
            "message": self.bot_message(message), "data": data,
        }})  # fmt: skip
        return query_id

    async def document(self, user: dict[str, Any], data: bytes, name: str,
                       declared_size: int | None = None) -> dict[str, Any]:  # fmt: skip
        document = self.api.add_file(data, name, declared_size=declared_size)
        return await self.api.push_update({"message": self._message(user, None, document=document)})

    async def media(
        self, user: dict[str, Any], kind: str, chat: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        content = {
            "photo": {"photo": [{"file_id": "P1", "file_unique_id": "p1", "width": 90, "height": 90}]},
            "sticker": {"sticker": {"file_id": "S1", "file_unique_id": "s1", "type": "regular",
                                    "width": 512, "height": 512, "is_animated": False,
                                    "is_video": False, "emoji": "👍"}},
            "voice": {"voice": {"file_id": "V1", "file_unique_id": "v1", "duration": 3}},
            "location": {"location": {"latitude": 31.23, "longitude": 121.47}},
        }[kind]  # fmt: skip
        return await self.api.push_update({"message": self._message(user, chat, **content)})

    async def edit(
        self, user: dict[str, Any], original: dict[str, Any], text: str
    ) -> dict[str, Any]:
        message = {**original["message"], "text": text, "edit_date": int(time.time())}
        return await self.api.push_update({"edited_message": message})

    async def add_bot_to(self, user: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
        self.api.chat_types[chat["id"]] = chat["type"]
        member = {"user": self.api.bot}
        return await self.api.push_update({"my_chat_member": {
            "chat": chat, "from": user, "date": int(time.time()),
            "old_chat_member": {**member, "status": "left"},
            "new_chat_member": {**member, "status": "member"},
        }})  # fmt: skip


@contextlib.contextmanager
def no_proxy() -> Any:
    saved = {k: os.environ.get(k) for k in ("NO_PROXY", "no_proxy")}
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.asynccontextmanager
async def running_bot(
    api: FakeBotApi,
    desk: Any,
    *,
    expert_chat_id: int | None = EXPERT_CHAT,
    max_file_bytes: int = 5 * 1024 * 1024,
    tuning: Tuning = FAST,
    webhook: bool = False,
    memory: ChannelMemory | None = None,
) -> AsyncIterator[TelegramChannel]:
    """The real Telegram channel, started against the stand-in; stopped on exit. ``memory``:
    by default the fake desk's own, or the real one on a real desk's store."""
    with no_proxy():
        server = task = None
        webhook_url = None
        web = Starlette()
        if webhook:
            server, task, port = await serve_asgi(web)
            webhook_url = f"http://127.0.0.1:{port}/telegram/webhook"
        channel = build_telegram_channel(
            desk,
            memory or memory_of(desk),
            token=api.token,
            api_url=api.base_url,
            file_url=api.file_url,
            webhook_url=webhook_url,
            webhook_secret=WEBHOOK_SECRET if webhook else None,
            expert_chat_id=expert_chat_id,
            max_file_bytes=max_file_bytes,
            tuning=tuning,
        )
        web.router.routes.extend(channel.routes())
        await channel.start()
        try:
            yield channel
        finally:
            await channel.stop()
            if server is not None and task is not None:
                server.should_exit = True
                await task


def make_pdf(lines: list[str]) -> bytes:
    """A real PDF with a Chinese text layer (reportlab's built-in STSong-Light CID font)."""
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    y = 800.0
    for line in lines:
        for start in range(0, max(len(line), 1), 36):  # wrap long lines
            if y < 60:
                page.showPage()
                y = 800.0
            page.setFont("STSong-Light", 12)
            page.drawString(50, y, line[start : start + 36])
            y -= 20
    page.save()
    return buffer.getvalue()


def make_docx(title: str, paragraphs: list[str]) -> bytes:
    """A real Word document: a title heading and paragraphs."""
    document = Document()
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
