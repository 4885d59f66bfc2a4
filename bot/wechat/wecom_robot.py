"""New tickets announced to the experts' WeCom (企业微信) group robot.

The robot takes ``POST <webhook url>`` with ``{"msgtype": "text", "text": {"content"}}``
(at most 2048 bytes) and at most 20 messages a minute; over that it answers 45009. A sliding
window keeps this worker under the limit: a message that would have to wait longer than
``max_wait_s`` raises :class:`DeliveryError` and the outbox tries again later. A ``NEW_TICKET``
already announced (recorded with ``memory.link_ticket_message`` under channel ``wecom``) is not
announced twice. The webhook URL holds the robot's key: it is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

import httpx

import prompts
from bot.wechat.rendering import MAX_TEXT_BYTES, fit
from bot.wechat.state import WeChatState
from core.errors import DeliveryError, PermanentDeliveryError
from core.tickets import Notification, NotificationKind

log = logging.getLogger(__name__)

LINK_CHANNEL = "wecom"
ROBOT_BUSY = 45009


class SlidingWindow:
    """At most ``limit`` events in any ``period_s`` seconds."""

    def __init__(
        self, limit: int, period_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._period = period_s
        self._clock = clock
        self._events: deque[float] = deque()

    def wait_time(self) -> float:
        """Seconds until one more event is allowed (0 when it is allowed now)."""
        now = self._clock()
        while self._events and now - self._events[0] >= self._period:
            self._events.popleft()
        if len(self._events) < self._limit:
            return 0.0
        return self._events[0] + self._period - now

    def record(self) -> None:
        self._events.append(self._clock())


class WeComRobot:
    def __init__(
        self,
        url: str,
        state: WeChatState,
        *,
        per_minute: int = 20,
        max_wait_s: float = 5.0,
        timeout_s: float = 5.0,
    ) -> None:
        self._url = url
        self._state = state
        self._window = SlidingWindow(per_minute, 60.0)
        self._max_wait = max_wait_s
        self._timeout = timeout_s
        self._http: httpx.AsyncClient | None = None

    async def announce(self, n: Notification) -> None:
        if n.ticket_id is None:
            raise PermanentDeliveryError(
                "announcement without a ticket", notification_id=n.notification_id
            )
        again = n.kind is NotificationKind.REANNOUNCE
        posted: list[str] = await self._state.call(
            self._state.memory.ticket_messages, n.ticket_id, LINK_CHANNEL
        )
        if posted and not again:
            log.info("wecom_already_announced ticket_id=%s", n.ticket_id)
            return
        key = "wechat.robot_reannounce" if again else "wechat.robot_new_ticket"
        text, _ = fit(prompts.text(key, ticket_id=n.ticket_id, text=n.text.strip()), MAX_TEXT_BYTES)
        await self._take_slot()
        await self._post(text, n)
        await self._state.call(
            self._state.memory.link_ticket_message,
            n.ticket_id,
            LINK_CHANNEL,
            f"robot:{n.notification_id}",
        )
        log.info("wecom_announced ticket_id=%s again=%s", n.ticket_id, again)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _take_slot(self) -> None:
        while (delay := self._window.wait_time()) > 0:
            if delay > self._max_wait:
                raise DeliveryError("WeCom robot limit of 20 messages a minute reached")
            await asyncio.sleep(delay)
        self._window.record()

    async def _post(self, text: str, n: Notification) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)
        body = {"msgtype": "text", "text": {"content": text}}
        try:
            response = await self._http.post(self._url, json=body)
            response.raise_for_status()
            result = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DeliveryError(f"WeCom robot unreachable: {type(exc).__name__}") from None
        errcode = int(result.get("errcode", 0)) if isinstance(result, dict) else -1
        if errcode == ROBOT_BUSY or errcode == -1:
            raise DeliveryError(f"WeCom robot busy errcode={errcode}")
        if errcode != 0:
            log.warning("wecom_refused ticket_id=%s errcode=%s", n.ticket_id, errcode)
            raise PermanentDeliveryError(f"WeCom robot refused errcode={errcode}")
