"""The notification outbox: messages written in the same transaction as the change they
announce, delivered later by :class:`escalation.dispatcher.Dispatcher`.

A dispatcher *leases* a batch (owner token + expiry) in a short transaction, delivers, then marks
each notification sent, failed (retry at a later time) or dead. A lease that runs out — the
dispatcher crashed or was killed mid-delivery — makes the notification deliverable again. On
PostgreSQL the batch is picked with ``FOR UPDATE SKIP LOCKED`` so concurrent dispatchers never
wait on each other; on SQLite the immediate write transaction serialises them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, update

from core.people import UserRef
from core.tickets import Notification, NotificationKind
from escalation.clock import Clock
from escalation.records import user_from_row
from escalation.schema import outbox


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A notification with its delivery state (for admins and tests)."""

    notification: Notification
    status: OutboxStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = None
    lease_owner: str | None = None


def _notification(data: Any) -> Notification:
    return Notification(
        notification_id=data["id"],
        kind=NotificationKind(data["kind"]),
        recipient=user_from_row(data, "recipient_"),
        text=data["text"],
        ticket_id=data["ticket_id"],
        data={str(k): str(v) for k, v in (data["data"] or {}).items()},
        attempts=data["attempts"],
    )


def _record(row: Any) -> OutboxRecord:
    data = row._mapping
    return OutboxRecord(
        notification=_notification(data),
        status=OutboxStatus(data["status"]),
        attempts=data["attempts"],
        created_at=data["created_at"],
        next_attempt_at=data["next_attempt_at"],
        sent_at=data["sent_at"],
        last_error=data["last_error"],
        lease_owner=data["lease_owner"],
    )


class OutboxRepo:
    """Outbox rows, inside one transaction."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    def enqueue(
        self,
        kind: NotificationKind,
        recipient: UserRef,
        text: str,
        *,
        ticket_id: int | None = None,
        data: Mapping[str, str] | None = None,
    ) -> int:
        """Queue one notification; it is sent only if the surrounding transaction commits."""
        now = self._clock.now()
        notification_id: int = self._conn.execute(
            insert(outbox)
            .values(
                kind=kind.value,
                recipient_channel=recipient.channel.value,
                recipient_user_id=recipient.user_id,
                recipient_chat_id=recipient.chat_id,
                recipient_name=recipient.display_name,
                text=text,
                ticket_id=ticket_id,
                data=dict(data or {}),
                status=OutboxStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .returning(outbox.c.id)
        ).scalar_one()
        return notification_id

    def lease(
        self, token: str, lease_seconds: float, batch: int, now: datetime | None = None
    ) -> list[Notification]:
        """Take up to ``batch`` notifications due at ``now`` (default: the store's clock) for
        ``token`` until ``now + lease_seconds``.

        Each leased notification counts one more attempt (``attempts`` is then the number of the
        attempt being made).
        """
        now = now or self._clock.now()
        until = now + timedelta(seconds=lease_seconds)
        due = and_(
            outbox.c.status == OutboxStatus.PENDING.value,
            outbox.c.next_attempt_at <= now,
            or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
        )
        ids = list(
            self._conn.execute(
                select(outbox.c.id)
                .where(due)
                .order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(batch)
                .with_for_update(skip_locked=True)  # ignored by SQLite
            ).scalars()
        )
        if not ids:
            return []
        self._conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids), due)
            .values(lease_owner=token, lease_until=until, attempts=outbox.c.attempts + 1)
        )
        rows = self._conn.execute(
            select(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.lease_owner == token)
            .order_by(outbox.c.id)
        )
        return [_notification(row._mapping) for row in rows]

    def mark_sent(self, notification_id: int, token: str) -> bool:
        """Delivered. False if the lease was lost (another dispatcher took it over)."""
        return self._settle(
            notification_id,
            token,
            status=OutboxStatus.SENT.value,
            sent_at=self._clock.now(),
            last_error=None,
        )

    def retry(self, notification_id: int, token: str, error: str, at: datetime) -> bool:
        """Delivery failed for now; try again at ``at``."""
        return self._settle(notification_id, token, next_attempt_at=at, last_error=error)

    def dead(self, notification_id: int, token: str, error: str) -> bool:
        """Delivery can never succeed; keep the error for admins."""
        return self._settle(
            notification_id, token, status=OutboxStatus.DEAD.value, last_error=error
        )

    def records(
        self, *, ticket_id: int | None = None, status: OutboxStatus | None = None
    ) -> list[OutboxRecord]:
        query = select(outbox).order_by(outbox.c.id)
        if ticket_id is not None:
            query = query.where(outbox.c.ticket_id == ticket_id)
        if status is not None:
            query = query.where(outbox.c.status == status.value)
        return [_record(row) for row in self._conn.execute(query)]

    def counts(self) -> dict[str, int]:
        """How many notifications are pending, sent and dead."""
        rows = self._conn.execute(
            select(outbox.c.status, func.count()).group_by(outbox.c.status)
        ).all()
        found = {str(status): int(count) for status, count in rows}
        return {s.value: found.get(s.value, 0) for s in OutboxStatus}

    def _settle(self, notification_id: int, token: str, **values: Any) -> bool:
        mine: ColumnElement[bool] = and_(
            outbox.c.id == notification_id,
            outbox.c.lease_owner == token,
            outbox.c.status == OutboxStatus.PENDING.value,
        )
        result = self._conn.execute(
            update(outbox).where(mine).values(lease_owner=None, lease_until=None, **values)
        )
        return result.rowcount == 1
