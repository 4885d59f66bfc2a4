"""Delivers the outbox: lease a batch, send each notification, record what happened.

What the asker sees is exactly once, with one documented exception:

* before a notification is handed to its channel, the attempt is recorded (``sending``, under
  this dispatcher's unexpired lease — a batch member whose lease ran out meanwhile is skipped,
  another dispatcher may have it), and so is the moment the channel's request that may put it
  in front of the user leaves (``core.delivery.about_to_send``; the channels do this for
  messages to askers). After the send, the result is recorded with what the channel delivered
  (Telegram's message ids), so nothing that went out is sent again;
* a send interrupted *before* its request left (the dispatcher killed, stopped or timed out
  while rendering, looking something up or waiting out a rate limit) reached nobody: it is
  tried again;
* a failure the platform answered — Telegram's 429 (``retry_after``), a 5xx, a refused
  connection, the channel not started — reached nobody: the row goes back to ``pending`` and
  this process tries it again after the platform's ``retry_after`` or its own short backoff,
  without waiting for a lease to run out. A long text that failed after its first parts went
  out is resumed after them;
* a request that left and whose answer never came back — the dispatcher was killed or stopped
  during it, it outlived ``send_timeout``, it timed out after it was sent
  (:class:`UncertainDelivery`) — may have arrived, and neither Telegram nor WeChat can tell a
  sender whether it did. Such a row becomes ``uncertain`` and is not sent again (at most once
  for that attempt); admins see it, and the answer stays on its ticket.
  Messages to experts (ticket cards) are not watched this way: a crash may repeat a card.

``send_timeout`` stays below ``lease_seconds`` so a live dispatcher always settles its own
attempts; an outcome it cannot record (the database went away meanwhile) is kept in memory and
recorded before the next lease, also over an ``uncertain`` mark the lease expiry left. :meth:`Dispatcher.run_forever` stops within ``stop_grace_s`` of being asked: a send
still running then is cancelled and recorded as ``uncertain``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from core import delivery
from core.errors import DeliveryError, PermanentDeliveryError, StoreUnavailable, UncertainDelivery
from core.ports import Clock, Notifier
from core.tickets import Notification
from escalation.backoff import Backoff
from escalation.store import EscalationStore

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RoundResult:
    leased: int
    sent: int
    retried: int
    dead: int
    uncertain: int = 0


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
        stop_grace_s: float = 3.0,
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
        self._stop_grace_s = stop_grace_s
        self._unrecorded: list[tuple[Callable[..., bool], tuple[Any, ...]]] = []

    async def run_once(self) -> int:
        """One round: lease a batch and deliver it. Returns how many were sent."""
        return (await self.run_round()).sent

    async def run_round(self, stop: asyncio.Event | None = None) -> RoundResult:
        """One round, with what happened to each leased notification. Once ``stop`` is set
        the rest of the batch is left to its lease (nothing of it was attempted)."""
        if not await self._record_backlog():
            return RoundResult(0, 0, 0, 0)
        token, leased = await asyncio.to_thread(
            self._store.lease, self.owner, self._lease_seconds, self._batch, self._clock.now()
        )
        outcomes: list[str] = []
        for notification in leased:
            if stop is not None and stop.is_set():
                break
            outcomes.append(await self._deliver(token, notification))
        return RoundResult(
            len(leased),
            outcomes.count("sent"),
            outcomes.count("retry"),
            outcomes.count("dead"),
            outcomes.count("uncertain"),
        )

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; waits ``idle_seconds`` whenever nothing was due.
        Returns within ``stop_grace_s`` of
        ``stop`` (a send still running is cancelled and recorded as uncertain).

        A retry is due after the platform's ``retry_after`` (or the backoff) and is picked up
        by the first round after that, at most ``idle_seconds`` later."""
        log.info("dispatcher started owner=%s", self.owner)
        while not stop.is_set():
            work = asyncio.create_task(self._guarded_round(stop), name="outbox-round")
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                done, _ = await asyncio.wait({work}, timeout=self._stop_grace_s)
                if not done:
                    log.warning("dispatcher stopping mid-send owner=%s", self.owner)
                    work.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await work
                stopping.cancel()
                break
            stopping.cancel()
            if work.result().leased < self._batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._idle_seconds)
        log.info("dispatcher stopped owner=%s", self.owner)

    async def _guarded_round(self, stop: asyncio.Event) -> RoundResult:
        try:
            return await self.run_round(stop)
        except StoreUnavailable as exc:
            log.warning("dispatch round skipped owner=%s error=%s", self.owner, exc.detail)
            return RoundResult(0, 0, 0, 0)
        except Exception:
            log.exception("dispatch round failed owner=%s", self.owner)
            return RoundResult(0, 0, 0, 0)

    async def _deliver(self, token: str, notification: Notification) -> str:
        nid = notification.notification_id
        channel = notification.recipient.channel.value
        began = await self._db(
            self._store.begin_attempt, nid, token, self._lease_seconds, self._clock.now()
        )
        if not began:
            log.warning("lease lost before the send id=%s owner=%s", nid, self.owner)
            return "skipped"
        notifier = self._notifiers.get(channel)
        requested: list[str] = []  # progress at each request that left

        async def about_to_send(progress: str) -> None:
            now = self._clock.now()
            if not await self._db(self._store.mark_requested, nid, token, progress or None, now):
                raise DeliveryError("attempt taken over before the request")
            requested.append(progress)

        try:
            if notifier is None:
                raise DeliveryError(f"no notifier for channel {channel}")
            with delivery.listening(about_to_send):
                ref = await asyncio.wait_for(notifier.send(notification), self._send_timeout)
        except PermanentDeliveryError as exc:
            return await self._give_up(token, notification, exc.detail)
        except UncertainDelivery as exc:
            return await self._uncertain(token, notification, exc.detail, _progress(exc))
        except DeliveryError as exc:
            return await self._retry(token, notification, exc.detail, exc.retry_after, exc)
        except asyncio.CancelledError:
            await asyncio.shield(self._cut_short(token, notification, requested, "stopped"))
            raise
        except Exception as exc:  # a timeout, or a notifier bug: it must not stop the outbox
            if not isinstance(exc, TimeoutError):
                log.exception("notifier failed id=%s channel=%s", nid, channel)
            detail = "send timed out" if isinstance(exc, TimeoutError) else _describe(exc)
            return await self._cut_short(token, notification, requested, detail)
        if await self._record(self._store.mark_sent, nid, token, _ref(ref)) is False:
            log.warning("sent after lease was lost id=%s owner=%s", nid, self.owner)
        log.info(
            "notification sent id=%s kind=%s channel=%s attempt=%s",
            nid,
            notification.kind.value,
            channel,
            notification.attempts,
        )
        return "sent"

    async def _retry(
        self,
        token: str,
        notification: Notification,
        error: str,
        retry_after: float | None = None,
        exc: BaseException | None = None,
    ) -> str:
        if notification.attempts >= self._max_attempts:
            return await self._give_up(token, notification, f"gave up: {error}")
        delay = self._backoff.delay(notification.attempts, str(notification.notification_id))
        if retry_after is not None:
            delay = retry_after
        at = self._clock.now() + timedelta(seconds=delay)
        progress = _progress(exc) if exc is not None else None
        await self._record(
            self._store.retry, notification.notification_id, token, error, at, progress
        )
        log.warning(
            "delivery failed id=%s attempt=%s retry_in_s=%.1f error=%s",
            notification.notification_id,
            notification.attempts,
            delay,
            error,
        )
        return "retry"

    async def _cut_short(
        self, token: str, notification: Notification, requested: list[str], error: str
    ) -> str:
        """A send that ended without a result: tried again if no request had left, else it
        may have arrived."""
        if not requested:
            return await self._retry(token, notification, error)
        return await self._uncertain(token, notification, error, requested[-1] or None)

    async def _uncertain(
        self, token: str, notification: Notification, error: str, progress: str | None
    ) -> str:
        await self._record(
            self._store.uncertain, notification.notification_id, token, error, progress
        )
        log.error(
            "delivery uncertain, not sent again id=%s attempt=%s error=%s",
            notification.notification_id,
            notification.attempts,
            error,
        )
        return "uncertain"

    async def _give_up(self, token: str, notification: Notification, error: str) -> str:
        await self._record(self._store.dead, notification.notification_id, token, error)
        log.error(
            "delivery abandoned id=%s attempt=%s error=%s",
            notification.notification_id,
            notification.attempts,
            error,
        )
        return "dead"

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    async def _record(self, fn: Callable[..., bool], *args: Any) -> bool | None:
        """Record an outcome; None when the database is away (kept for the next round)."""
        try:
            return await self._db(fn, *args)
        except StoreUnavailable as exc:
            self._unrecorded.append((fn, args))
            log.warning("outcome kept until the database is back id=%s error=%s", args[0], exc)
            return None

    async def _record_backlog(self) -> bool:
        """Record the outcomes kept while the database was away; False while it still is."""
        while self._unrecorded:
            fn, args = self._unrecorded[0]
            try:
                await self._db(fn, *args)
            except StoreUnavailable:
                return False
            self._unrecorded.pop(0)
        return True


def _ref(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _progress(exc: BaseException) -> str | None:
    return _ref(getattr(exc, "progress", None))
