"""Outgoing traffic policy: Telegram's rate limits plus retries of network failures.

:class:`RetryingRateLimiter` is PTB's ``AIORateLimiter`` (30 messages a second overall, 20 a
minute per group) with its own handling of failures:

* a 429 ``RetryAfter`` is waited out and tried again, up to ``max_retries`` times, every other
  request pausing meanwhile — unless the call says ``rate_limit_args=NO_WAITING`` (the outbox's
  sends): such a call gets the 429 at once, and during a pause (longer than a second) a 429
  for what is left of it, without a request; the outbox reschedules the notification for that time instead of holding
  its dispatcher;
* a request that failed on the network is retried with exponential back-off before the error
  reaches the caller — when Telegram certainly did not carry it out (the connection was never
  made, or Telegram answered 5xx), or when carrying it out twice changes nothing (reads,
  edits, settings). A message send whose answer was lost after it went out (a read timeout,
  a connection dropped mid-response) is *not* sent again: it may be in the chat already.

Client errors (400 ``BadRequest``) and refusals (403 ``Forbidden``: the user blocked the bot)
are never retried.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Result = bool | JSONDict | list[JSONDict]

NO_WAITING = -1
"""``rate_limit_args`` for a call that wants a 429 raised at once rather than waited out (PTB
drops a falsy value, so "no retries" cannot be spelled 0)."""

MAX_PAUSE_WAIT_S = 1.0  # a NO_WAITING call still sits out the last second of a pause
_REPEATABLE = ("get", "set", "delete", "edit", "answerCallbackQuery", "sendChatAction")


def may_have_arrived(error: NetworkError) -> bool:
    """Whether Telegram may have carried out a request that failed with ``error``: it was sent
    but its answer is missing (read/write timeout, connection dropped mid-response). A refused
    or never-made connection, or an answer from Telegram (5xx), means it was not."""
    cause = error.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return False
    return isinstance(cause, httpx.TransportError)


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram asked to wait, in seconds (read without PTB's deprecated int form)."""
    value: Any = getattr(error, "_retry_after", None)
    if not isinstance(value, timedelta):
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class RetryingRateLimiter(AIORateLimiter):
    def __init__(
        self,
        *,
        overall_max_rate: float,
        group_max_rate: float,
        max_retries: int,
        network_retries: int,
        network_backoff_s: float,
    ) -> None:
        # PTB's own 429 handling is off (it cannot be skipped per call); this class does it.
        super().__init__(
            overall_max_rate=overall_max_rate,
            overall_time_period=1,
            group_max_rate=group_max_rate,
            group_time_period=60,
            max_retries=0,
        )
        logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
        self._retry_after_retries = max_retries
        self._network_retries = network_retries
        self._network_backoff_s = network_backoff_s
        self._paused_until = 0.0  # event-loop time before which no request starts

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        loop = asyncio.get_running_loop()
        waits = self._retry_after_retries if rate_limit_args is None else max(rate_limit_args, 0)
        backoff = self._network_backoff_s
        failures = 0
        while True:
            if (pause := self._paused_until - loop.time()) > 0:
                if waits <= 0 and pause > MAX_PAUSE_WAIT_S:
                    raise RetryAfter(timedelta(seconds=math.ceil(pause)))
                await asyncio.sleep(pause)
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, None)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                if waits <= 0:
                    log.info("bot_api_rate_limited method=%s retry_after_s=%s", endpoint, seconds)
                    raise
                waits -= 1
                self._paused_until = max(self._paused_until, loop.time() + seconds + 0.1)
                log.info("bot_api_rate_limited method=%s wait_s=%s", endpoint, seconds)
            except BadRequest:
                raise
            except NetworkError as exc:
                repeatable = endpoint.startswith(_REPEATABLE) or not may_have_arrived(exc)
                if failures >= self._network_retries or not repeatable:
                    log.warning(
                        "bot_api_gave_up method=%s attempts=%s repeatable=%s error=%s",
                        endpoint,
                        failures + 1,
                        repeatable,
                        exc,
                    )
                    raise
                failures += 1
                log.info("bot_api_retry method=%s attempt=%s error=%s", endpoint, failures, exc)
                await asyncio.sleep(backoff)
                backoff *= 2
