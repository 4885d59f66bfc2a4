"""An in-memory ``core.ports.ChannelMemory`` for channel unit tests (one process, one worker).
End-to-end tests use ``escalation.channel_memory.StoreChannelMemory`` on a real database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from core.people import UserRef
from core.ports import ChannelMemory


class FakeMemory:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.inbound: dict[str, datetime] = {}
        self.seen: set[str] = set()
        self.replies: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self._keys: dict[str, tuple[str, datetime]] = {}
        self._held: dict[str, list[str]] = {}
        self._links: dict[tuple[str, str], int] = {}

    def record_inbound(self, user: UserRef, message_key: str) -> bool:
        with self._lock:
            self.inbound[user.key] = datetime.now(UTC)
            first = message_key not in self.seen
            self.seen.add(message_key)
            return first

    def last_inbound(self, user: UserRef) -> datetime | None:
        return self.inbound.get(user.key)

    def save_reply(self, message_key: str, text: str) -> None:
        self.replies[message_key] = text

    def saved_reply(self, message_key: str) -> str | None:
        return self.replies.get(message_key)

    def remember_key(self, key: str, value: str, keep_for: timedelta) -> str | None:
        now = datetime.now(UTC)
        with self._lock:
            held = self._keys.get(key)
            if held is not None and held[1] > now:
                return held[0]
            self._keys[key] = (value, now + keep_for)
            return None

    def set_value(self, key: str, value: str) -> None:
        self.values[key] = value

    def value(self, key: str) -> str | None:
        return self.values.get(key)

    def hold(self, user: UserRef, text: str) -> None:
        with self._lock:
            self._held.setdefault(user.key, []).append(text)

    def take_held(self, user: UserRef) -> list[str]:
        with self._lock:
            return self._held.pop(user.key, [])

    def link_ticket_message(self, ticket_id: int, channel: str, ref: str) -> None:
        self._links[(channel, ref)] = ticket_id

    def ticket_for_message(self, channel: str, ref: str) -> int | None:
        return self._links.get((channel, ref))

    def ticket_messages(self, ticket_id: int, channel: str) -> list[str]:
        return [ref for (ch, ref), tid in self._links.items() if ch == channel and tid == ticket_id]


def memory_of(desk: Any) -> ChannelMemory:
    """The memory a channel under test gets beside ``desk``: a fake desk's own, or the real
    channel memory on a real desk's store."""
    memory = getattr(desk, "memory", None)
    if memory is not None:
        return memory  # type: ignore[no-any-return]
    from escalation.channel_memory import StoreChannelMemory

    return StoreChannelMemory(desk.store)
