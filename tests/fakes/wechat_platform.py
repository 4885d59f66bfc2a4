"""A stand-in for the WeChat platform's side of an Official Account callback.

It sends callbacks the way WeChat does: XML POSTs signed with the account's token (plain mode)
or encrypted and signed with wechatpy's own ``WeChatCrypto`` (safe mode), a fresh timestamp
and nonce per message and the sender's ``openid`` in the query string, a 5-second timeout
(configurable so tests run fast), and the same request — URL, signature, nonce and body
unchanged — sent again after each timeout, three deliveries in all. Deliveries can go to several
workers in turn (``targets``), and a response can be "lost" on the way back to simulate the
network.

Every response is checked as WeChat would: ``success`` or an empty body, or a well-formed text
reply — decrypted and its signature checked in safe mode — of at most 2048 bytes, sent by the
account to the user. Anything else is a violation (the user would see
"该公众号暂时无法提供服务").
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
import httpx
from starlette.applications import Starlette
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from core.people import UserRef
from tests.fakes.desk import FakeDesk
from tests.fakes.memory import FakeMemory, memory_of
from tests.fakes.wechat_api import WeChatApiStandIn, serve

ACCOUNT = "gh_0123456789ab"
MAX_REPLY_BYTES = 2048


def new_openid() -> str:
    """An openid shaped like WeChat's (28 characters)."""
    return "o" + uuid.uuid4().hex[:27]


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass
class Attempt:
    number: int
    target: str
    started: float
    status: int | None = None
    body: str = ""
    timed_out: bool = False
    lost: bool = False
    elapsed: float = 0.0


@dataclass
class Exchange:
    """One user message and what WeChat made of our responses to its deliveries."""

    openid: str
    key: str
    attempts: list[Attempt] = field(default_factory=list)
    accepted: bool = False  # some delivery got a valid answer in time
    reply: str | None = None  # the passive reply's Content, if there was one
    violations: list[str] = field(default_factory=list)
    status: int | None = None  # of the accepted (or last) response

    @property
    def deliveries(self) -> int:
        return len(self.attempts)

    @property
    def gave_up(self) -> bool:
        return not self.accepted and all(a.timed_out or a.lost for a in self.attempts)

    @property
    def elapsed(self) -> float:
        if not self.attempts:
            return 0.0
        last = self.attempts[-1]
        return last.started + last.elapsed - self.attempts[0].started


