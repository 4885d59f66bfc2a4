"""Notifiers for tests: one that records what it delivered (and can be told to fail), and one
that blocks inside ``send`` until released (to kill a dispatcher mid-delivery)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from core.errors import DeliveryError, PermanentDeliveryError
from core.tickets import Notification


class RecordingNotifier:
    """Keeps every delivered notification in ``sent``; ``fail(...)`` scripts failures.

    ``fail(notification_id, times=2)`` makes the next two sends of that notification raise
    ``DeliveryError``; ``permanent=True`` raises ``PermanentDeliveryError`` instead. ``on_send``
    (optional) is called with each notification as it is delivered.
    """

    def __init__(self, on_send: Callable[[Notification], None] | None = None) -> None:
        self.sent: list[Notification] = []
        self.attempts: list[int] = []  # notification ids, every attempt including failures
        self._failures: dict[int, list[Exception]] = {}
        self._on_send = on_send
        self._lock = threading.Lock()

    def fail(self, notification_id: int, times: int = 1, *, permanent: bool = False) -> None:
        error: Exception = (
            PermanentDeliveryError("recipient unreachable")
            if permanent
            else DeliveryError("temporarily unavailable")
        )
        self._failures.setdefault(notification_id, []).extend([error] * times)

    async def send(self, notification: Notification) -> None:
        with self._lock:
            self.attempts.append(notification.notification_id)
            pending = self._failures.get(notification.notification_id)
            if pending:
                raise pending.pop(0)
            self.sent.append(notification)
        if self._on_send is not None:
            self._on_send(notification)

    def texts_for(self, key: str) -> list[str]:
        """The texts delivered to the recipient with ``UserRef.key`` ``key``."""
        return [n.text for n in self.sent if n.recipient.key == key]

    def ids(self) -> list[int]:
        return [n.notification_id for n in self.sent]


class BlockingNotifier:
    """Signals ``entered`` (any object with ``set()``: a threading or multiprocessing Event)
    when a send begins, then never returns — the receiver gets nothing."""

    def __init__(self, entered: Any) -> None:
        self._entered = entered

    async def send(self, notification: Notification) -> None:
        self._entered.set()
        await asyncio.Event().wait()
