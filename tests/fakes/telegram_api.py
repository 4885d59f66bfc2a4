"""A stand-in Telegram Bot API server on 127.0.0.1, for driving the real bot over HTTP.

It serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` like api.telegram.org:
form, JSON and multipart bodies; ``getUpdates`` long-polls, honouring ``offset`` (confirmed
updates are forgotten) and ``timeout``; the messages the bot sends are kept (with their edits)
and checked the way Telegram checks them (HTML entities, 4096 characters, 64-byte callback
data, "message is not modified"); files are served through ``getFile``; with a webhook set it
POSTs updates to it with the secret header; and faults can be injected (429 with
``retry_after``, 400, 403, 502, delays, a user who blocked the bot).

Tests wait on :meth:`FakeBotApi.wait_for` (a condition notified on every request), never on
sleeps. How the Bot API speaks HTTP (bodies, errors, Telegram's HTML check) is in
``tests.fakes.telegram_wire``; update builders and the bot harness in
``tests.fakes.telegram_harness``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.telegram_wire import (
    ApiError,
    chat_of,
    error_response,
    int_or_none,
    markup_of,
    parse_telegram_html,
    read_params,
    serve_asgi,
    utf16_len,
)

__all__ = ["ApiCall", "ApiError", "FakeBotApi", "SentMessage", "parse_telegram_html", "serve_asgi"]


@dataclass
class SentMessage:
    """A message the bot sent, as the stand-in keeps it."""

    chat_id: int
    message_id: int
    text: str  # as sent (HTML)
    plain: str  # after entity parsing: what the user reads
    reply_markup: dict[str, Any] | None = None
    reply_to: int | None = None
    edits: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)
    sent_at: float = field(default_factory=time.monotonic)

    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def button(self, label: str) -> str:
        """The callback data of the button whose label contains ``label``."""
        for text, data in self.buttons():
            if label in text:
                return data
        raise AssertionError(f"no button {label!r} in {self.buttons()}")


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float  # when it arrived
    status: int | None = 200  # None while the call is in flight


@dataclass
class Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | None = None
    after: int = 0  # matching calls that pass before the fault starts


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    path: str
    data: bytes


class FakeBotApi:
    def __init__(self, token: str = "123456:TEST-token_abc", *, bot_id: int = 123456) -> None:
        self.token = token
        self.bot = {"id": bot_id, "is_bot": True, "first_name": "质量专家", "username": "qadesk_test_bot",
                    "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}  # fmt: skip
        self.calls: list[ApiCall] = []
        self.sent: dict[tuple[int, int], SentMessage] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.chat_actions: list[tuple[int, str, float]] = []
        self.files: dict[str, StoredFile] = {}
        self.downloads: list[str] = []
        self.failed_downloads: list[str] = []
        self.webhook: dict[str, Any] | None = None
        self.webhook_statuses: list[int] = []
        self.commands: dict[str, Any] = {}
        self.blocked: set[int] = set()
        self.polling = 0  # getUpdates calls waiting right now
        self.chat_types: dict[int, str] = {}
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._faults: list[Fault] = []
        self._delays: list[tuple[str, float, int | None]] = []
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    # --- life cycle -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> FakeBotApi:
        app = Starlette(routes=[
            Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
            Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
        ])  # fmt: skip
        self._server, self._task, self.port = await serve_asgi(app)
        return self

    async def stop(self) -> None:
        self._closing.set()
        async with self._changed:
            self._changed.notify_all()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- what tests set up ----------------------------------------------------------------
    def fail(self, method: str, status: int, description: str = "", *, retry_after: int | None = None,
             times: int = 1, chat_id: int | None = None, after: int = 0) -> None:  # fmt: skip
        """The next ``times`` calls of ``method`` (to ``chat_id``, if given) fail, once ``after``
        of them went through."""
        default = {400: "Bad Request: injected", 403: "Forbidden: bot was blocked by the user",
                   429: f"Too Many Requests: retry after {retry_after}", 502: "Bad Gateway"}  # fmt: skip
        self._faults.append(Fault(method, status, description or default.get(status, "Error"),
                                  retry_after, times, chat_id, after))  # fmt: skip

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()

    def delay(self, method: str, seconds: float, chat_id: int | None = None) -> None:
        """Every call of ``method`` (to ``chat_id``) waits ``seconds`` before it is answered."""
        self._delays.append((method, seconds, chat_id))

    def add_file(
        self, data: bytes, name: str, *, declared_size: int | None = None
    ) -> dict[str, Any]:
        """Store a file; returns the ``document`` object a message carries."""
        number = len(self.files) + 1
        file_id, unique = f"FILE{number:04d}-{name.encode().hex()[:16]}", f"u{number:04d}"
        self.files[file_id] = StoredFile(
            file_id, unique, f"documents/file_{number}{PurePosixPath(name).suffix}", data
        )
        return {"file_id": file_id, "file_unique_id": unique, "file_name": name,
                "file_size": len(data) if declared_size is None else declared_size}  # fmt: skip

    async def push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (``update_id`` added), or POST it to the webhook when one is set."""
        update = {"update_id": next(self._update_ids), **payload}
        if self.webhook is not None:
            status = await self.deliver(update)
            self.webhook_statuses.append(status)
        else:
            async with self._changed:
                self._pending.append(update)
                self._changed.notify_all()
        return update

    async def deliver(self, update: dict[str, Any], secret: str | None = None) -> int:
        """POST ``update`` to the webhook with the secret header (``secret`` overrides it)."""
        assert self.webhook is not None, "no webhook set"
        token = self.webhook.get("secret_token") if secret is None else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        async with httpx.AsyncClient(trust_env=False) as client:
            response = await client.post(self.webhook["url"], json=update, headers=headers)
        return response.status_code

    def new_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    # --- what tests look at ---------------------------------------------------------------
    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = ""
    ) -> Any:
        """Wait until ``predicate()`` is truthy (checked after every request); return it."""
        async with self._changed:
            try:
                return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                methods = [c.method for c in self.calls[-15:]]
                raise AssertionError(
                    f"timed out waiting for {what or predicate}; last calls {methods}"
                ) from None

    def messages(self, chat_id: int) -> list[SentMessage]:
        return [m for (c, _), m in sorted(self.sent.items()) if c == chat_id]

    def find(self, chat_id: int, contains: str, after: int = 0) -> SentMessage | None:
        for message in self.messages(chat_id):
            if message.message_id > after and contains in message.plain:
                return message
        return None

    async def wait_message(
        self, chat_id: int, contains: str, after: int = 0, timeout: float = 10.0
    ) -> SentMessage:
        found: SentMessage = await self.wait_for(
            lambda: self.find(chat_id, contains, after),
            timeout,
            f"message to {chat_id} with {contains!r}",
        )
        return found

    def called(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def confirmed(self, update_id: int) -> bool:
        """Whether the bot has fetched ``update_id`` (a later getUpdates offset is past it)."""
        return any(
            (int_or_none(c.params.get("offset")) or 0) > update_id
            for c in self.called("getUpdates")
        )

    # --- the HTTP side --------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> Response:
        token, method = request.path_params["token"], request.path_params["method"]
        call = ApiCall(method, await read_params(request), time.monotonic(), status=None)
        async with self._changed:  # visible at once: tests may wait for a call in flight
            self.calls.append(call)
            self._changed.notify_all()
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            await self._maybe_delay(method, call.params)
            self._maybe_fail(method, call.params)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(call.params)
            response: Response = JSONResponse({"ok": True, "result": result})
            status = 200
        except ApiError as exc:
            response, status = error_response(exc), exc.status
        async with self._changed:
            call.status = status
            self._changed.notify_all()
        return response

    async def _file(self, request: Request) -> Response:
        token, path = unquote(request.path_params["token"]), request.path_params["path"]
        stored = next((f for f in self.files.values() if f.path == path), None)
        if token != self.token or stored is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        try:
            self._maybe_fail("download", {})  # fail("download", 502) breaks the next download
        except ApiError as exc:
            self.failed_downloads.append(path)
            return error_response(exc)
        async with self._changed:
            self.downloads.append(path)
            self._changed.notify_all()
        return Response(stored.data, media_type="application/octet-stream")

    async def _maybe_delay(self, method: str, params: dict[str, Any]) -> None:
        for name, seconds, chat_id in self._delays:
            if name == method and (
                chat_id is None or int_or_none(params.get("chat_id")) == chat_id
            ):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), seconds)

    def _maybe_fail(self, method: str, params: dict[str, Any]) -> None:
        chat = int_or_none(params.get("chat_id"))
        if chat in self.blocked and method.startswith(("send", "edit")):
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        for fault in self._faults:
            if fault.method == method and fault.times > 0 and fault.chat_id in (None, chat):
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                raise ApiError(fault.status, fault.description, fault.retry_after)

    # --- Bot API methods ------------------------------------------------------------------
    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return self.bot

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._pending.clear()
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        if not str(params.get("url", "")).startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: invalid url")
        self.webhook = params
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._pending)}  # fmt: skip

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands[json.dumps(params.get("scope"), sort_keys=True)] = params.get("commands")
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int_or_none(params.get("offset")) or 0
        timeout = float(params.get("timeout") or 0)
        limit = int_or_none(params.get("limit")) or 100
        async with self._changed:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            self.polling += 1
            self._changed.notify_all()
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(self._pending) or self._closing.is_set()),
                    timeout,
                )
            except TimeoutError:
                pass
            finally:
                self.polling -= 1
            return [u for u in self._pending if u["update_id"] >= offset][:limit]

    async def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        self.chat_actions.append((chat_of(params), str(params.get("action")), time.monotonic()))
        return True

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = chat_of(params)
        text, plain, markup = self._checked_text(params)
        reply = params.get("reply_parameters") or {}
        message = SentMessage(chat_id, self.new_message_id(chat_id), text, plain, markup,
                              int_or_none(reply.get("message_id")))  # fmt: skip
        self.sent[(chat_id, message.message_id)] = message
        return self._message_json(message)

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        message = self._existing(params)
        text, plain, markup = self._checked_text(params)
        if text == message.text and markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content "
                                "and reply markup are exactly the same")  # fmt: skip
        message.edits.append((message.text, message.reply_markup))
        message.text, message.plain, message.reply_markup = text, plain, markup
        return self._message_json(message)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        message = self._existing(params)
        markup = markup_of(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        message.edits.append((message.text, message.reply_markup))
        message.reply_markup = markup
        return self._message_json(message)

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id"))
        if query_id in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params
        return True

    async def _api_getFile(self, params: dict[str, Any]) -> Any:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.unique_id,
                "file_size": len(stored.data), "file_path": stored.path}  # fmt: skip

    async def _api_deleteMessage(self, params: dict[str, Any]) -> Any:
        self.sent.pop((chat_of(params), int_or_none(params.get("message_id")) or 0), None)
        return True

    # --- checks Telegram makes ------------------------------------------------------------
    def _checked_text(self, params: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        text = str(params.get("text") or "")
        plain = parse_telegram_html(text) if params.get("parse_mode") == "HTML" else text
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return text, plain, markup_of(params.get("reply_markup"))

    def _existing(self, params: dict[str, Any]) -> SentMessage:
        message = self.sent.get((chat_of(params), int_or_none(params.get("message_id")) or 0))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        chat_type = self.chat_types.get(
            message.chat_id, "private" if message.chat_id > 0 else "supergroup"
        )
        data: dict[str, Any] = {
            "message_id": message.message_id, "date": int(time.time()), "from": self.bot,
            "chat": {"id": message.chat_id, "type": chat_type}, "text": message.plain,
        }  # fmt: skip
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data
