"""What the WeChat channel keeps in the channel memory (``core.ports.ChannelMemory``), shared
by workers and restarts.

Every key the channel writes is spelled here:

* ``wechat:msg:<account>:<openid>:<MsgId>`` / ``wechat:evt:<account>:<openid>:<CreateTime>:<event>``
  — a message seen (``record_inbound``) and the passive reply made to it (``save_reply``), so a
  re-delivery on any worker returns the same reply; the memory forgets both after a few days;
* ``wechat-nonce:<app id>:<timestamp>:<nonce>`` — the fingerprint of the message a signed
  request carried, for as long as its signature is accepted (``remember_key``), so that the
  signature cannot be used again for another message;
* ``wechat-last:<openid>`` — the interaction a bare 1 or 2 gives feedback on;
* ``wechat-unsubscribed:<openid>`` — set while the user has unfollowed the account;
* ``wechat-customer-service:<app id>`` — ``off`` once WeChat answered 48001 (no permission);
* ``wechat-token:<app id>`` — the API access token, so workers share one (a new token
  invalidates the old one).

The memory's methods are synchronous; the ``async`` methods here run them in a thread. They
are short, so they get a small pool of their own: behind a queue of slow ``desk.ask`` calls in
the shared default pool, a delivery could not even be recorded within WeChat's 5 seconds
(measured with ``bench.wechat_bench``). The desk's real work (``ask`` and friends) goes
through :meth:`WeChatState.work`, on the default pool.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TypeVar

from core.people import UserRef
from core.ports import ChannelMemory

log = logging.getLogger(__name__)

T = TypeVar("T")

_REPLY = "reply:"  # a saved passive reply: the text follows
_SUCCESS = "success"  # a saved answer of `success` (the answer went another way)


class WeChatState:
    def __init__(
        self, memory: ChannelMemory, app_id: str | None = None, *, threads: int = 8
    ) -> None:
        self.memory = memory
        self._account = app_id or "default"
        self._customer_service: bool | None = None  # None: not known yet, assume permitted
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        """A short call (the channel memory), on the channel's own small pool."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="wechat-state")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def work(self, fn: Callable[..., T], *args: object) -> T:
        """The desk's real work (ask, feedback, escalate…), on the default pool."""
        return await asyncio.to_thread(fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    # --- messages ---------------------------------------------------------------------------
    async def record_inbound(self, user: UserRef, key: str) -> bool:
        return await self.call(self.memory.record_inbound, user, key)

    async def first_use_of(
        self, timestamp: str, nonce: str, fingerprint: str, window_s: float
    ) -> bool:
        """Whether this signed request (``timestamp`` and ``nonce``) is new, or a re-delivery of
        the same message; False when any worker saw it with another message."""
        key = f"wechat-nonce:{self._account}:{timestamp}:{nonce}"
        keep_for = timedelta(seconds=window_s)
        held = await self.call(self.memory.remember_key, key, fingerprint, keep_for)
        return held is None or held == fingerprint

    async def last_inbound(self, user: UserRef) -> datetime | None:
        return await self.call(self.memory.last_inbound, user)

    async def save_passive(self, key: str, text: str | None) -> None:
        """Keep what this message was answered with (``None``: ``success``)."""
        await self.call(self.memory.save_reply, key, _SUCCESS if text is None else _REPLY + text)

    async def saved_passive(self, key: str) -> tuple[bool, str | None]:
        """Whether a reply to ``key`` was saved, and its text (``None`` for ``success``)."""
        value = await self.call(self.memory.saved_reply, key)
        if value is None:
            return False, None
        if value.startswith(_REPLY):
            return True, value[len(_REPLY) :]
        return True, None

    async def hold(self, user: UserRef, text: str) -> None:
        if text.strip():
            await self.call(self.memory.hold, user, text)

    async def take_held(self, user: UserRef) -> list[str]:
        return await self.call(self.memory.take_held, user)

    # --- feedback ---------------------------------------------------------------------------
    async def last_interaction(self, user: UserRef) -> int | None:
        value = await self.call(self.memory.value, f"wechat-last:{user.user_id}")
        return int(value) if value and value.isdigit() else None

    async def set_last_interaction(self, user: UserRef, interaction_id: int | None) -> None:
        text = "" if interaction_id is None else str(interaction_id)
        await self.call(self.memory.set_value, f"wechat-last:{user.user_id}", text)

    # --- subscription -----------------------------------------------------------------------
    async def set_subscribed(self, user: UserRef, subscribed: bool) -> None:
        text = "" if subscribed else "1"
        await self.call(self.memory.set_value, f"wechat-unsubscribed:{user.user_id}", text)

    async def unsubscribed(self, user: UserRef) -> bool:
        return bool(await self.call(self.memory.value, f"wechat-unsubscribed:{user.user_id}"))

    # --- account capability -----------------------------------------------------------------
    @property
    def customer_service(self) -> bool:
        """Whether customer-service messages may be tried (False once WeChat said 48001)."""
        return self._customer_service is not False

    async def load(self) -> None:
        """Read what is remembered about the account (another worker may have learnt it)."""
        try:
            value = await self.call(self.memory.value, self._capability_key)
        except Exception:
            log.exception("wechat_state_unreadable key=%s", self._capability_key)
            return
        self._customer_service = False if value == "off" else None

    async def customer_service_refused(self) -> None:
        if self._customer_service is not False:
            log.warning("wechat_customer_service_unavailable errcode=48001 fallback=hold")
        self._customer_service = False
        await self.call(self.memory.set_value, self._capability_key, "off")

    @property
    def _capability_key(self) -> str:
        return f"wechat-customer-service:{self._account}"

    # --- access token (called from the API client's worker thread) --------------------------
    def load_token(self) -> tuple[str, float] | None:
        raw = self.memory.value(f"wechat-token:{self._account}")
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return str(data["token"]), float(data["expires_at"])
        except (ValueError, KeyError, TypeError):
            return None

    def save_token(self, token: str, expires_at: float) -> None:
        value = json.dumps({"token": token, "expires_at": expires_at})
        self.memory.set_value(f"wechat-token:{self._account}", value)
