"""Notifiers that need no outside service: a log line, or text on a console stream."""

from __future__ import annotations

import logging
import sys
import threading
from typing import TextIO

from core.tickets import Notification

log = logging.getLogger(__name__)


class LogNotifier:
    """Records each notification in the log (for channels not configured in this process).

    The message body is logged at DEBUG only.
    """

    async def send(self, notification: Notification) -> None:
        log.info(
            "notification id=%s kind=%s recipient=%s ticket=%s",
            notification.notification_id,
            notification.kind.value,
            notification.recipient.key,
            notification.ticket_id,
        )
        log.debug("notification id=%s text=%s", notification.notification_id, notification.text)


class ConsoleNotifier:
    """Writes each notification's text to a stream (the console channel, ``qadesk chat``)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    async def send(self, notification: Notification) -> None:
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(f"\n{notification.text}\n")
            stream.flush()
