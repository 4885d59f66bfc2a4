"""How the Telegram Bot API speaks HTTP, for the stand-in server: request bodies (form, JSON,
multipart), error responses, and the checks Telegram makes on HTML text and buttons.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import html
import json
import re
import socket
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


def parse_telegram_html(text: str) -> str:
    """The plain text of Telegram HTML, or ApiError 400 as Telegram would answer."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "<":
            match = _TAG.match(text, pos)
            name = match.group(2).lower() if match else ""
            if not match or name not in ALLOWED_TAGS:
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported tag at {pos}")
            if match.group(1):
                if not stack or stack[-1] != name:
                    raise ApiError(
                        400, f'Bad Request: can\'t parse entities: unexpected end tag "{name}"'
                    )
                stack.pop()
            else:
                stack.append(name)
            pos = match.end()
        elif char == "&":
            match = _ENTITY.match(text, pos)
            if not match:
                raise ApiError(400, f"Bad Request: can't parse entities: bare '&' at {pos}")
            out.append(html.unescape(match.group()))
            pos = match.end()
        else:
            out.append(char)
            pos += 1
    if stack:
        raise ApiError(400, f'Bad Request: can\'t parse entities: no end tag for "{stack[-1]}"')
    return "".join(out)


def utf16_len(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def markup_of(value: Any) -> dict[str, Any] | None:
    if not value:
        return None
    markup = value if isinstance(value, dict) else json.loads(value)
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if len(button.get("callback_data", "").encode()) > 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def chat_of(params: dict[str, Any]) -> int:
    chat = int_or_none(params.get("chat_id"))
    if chat is None:
        raise ApiError(400, "Bad Request: chat not found")
    return chat


def error_response(exc: ApiError) -> Response:
    if exc.status == 502:  # what a proxy in front of the Bot API sends: not JSON
        return Response("<html><body>502 Bad Gateway</body></html>", 502, media_type="text/html")
    body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.retry_after is not None:
        body["parameters"] = {"retry_after": exc.retry_after}
    return JSONResponse(body, exc.status)


async def read_params(request: Request) -> dict[str, Any]:
    """Form, JSON or multipart body (plus the query string); JSON-looking values decoded."""
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    kind = request.headers.get("content-type", "")
    if not body:
        return params
    if kind.startswith("application/json"):
        params.update(json.loads(body))
        return params
    if kind.startswith("multipart/form-data"):
        raw = f"Content-Type: {kind}\r\n\r\n".encode() + body
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                params[str(name)] = {"filename": part.get_filename(), "data": payload}
            else:
                params[str(name)] = _decode(payload.decode())
        return params
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        params[key] = _decode(value)
    return params


def _decode(value: str) -> Any:
    if value[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


def listening_socket() -> socket.socket:
    """A socket bound to a free 127.0.0.1 port and listening (clients may connect at once: the
    kernel queues them until a server accepts)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


async def serve_asgi(
    app: Any, sock: socket.socket | None = None, *, lifespan: str = "off"
) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    """Serve ``app`` with uvicorn in this event loop (on ``sock``, else a fresh free port);
    returns the server, its task and the port. ``lifespan="on"`` runs the app's start-up and
    shut-down (as ``qadesk serve`` does)."""
    sock = sock or listening_socket()
    config = uvicorn.Config(
        app, log_level="warning", lifespan=lifespan, timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    return server, task, sock.getsockname()[1]
