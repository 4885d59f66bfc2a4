"""Delivers the outbox: lease a batch, send each notification, mark it sent, retry or dead.

Delivery is at least once per lease and, because a notification is marked sent right after its
notifier returns, exactly once unless a dispatcher dies between the two. A dispatcher killed while
a notifier is still sending leaves a lease that expires after ``lease_seconds``; the next
dispatcher (another worker, or this one restarted) then delivers it. ``send_timeout`` stays below
``lease_seconds`` so a slow send never outlives its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from core.errors import DeliveryError, PermanentDeliveryError
from core.ports import Notifier
from core.tickets import Notification
from escalation.backoff import Backoff
from escalation.clock import Clock
from escalation.store import EscalationStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RoundResult:
    leased: int
    sent: int
    retried: int
    dead: int


def default_owner() -> str:
    """A name for this dispatcher: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Dispatcher:
    """Drains the outbox of ``store`` through ``notifiers`` (one per channel name).

    ``clock`` (default: the store's) decides what is due and when leases and retries end.
    """

    def __init__(
        self,
        store: EscalationStore,
        notifiers: Mapping[str, Notifier],
        *,
        clock: Clock | None = None,
        owner: str | None = None,
        lease_seconds: float = 60.0,
        batch: int = 20,
        backoff: Backoff | None = None,
        max_attempts: int = 10,
        send_timeout: float | None = None,
        idle_seconds: float = 1.0,
    ) -> None:
        if lease_seconds <= 0 or batch < 1 or max_attempts < 1:
            raise ValueError("lease_seconds, batch and max_attempts must be positive")
        self._store = store
        self._notifiers = dict(notifiers)
        self._clock = clock or store.clock
        self.owner = owner or default_owner()
        self._lease_seconds = lease_seconds
        self._batch = batch
        self._backoff = backoff or Backoff()
        self._max_attempts = max_attempts
        self._send_timeout = send_timeout if send_timeout is not None else lease_seconds / 2
        self._idle_seconds = idle_seconds

    async def run_once(self) -> int:
        """One round: lease a batch and deliver it. Returns how many were sent."""
        return (await self.run_round()).sent

    async def run_round(self) -> RoundResult:
        """One round, with what happened to each leased notification."""
        token, leased = await asyncio.to_thread(
            self._store.lease, self.owner, self._lease_seconds, self._batch, self._clock.now()
        )
        sent = retried = dead = 0
        for notification in leased:
            outcome = await self._deliver(token, notification)
            sent += outcome == "sent"
            retried += outcome == "retry"
            dead += outcome == "dead"
        return RoundResult(len(leased), sent, retried, dead)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; waits ``idle_seconds`` whenever nothing was due."""
        log.info("dispatcher started owner=%s", self.owner)
        while not stop.is_set():
            try:
                result = await self.run_round()
            except Exception:
                log.exception("dispatch round failed owner=%s", self.owner)
                result = RoundResult(0, 0, 0, 0)
            if result.leased < self._batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._idle_seconds)
        log.info("dispatcher stopped owner=%s", self.owner)

    async def _deliver(self, token: str, notification: Notification) -> str:
        channel = notification.recipient.channel.value
        notifier = self._notifiers.get(channel)
        try:
            if notifier is None:
                raise DeliveryError(f"no notifier for channel {channel}")
            await asyncio.wait_for(notifier.send(notification), self._send_timeout)
        except PermanentDeliveryError as exc:
            return await self._give_up(token, notification, exc.detail)
        except (DeliveryError, TimeoutError) as exc:
            detail = exc.detail if isinstance(exc, DeliveryError) else "send timed out"
            return await self._retry(token, notification, detail)
        except Exception as exc:  # a notifier bug must not stop the outbox
            log.exception("notifier failed id=%s channel=%s", notification.notification_id, channel)
            return await self._retry(token, notification, f"{type(exc).__name__}: {exc}")
        if not await asyncio.to_thread(self._store.mark_sent, notification.notification_id, token):
            log.warning(
                "sent after lease was lost id=%s owner=%s", notification.notification_id, self.owner
            )
        log.info(
            "notification sent id=%s kind=%s channel=%s attempt=%s",
            notification.notification_id,
            notification.kind.value,
            channel,
            notification.attempts,
        )
        return "sent"

    async def _retry(self, token: str, notification: Notification, error: str) -> str:
        if notification.attempts >= self._max_attempts:
            return await self._give_up(token, notification, f"gave up: {error}")
        delay = self._backoff.delay(notification.attempts, str(notification.notification_id))
        at = self._clock.now() + timedelta(seconds=delay)
        await asyncio.to_thread(self._store.retry, notification.notification_id, token, error, at)
        log.warning(
            "delivery failed id=%s attempt=%s retry_in_s=%.1f error=%s",
            notification.notification_id,
            notification.attempts,
            delay,
            error,
        )
        return "retry"

    async def _give_up(self, token: str, notification: Notification, error: str) -> str:
        await asyncio.to_thread(self._store.dead, notification.notification_id, token, error)
        log.error(
            "delivery abandoned id=%s attempt=%s error=%s",
            notification.notification_id,
            notification.attempts,
            error,
        )
        return "dead"
