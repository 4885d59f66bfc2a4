"""Outgoing traffic policy: Telegram's rate limits plus retries of network failures.

:class:`RetryingRateLimiter` is PTB's ``AIORateLimiter`` (30 messages a second overall, 20 a
minute per group; a 429 ``RetryAfter`` pauses every request for the time Telegram asks, up to
``max_retries`` times) with one addition: a request that failed on the network (connection
refused, 5xx, timeout) is retried with exponential back-off before the error reaches the
handler. Client errors (400 ``BadRequest``) and refusals (403 ``Forbidden``: the user blocked
the bot) are never retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Result = bool | JSONDict | list[JSONDict]


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
        super().__init__(
            overall_max_rate=overall_max_rate,
            overall_time_period=1,
            group_max_rate=group_max_rate,
            group_time_period=60,
            max_retries=max_retries,
        )
        self._network_retries = network_retries
        self._network_backoff_s = network_backoff_s

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        wait = self._network_backoff_s
        for attempt in range(self._network_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == self._network_retries:
                    log.warning(
                        "bot_api_gave_up method=%s attempts=%s error=%s", endpoint, attempt + 1, exc
                    )
                    raise
                log.info("bot_api_retry method=%s attempt=%s error=%s", endpoint, attempt + 1, exc)
                await asyncio.sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")  # pragma: no cover
