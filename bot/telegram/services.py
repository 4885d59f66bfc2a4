"""What the handlers share: the desk, the bot's settings as plain values, and who is talking.

The desk is synchronous (database and CPU work), so its methods run in worker threads: the
slow ones (answers, documents, tickets) through :meth:`BotServices.call` on their own pool,
and the quick channel bookkeeping every update needs (seen-before checks, card links, roles)
through :meth:`BotServices.state` on a separate small pool, so a crowd of slow answers never
holds up a quick one or the bookkeeping. Pools start on first use and end with ``close()``.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from telegram import Chat, Update, User

from bot.telegram.throttle import FloodGate
from core.people import Channel, UserRef
from core.ports import ChannelMemory
from desk.api import DeskApi

P = ParamSpec("P")
R = TypeVar("R")

CHANNEL = Channel.TELEGRAM.value
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile on Telegram's own servers


@dataclass(frozen=True, slots=True)
class Tuning:
    """Knobs with production defaults; tests and the benchmark turn some of them."""

    poll_timeout_s: float = 30.0
    concurrent_updates: int = 256
    flood_capacity: float = 5.0
    flood_refill_per_s: float = 0.5
    overall_max_rate: float = 30.0  # messages a second, whole bot (Telegram's limit)
    group_max_rate: float = 20.0  # messages a minute per group
    retry_after_retries: int = 3  # how often a 429 is waited out before giving up
    network_retries: int = 3  # retries of a request that failed on the network
    network_backoff_s: float = 0.5  # first wait; doubles each retry
    typing_every_s: float = 4.5  # Telegram shows "typing…" for about 5 s
    desk_threads: int = 32  # desk calls that may be slow (answers, documents, tickets)
    state_threads: int = 4  # quick channel bookkeeping


@dataclass(slots=True)
class BotServices:
    desk: DeskApi
    memory: ChannelMemory
    expert_chat_id: int | None
    max_file_bytes: int
    tuning: Tuning = field(default_factory=Tuning)
    flood: FloodGate = field(init=False)
    clock: Callable[[], float] = time.time  # wall clock: flood control compares message dates
    _pools: dict[str, ThreadPoolExecutor] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.flood = FloodGate(self.tuning.flood_capacity, self.tuning.flood_refill_per_s)

    async def call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a desk method that may take a while (an answer, a document) in a worker thread."""
        return await self._run("desk", self.tuning.desk_threads, fn, *args, **kwargs)

    async def state(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a quick bookkeeping call (seen-before, card links, roles) in a thread."""
        return await self._run("state", self.tuning.state_threads, fn, *args, **kwargs)

    async def _run(
        self, pool: str, threads: int, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        executor = self._pools.get(pool)
        if executor is None:
            executor = ThreadPoolExecutor(threads, thread_name_prefix=f"telegram-{pool}")
            self._pools[pool] = executor
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """End the worker threads (new ones start if the bot is started again)."""
        pools, self._pools = self._pools, {}
        for executor in pools.values():
            executor.shutdown(wait=False, cancel_futures=True)

    def is_expert_chat(self, chat: Chat | None) -> bool:
        return (
            chat is not None and self.expert_chat_id is not None and chat.id == self.expert_chat_id
        )


def user_ref(user: User) -> UserRef:
    """The desk's view of a Telegram user; their private chat with the bot has their id."""
    return UserRef(
        channel=Channel.TELEGRAM,
        user_id=str(user.id),
        chat_id=str(user.id),
        display_name=user.full_name or None,
    )


def sender(update: Update) -> UserRef | None:
    user = update.effective_user
    return user_ref(user) if user is not None else None


def message_ref(chat_id: int | str, message_id: int) -> str:
    """How a Telegram message is named in the desk's channel state."""
    return f"{chat_id}:{message_id}"


def parse_message_ref(ref: str) -> tuple[int, int]:
    chat_id, message_id = ref.rsplit(":", 1)
    return int(chat_id), int(message_id)
