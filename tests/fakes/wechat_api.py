"""A stand-in for the WeChat API server (api.weixin.qq.com) and a WeCom group robot, on
127.0.0.1, with the rules that matter to the desk:

* ``GET /cgi-bin/token`` issues a token for the right AppID/secret; a new token invalidates the
  previous one (40001), an expired one answers 42001;
* ``POST /cgi-bin/message/custom/send`` delivers a text only within 48 hours of the user's last
  message (else 45015), at most 5 per user message (else 45047), at most 2048 bytes (45002),
  and only for a verified account (else 48001);
* ``POST /cgi-bin/webhook/send?key=`` (WeCom robot) takes at most 20 messages a minute (45009).

Tests and the stand-in platform tell it when a user wrote (``note_inbound``); tests read what
arrived (``sent``, ``robot_messages``) and wait for it with deadlines (``wait_sent``).

``serve`` runs any ASGI app on a free 127.0.0.1 port for the duration of a ``async with``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

WINDOW_S = 48 * 3600
QUOTA_PER_MESSAGE = 5
ROBOT_PER_MINUTE = 20


@dataclass(frozen=True)
class SentText:
    openid: str
    content: str
    at: float


@dataclass
class _User:
    last_inbound: float | None = None
    sent_since_inbound: int = 0


@dataclass
class WeChatApiStandIn:
    app_id: str = "wx0123456789abcdef"
    secret: str = "stand-in-secret"
    robot_key: str = "robot-key-0001"
    token_ttl_s: int = 7200
    unverified: bool = False  # answer 48001 to customer-service messages
    sent: list[SentText] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)  # (openid, errcode)
    robot_messages: list[str] = field(default_factory=list)
    token_errors: list[int] = field(default_factory=list)  # 40001 / 42001 answered
    token_requests: int = 0
    send_requests: int = 0
    _tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at
    _current: str | None = None
    _users: dict[str, _User] = field(default_factory=dict)
    _robot_times: list[float] = field(default_factory=list)
    _changed: asyncio.Condition | None = None

    # --- test controls ----------------------------------------------------------------------
    def note_inbound(self, openid: str, at: float | None = None) -> None:
        """The user wrote to the account (opens the 48-hour window, resets the quota)."""
        user = self._users.setdefault(openid, _User())
        user.last_inbound = time.time() if at is None else at
        user.sent_since_inbound = 0

    def expire_current_token(self) -> None:
        if self._current:
            self._tokens[self._current] = time.time() - 1

    def texts_to(self, openid: str) -> list[str]:
        return [s.content for s in self.sent if s.openid == openid]

    async def wait_sent(self, openid: str, count: int, timeout: float = 10.0) -> list[str]:
        """The texts sent to ``openid`` once there are at least ``count`` (fails after
        ``timeout`` seconds)."""
        condition = self._condition()
        async with asyncio.timeout(timeout), condition:
            await condition.wait_for(lambda: len(self.texts_to(openid)) >= count)
        return self.texts_to(openid)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Until ``predicate()`` holds, checked whenever a request arrives (fails after
        ``timeout`` seconds)."""
        condition = self._condition()
        async with asyncio.timeout(timeout), condition:
            await condition.wait_for(predicate)

    async def wait_requests(self, count: int, timeout: float = 10.0) -> None:
        """Until ``count`` customer-service requests arrived (accepted or refused)."""
        condition = self._condition()
        async with asyncio.timeout(timeout), condition:
            await condition.wait_for(lambda: self.send_requests >= count)

    # --- the app ----------------------------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/cgi-bin/token", self._token, methods=["GET"]),
                Route("/cgi-bin/message/custom/send", self._custom_send, methods=["POST"]),
                Route("/cgi-bin/webhook/send", self._robot_send, methods=["POST"]),
            ]
        )

    async def _token(self, request: Request) -> JSONResponse:
        self.token_requests += 1
        q = request.query_params
        if q.get("grant_type") != "client_credential" or q.get("appid") != self.app_id:
            return _error(40013, "invalid appid")
        if q.get("secret") != self.secret:
            return _error(40125, "invalid appsecret")
        token = f"TOKEN-{self.token_requests:04d}-{self.app_id}"
        self._tokens = {token: time.time() + self.token_ttl_s}  # the old one stops working
        self._current = token
        return JSONResponse({"access_token": token, "expires_in": self.token_ttl_s})

    async def _custom_send(self, request: Request) -> JSONResponse:
        self.send_requests += 1
        try:
            return self._deliver(request.query_params.get("access_token", ""), await request.body())
        finally:
            await self._notify()

    def _deliver(self, token: str, raw: bytes) -> JSONResponse:
        if token not in self._tokens:
            self.token_errors.append(40001)
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if self._tokens[token] < time.time():
            self.token_errors.append(42001)
            return _error(42001, "access_token expired")
        try:
            body = json.loads(raw.decode("utf-8"))
            openid = str(body["touser"])
            content = str(body["text"]["content"]) if body.get("msgtype") == "text" else ""
        except (ValueError, KeyError, TypeError):
            return _error(44002, "empty post data")
        code = self._refusal(openid, content)
        if code:
            self.refused.append((openid, code))
            return _error(code, "refused")
        self._users[openid].sent_since_inbound += 1
        self.sent.append(SentText(openid, content, time.time()))
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    def _refusal(self, openid: str, content: str) -> int:
        if self.unverified:
            return 48001
        if not content:
            return 40008
        if len(content.encode("utf-8")) > 2048:
            return 45002
        user = self._users.get(openid)
        if user is None or user.last_inbound is None or time.time() - user.last_inbound > WINDOW_S:
            return 45015
        if user.sent_since_inbound >= QUOTA_PER_MESSAGE:
            return 45047
        return 0

    async def _robot_send(self, request: Request) -> JSONResponse:
        try:
            if request.query_params.get("key") != self.robot_key:
                return _error(93000, "invalid webhook url")
            now = time.time()
            self._robot_times = [t for t in self._robot_times if now - t < 60]
            if len(self._robot_times) >= ROBOT_PER_MINUTE:
                return _error(45009, "api freq out of limit")
            body = json.loads(await request.body())
            content = str(body["text"]["content"])
            if len(content.encode("utf-8")) > 2048:
                return _error(40058, "content exceed max length")
            self._robot_times.append(now)
            self.robot_messages.append(content)
            return JSONResponse({"errcode": 0, "errmsg": "ok"})
        finally:
            await self._notify()

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _notify(self) -> None:
        condition = self._condition()
        async with condition:
            condition.notify_all()


def _error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": message})


@asynccontextmanager
async def serve(app: Starlette, started: asyncio.Event | None = None) -> AsyncIterator[str]:
    """Serve ``app`` on a free 127.0.0.1 port; yields its base URL. The socket listens before
    the server starts, so early requests wait in the backlog; with ``started`` (set by the
    app's lifespan) the block begins only after start-up."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="auto", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        if started is not None:
            waiter = asyncio.create_task(started.wait())
            done, _ = await asyncio.wait({waiter, task}, timeout=15, return_when="FIRST_COMPLETED")
            if waiter not in done:
                waiter.cancel()
                raise RuntimeError("server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
