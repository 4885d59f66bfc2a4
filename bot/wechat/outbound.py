"""Messages the channel sends on its own: customer-service texts, or held for the next reply.

A text that cannot be pushed now is never dropped: it is held in the desk's channel state
(``desk.hold``) and shown with the passive reply to the user's next message. That happens when

* the account has no API credentials or no customer-service permission (48001, unverified);
* the user has not written for 48 hours (checked with ``desk.last_inbound`` first, and
  WeChat's own 45015) or has unfollowed the account;
* the five messages allowed per user message are used up (45047): the rest is held;
* WeChat stays unreachable after a few tries (for expert answers the caller may prefer to
  raise instead, so the outbox tries again later).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import prompts
from bot.wechat.api_client import NOT_PERMITTED, WeChatApi, WeChatApiError
from bot.wechat.rendering import MAX_CUSTOMER_SERVICE_PARTS, MAX_TEXT_BYTES, paginate
from bot.wechat.state import WeChatState
from core import delivery
from core.people import UserRef

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=48)
WINDOW_MARGIN = timedelta(minutes=5)  # do not start a push the window may close under


class Pushed(StrEnum):
    SENT = "sent"  # every part went out
    PARTLY_HELD = "partly_held"  # some parts went out, the rest is held
    HELD = "held"  # nothing went out; the whole text is held


class Pusher:
    def __init__(
        self,
        state: WeChatState,
        api: WeChatApi | None,
        *,
        retry_delays_s: tuple[float, ...] = (0.5, 1.5),
    ) -> None:
        self._state = state
        self._api = api
        self._retry_delays = retry_delays_s

    @property
    def can_push(self) -> bool:
        """Whether customer-service messages are worth trying at all."""
        return self._api is not None and self._state.customer_service

    async def window_open(self, user: UserRef) -> bool:
        last = await self._state.last_inbound(user)
        if last is None:
            return False
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        return datetime.now(UTC) - last < WINDOW - WINDOW_MARGIN

    async def push(
        self,
        user: UserRef,
        text: str,
        *,
        check_window: bool = False,
        hold_transient: bool = True,
        held_text: str | None = None,
    ) -> Pushed:
        """Send ``text`` as customer-service messages (at most five, the rest held), or hold it
        (as ``held_text`` when given: it is read later, with the reply to another message).

        With ``hold_transient`` False, a network failure before anything was sent raises
        :class:`WeChatApiError` instead of holding, so the caller can retry later.
        """
        text = text.strip()
        if not text:
            return Pushed.SENT
        held = held_text or text
        if not self.can_push or (check_window and not await self._reachable(user)):
            await self._state.hold(user, held)
            return Pushed.HELD
        pages = paginate(
            text, MAX_TEXT_BYTES, MAX_CUSTOMER_SERVICE_PARTS, prompts.text("wechat.more_held")
        )
        for index, part in enumerate(pages.parts):
            try:
                await self._send(user, part)
            except WeChatApiError as exc:
                if exc.errcode == NOT_PERMITTED:
                    await self._state.customer_service_refused()
                elif exc.transient and index == 0 and not hold_transient:
                    raise
                unsent = held if index == 0 else _remainder(pages.parts[index:], pages.rest)
                await self._state.hold(user, unsent)
                log.info(
                    "wechat_push_held errcode=%s sent_parts=%s parts=%s",
                    exc.errcode,
                    index,
                    len(pages.parts),
                )
                return Pushed.HELD if index == 0 else Pushed.PARTLY_HELD
        if pages.rest:
            await self._state.hold(user, pages.rest)
            return Pushed.PARTLY_HELD
        return Pushed.SENT

    async def _reachable(self, user: UserRef) -> bool:
        return await self.window_open(user) and not await self._state.unsubscribed(user)

    async def _send(self, user: UserRef, part: str) -> None:
        assert self._api is not None
        delays = iter(self._retry_delays)
        while True:
            await delivery.about_to_send()  # an outbox delivering this notes it first
            try:
                await self._api.send_text(user.user_id, part)
                return
            except WeChatApiError as exc:  # never again once it may have arrived
                delay = next(delays, None) if exc.transient and not exc.may_have_arrived else None
                if delay is None:
                    raise
                log.info("wechat_push_retry errcode=%s delay_s=%s", exc.errcode, delay)
                await asyncio.sleep(delay)


def _remainder(parts: tuple[str, ...], rest: str) -> str:
    """The unsent parts as one text, without their ``（i/n）`` labels and pointer."""
    pointer = prompts.text("wechat.more_held")
    bodies = [p.split("\n", 1)[1] if "\n" in p else p for p in parts]
    if rest and bodies and bodies[-1].endswith(pointer):
        bodies[-1] = bodies[-1][: -len(pointer)].rstrip()
    return "\n".join([*bodies, rest]).strip()