class WeChatPlatform:
    def __init__(
        self,
        targets: list[str],
        *,
        token: str,
        aes_key: str | None = None,
        app_id: str | None = None,
        account: str = ACCOUNT,
        timeout_s: float = 5.0,
        deliveries: int = 3,
        api: WeChatApiStandIn | None = None,
    ) -> None:
        self.targets = targets
        self.token = token
        self.account = account
        self.timeout_s = timeout_s
        self.max_deliveries = deliveries
        self.api = api
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key and app_id else None
        self.exchanges: list[Exchange] = []
        self._last_created: dict[str, int] = {}
        self._msg_ids = itertools.count(int(time.time()) * 1000)
        self._http = httpx.AsyncClient(trust_env=False, timeout=None)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _create_time(self, openid: str) -> int:
        """Now, but later than the user's previous message: WeChat keys events by sender and
        CreateTime, and a person does not send two in the same second."""
        created = max(int(time.time()), self._last_created.get(openid, 0) + 1)
        self._last_created[openid] = created
        return created

    # --- what a user does -------------------------------------------------------------------
    async def send_text(self, openid: str, content: str, **options: object) -> Exchange:
        msg_id = next(self._msg_ids)
        fields = {"MsgType": "text", "Content": content, "MsgId": str(msg_id)}
        return await self.deliver(openid, fields, key=f"msg:{msg_id}", **options)  # type: ignore[arg-type]

    async def send_media(self, openid: str, msg_type: str) -> Exchange:
        msg_id = next(self._msg_ids)
        extra = {
            "image": {"PicUrl": "http://mmbiz.example/p.jpg", "MediaId": "m1"},
            "voice": {"MediaId": "m2", "Format": "amr"},
            "video": {"MediaId": "m3", "ThumbMediaId": "t3"},
            "shortvideo": {"MediaId": "m4", "ThumbMediaId": "t4"},
            "location": {
                "Location_X": "23.1",
                "Location_Y": "113.3",
                "Scale": "20",
                "Label": "广州",
            },
            "link": {"Title": "标题", "Description": "描述", "Url": "http://example.com/a"},
        }[msg_type]
        fields = {"MsgType": msg_type, **extra, "MsgId": str(msg_id)}
        return await self.deliver(openid, fields, key=f"msg:{msg_id}")

    async def send_event(self, openid: str, event: str, event_key: str | None = None) -> Exchange:
        fields = {"MsgType": "event", "Event": event}
        if event_key is not None:
            fields["EventKey"] = event_key
        return await self.deliver(
            openid, fields, key=f"evt:{event}", inbound=event != "unsubscribe"
        )

    async def verify_url(
        self, target: int = 0, *, forge: bool = False, echostr: str = ""
    ) -> httpx.Response:
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        signature = sign("not-the-token" if forge else self.token, timestamp, nonce)
        echo = echostr or f"echo{uuid.uuid4().int % 10**18}"
        params = {"signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": echo}
        return await self._http.get(self.targets[target], params=params)

    # --- deliveries -------------------------------------------------------------------------
    async def deliver(
        self,
        openid: str,
        fields: dict[str, str],
        *,
        key: str,
        lose: int = 0,
        route: Callable[[int], int] | None = None,
        before: Callable[[int], object] | None = None,
        inbound: bool = True,
        create_time: int | None = None,
    ) -> Exchange:
        """Send one message as WeChat does: up to ``deliveries`` times, each after the previous
        timed out. ``lose`` drops that many responses on their way back; ``route`` picks the
        target of delivery n (0-based; default: in turn); ``before(n)`` runs before delivery n."""
        created = create_time or self._create_time(openid)
        xml = self._message_xml(openid, fields, created)
        params, body = self._sign(xml, openid=openid)  # every delivery repeats this request
        exchange = Exchange(openid, key)
        self.exchanges.append(exchange)
        if inbound and self.api is not None:
            self.api.note_inbound(openid)
        for n in range(self.max_deliveries):
            if before is not None:
                result = before(n)
                if asyncio.iscoroutine(result):
                    await result
            target = self.targets[route(n) if route else n % len(self.targets)]
            attempt = Attempt(n + 1, target, time.monotonic())
            exchange.attempts.append(attempt)
            try:
                async with asyncio.timeout(self.timeout_s):
                    response = await self._http.post(
                        target,
                        params=params,
                        content=body.encode("utf-8"),
                        headers={"Content-Type": "text/xml"},
                    )
            except TimeoutError:
                attempt.timed_out = True
                attempt.elapsed = time.monotonic() - attempt.started
                continue
            attempt.elapsed = time.monotonic() - attempt.started
            attempt.status, attempt.body = response.status_code, response.text
            if n < lose:
                attempt.lost = True
                continue
            exchange.status = response.status_code
            if response.status_code != 200:
                exchange.violations.append(f"HTTP {response.status_code}")
                return exchange
            exchange.accepted = True
            exchange.reply = self._check_reply(openid, response.text, params, exchange.violations)
            return exchange
        return exchange

    async def post_raw(
        self,
        body: bytes,
        *,
        target: int = 0,
        params: dict[str, str] | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        """POST any body (malformed XML, a bomb…), signed in plain mode unless told otherwise."""
        if params is None:
            timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
            params = {"timestamp": timestamp, "nonce": nonce, "openid": "o-raw"}
            params["signature"] = sign(self.token if signed else "forged", timestamp, nonce)
        return await self._http.post(self.targets[target], params=params, content=body)

    def signed(
        self, xml: str, *, timestamp: int | None = None, openid: str | None = None
    ) -> tuple[dict[str, str], str]:
        """Query parameters and body for ``xml`` as WeChat would send them now."""
        return self._sign(xml, timestamp, openid)

    def message_xml(self, openid: str, fields: dict[str, str], created: int | None = None) -> str:
        return self._message_xml(openid, fields, created or int(time.time()))

    # --- protocol ---------------------------------------------------------------------------
    def _message_xml(self, openid: str, fields: dict[str, str], created: int) -> str:
        nodes = [
            f"<ToUserName>{cdata(self.account)}</ToUserName>",
            f"<FromUserName>{cdata(openid)}</FromUserName>",
            f"<CreateTime>{created}</CreateTime>",
        ]
        for name, value in fields.items():
            nodes.append(f"<{name}>{value if name == 'MsgId' else cdata(value)}</{name}>")
        return "<xml>" + "".join(nodes) + "</xml>"

    def _sign(
        self, xml: str, timestamp: int | None = None, openid: str | None = None
    ) -> tuple[dict[str, str], str]:
        ts, nonce = str(timestamp or int(time.time())), str(uuid.uuid4().int % 10**10)
        params = {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        if openid is not None:
            params["openid"] = openid
        if self.crypto is None:
            return params, xml
        sealed = _xml(self.crypto.encrypt_message(xml, nonce, ts))
        encrypt = sealed.findtext("Encrypt") or ""
        params.update(encrypt_type="aes", msg_signature=sign(self.token, ts, nonce, encrypt))
        body = f"<xml><ToUserName>{cdata(self.account)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
        return params, body

    def _check_reply(
        self, openid: str, body: str, params: dict[str, str], violations: list[str]
    ) -> str | None:
        if body in ("", "success"):
            return None
        try:
            root = _xml(body)
        except ValueError as exc:
            violations.append(f"reply is not XML: {exc}")
            return None
        if self.crypto is not None:
            encrypt = root.findtext("Encrypt") or ""
            ts, nonce = root.findtext("TimeStamp") or "", root.findtext("Nonce") or ""
            if root.findtext("MsgSignature") != sign(self.token, ts, nonce, encrypt):
                violations.append("encrypted reply with a wrong MsgSignature")
                return None
            if nonce != params["nonce"]:
                violations.append("encrypted reply with another nonce")
            body = self.crypto.decrypt_message(
                {"Encrypt": encrypt}, sign(self.token, ts, nonce, encrypt), ts, nonce
            )
            root = _xml(body)
        elif root.findtext("Encrypt") is not None:
            violations.append("encrypted reply to a plain message")
        size = len(body.encode("utf-8"))
        if size > MAX_REPLY_BYTES:
            violations.append(f"reply of {size} bytes (WeChat drops more than {MAX_REPLY_BYTES})")
        if root.findtext("ToUserName") != openid:
            violations.append("reply not addressed to the sender")
        if root.findtext("FromUserName") != self.account:
            violations.append("reply not sent by the account")
        if root.findtext("MsgType") != "text":
            violations.append(f"reply type {root.findtext('MsgType')!r}")
        if not (root.findtext("CreateTime") or "").isdigit():
            violations.append("reply without CreateTime")
        content = root.findtext("Content") or ""
        if not content.strip():
            violations.append("reply with empty content")
        return content

    def seen_by(self, openid: str) -> list[str]:
        """What the user saw: accepted passive replies, then customer-service messages."""
        replies = [e.reply for e in self.exchanges if e.openid == openid and e.reply]
        pushed = self.api.texts_to(openid) if self.api else []
        return [*replies, *pushed]


def _xml(text: str) -> Element:
    try:
        root: Element = safe_xml.fromstring(text.encode("utf-8"), forbid_dtd=True)
    except Exception as exc:
        raise ValueError(type(exc).__name__) from exc
    return root


# --- a whole rig: desk, API stand-in, channel workers on uvicorn, and the platform -----------
TOKEN = "qadesk-test-token"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"  # 43 characters, as WeChat issues


def channel_app(channel: Any, started: asyncio.Event | None = None) -> Starlette:
    """A Starlette app serving ``channel`` as ``qadesk serve`` would: its routes, start() after
    start-up, stop() before shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await channel.start()
        if started is not None:
            started.set()
        yield
        await channel.stop()

    return Starlette(routes=channel.routes(), lifespan=lifespan)


@dataclass
class Rig:
    desk: Any
    api: WeChatApiStandIn
    api_url: str
    channels: list[Any]
    urls: list[str]
    platform: WeChatPlatform

    @property
    def channel(self) -> Any:
        return self.channels[0]

    async def ask(self, openid: str, text: str, **options: Any) -> str:
        """Send ``text`` and return the answer the user sees, whichever way it comes (passive
        reply, or the customer-service message of the slow path)."""
        before = len(self.api.texts_to(openid))
        exchange = await self.platform.send_text(openid, text, **options)
        if exchange.reply is not None:
            return exchange.reply
        return (await self.api.wait_sent(openid, before + 1))[before]


@asynccontextmanager
async def wechat_rig(
    desk: Any,
    *,
    workers: int = 1,
    safe_mode: bool = False,
    budget_s: float | list[float] = 1.6,
    timeout_s: float = 2.0,
    credentials: bool = True,
    robot: bool = False,
    unverified: bool = False,
) -> AsyncIterator[Rig]:
    """The WeChat channel under test: ``workers`` channels (each its own uvicorn server, all
    on the same ``desk``, or one desk each when ``desk`` is a list), the API stand-in they push
    to, and a platform sending to them."""
    from bot.wechat import build_wechat_channel

    api = WeChatApiStandIn(unverified=unverified)
    desks = desk if isinstance(desk, list) else [desk] * workers
    budgets = budget_s if isinstance(budget_s, list) else [budget_s] * len(desks)
    async with serve(api.app()) as api_url, AsyncExitStack() as stack:
        channels, urls = [], []
        for worker_desk, budget in zip(desks, budgets, strict=True):
            channel = build_wechat_channel(
                worker_desk,
                memory_of(worker_desk),
                token=TOKEN,
                aes_key=AES_KEY if safe_mode else None,
                app_id=api.app_id,
                app_secret=api.secret if credentials else None,
                api_url=api_url,
                wecom_robot_url=f"{api_url}/cgi-bin/webhook/send?key={api.robot_key}"
                if robot
                else None,
                reply_budget_s=budget,
            )
            started = asyncio.Event()
            base = await stack.enter_async_context(serve(channel_app(channel, started), started))
            channels.append(channel)
            urls.append(f"{base}/wechat")
        platform = WeChatPlatform(
            urls,
            token=TOKEN,
            aes_key=AES_KEY if safe_mode else None,
            app_id=api.app_id,
            timeout_s=timeout_s,
            api=api,
        )
        try:
            yield Rig(desks[0], api, api_url, channels, urls, platform)
        finally:
            await platform.aclose()


class WatchedMemory(FakeMemory):
    """The in-memory channel memory, with a way to wait (with a deadline) until the channel
    has held a number of messages — held messages are written from worker threads."""

    def __init__(self) -> None:
        super().__init__()
        self.holds: list[tuple[str, str]] = []  # (user key, text), every hold ever made
        self._held_changed = threading.Condition()

    def hold(self, user: UserRef, text: str) -> None:
        super().hold(user, text)
        with self._held_changed:
            self.holds.append((user.key, text))
            self._held_changed.notify_all()

    async def wait_holds(self, count: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        def wait() -> bool:
            with self._held_changed:
                return self._held_changed.wait_for(lambda: len(self.holds) >= count, timeout)

        if not await asyncio.to_thread(wait):
            raise TimeoutError(f"{len(self.holds)} of {count} holds after {timeout}s")
        return list(self.holds)

    def make_stale(self, user: UserRef, hours: float = 49) -> None:
        """Pretend the user last wrote ``hours`` ago (the 48-hour window is closed)."""
        self.inbound[user.key] = datetime.now(UTC) - timedelta(hours=hours)


class WatchedDesk(FakeDesk):
    """The in-memory desk whose channels keep a :class:`WatchedMemory`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memory: WatchedMemory = WatchedMemory()

    @property
    def holds(self) -> list[tuple[str, str]]:
        return self.memory.holds

    async def wait_holds(self, count: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        return await self.memory.wait_holds(count, timeout)

    def make_stale(self, user: UserRef, hours: float = 49) -> None:
        self.memory.make_stale(user, hours)


def without_time(body: str) -> str:
    """A passive reply's XML without its CreateTime (the second it was sent in): what stays
    the same when a saved reply is sent again."""
    return re.sub(r"<CreateTime>\d+</CreateTime>", "", body)
