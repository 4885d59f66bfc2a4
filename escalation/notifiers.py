"""The notifier that needs no outside service: a log line."""

from __future__ import annotations

import logging

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
