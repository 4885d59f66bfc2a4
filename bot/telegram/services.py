"""What the handlers share: the desk, the bot's settings as plain values, and who is talking.

The desk is synchronous (database and CPU work); :meth:`BotServices.call` runs a desk method
in a worker thread so one slow answer never holds up other users.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from telegram import Chat, Update, User

from core.people import Channel, UserRef
from desk.api import DeskApi

from .throttle import FloodGate

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


@dataclass(slots=True)
class BotServices:
    desk: DeskApi
    expert_chat_id: int | None
    max_file_bytes: int
    tuning: Tuning = field(default_factory=Tuning)
    flood: FloodGate = field(init=False)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.flood = FloodGate(self.tuning.flood_capacity, self.tuning.flood_refill_per_s)

    async def call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a (blocking) desk method in a worker thread."""
        return await asyncio.to_thread(fn, *args, **kwargs)

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
