"""The notification outbox: messages written in the same transaction as the change they
announce, delivered later by :class:`escalation.dispatcher.Dispatcher`.

A notification goes ``pending`` → (leased) → ``sending`` → ``sent`` | ``pending`` again (a
retry at a later time) | ``dead`` | ``uncertain``:

* a dispatcher *leases* a batch (owner token + expiry) in a short transaction; a lease that
  runs out before the send began makes the notification deliverable again;
* right before it hands one to the channel it records the attempt (:meth:`OutboxRepo.begin`:
  ``sending``, still under its own unexpired lease), and right before the channel's request
  that may put the message in front of the user, that moment (:meth:`OutboxRepo.requested`,
  see ``core.delivery``) — each in its own committed transaction;
* after the send it records what happened, with what the channel reports it delivered
  (``delivered_ref``: e.g. Telegram's ``chat:message`` ids) — also for a failure after part of
  a long text went out, so the next attempt sends only the rest;
* a ``sending`` row whose lease ran out means its dispatcher died or stopped. If no request had
  left, the next lease round makes it ``pending`` again; if one had, the message may be at the
  recipient: it becomes ``uncertain`` instead of being sent again. Neither Telegram nor WeChat
  can tell a sender whether a message arrived, so such a row is not retried by itself; it stays
  visible to admins (and the answer stays on its ticket).

On PostgreSQL the batch is picked with ``FOR UPDATE SKIP LOCKED`` so concurrent dispatchers never
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
from core.ports import Clock
from core.tickets import Notification, NotificationKind
from escalation.records import user_from_row
from escalation.schema import outbox


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # an attempt is under way (or its dispatcher died during it)
    SENT = "sent"
    DEAD = "dead"
    UNCERTAIN = "uncertain"  # an attempt ended without an answer: it may have arrived


CRASHED = "the dispatcher stopped during the send; the message may have arrived"
UNSENT = "the dispatcher stopped before the send"


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
    attempt_started_at: datetime | None = None
    request_started_at: datetime | None = None
    delivered_ref: str | None = None


def _notification(data: Any) -> Notification:
    return Notification(
        notification_id=data["id"],
        kind=NotificationKind(data["kind"]),
        recipient=user_from_row(data, "recipient_"),
        text=data["text"],
        ticket_id=data["ticket_id"],
        data={str(k): str(v) for k, v in (data["data"] or {}).items()},
        attempts=data["attempts"],
        progress=data["delivered_ref"] or "",
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
        attempt_started_at=data["attempt_started_at"],
        request_started_at=data["request_started_at"],
        delivered_ref=data["delivered_ref"],
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
        attempt being made). Attempts whose dispatcher died first are settled before (see
        :meth:`settle_abandoned`).
        """
        now = now or self._clock.now()
        until = now + timedelta(seconds=lease_seconds)
        self.settle_abandoned(now)
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

    def settle_abandoned(self, now: datetime) -> int:
        """``sending`` rows whose lease ran out (their dispatcher died or stopped): back to
        ``pending`` when no request had left, else ``uncertain``; how many."""
        abandoned = and_(outbox.c.status == OutboxStatus.SENDING.value, outbox.c.lease_until < now)
        unsent = self._conn.execute(
            update(outbox)
            .where(abandoned, outbox.c.request_started_at.is_(None))
            .values(
                status=OutboxStatus.PENDING.value,
                lease_owner=None,
                lease_until=None,
                next_attempt_at=now,
                last_error=UNSENT,
            )
        ).rowcount
        maybe_sent = self._conn.execute(
            update(outbox)
            .where(abandoned)
            .values(status=OutboxStatus.UNCERTAIN.value, last_error=CRASHED)
        ).rowcount
        return int(unsent or 0) + int(maybe_sent or 0)

    def begin(
        self, notification_id: int, token: str, lease_seconds: float, now: datetime | None = None
    ) -> bool:
        """Record that the send is about to start, under ``token``'s lease (renewed for
        ``lease_seconds``). False when the lease ran out or went to another dispatcher: then
        this one must not send."""
        now = now or self._clock.now()
        result = self._conn.execute(
            update(outbox)
            .where(
                outbox.c.id == notification_id,
                outbox.c.lease_owner == token,
                outbox.c.status == OutboxStatus.PENDING.value,
                outbox.c.lease_until >= now,
            )
            .values(
                status=OutboxStatus.SENDING.value,
                attempt_started_at=now,
                request_started_at=None,
                lease_until=now + timedelta(seconds=lease_seconds),
            )
        )
        return result.rowcount == 1

    def requested(
        self, notification_id: int, token: str, progress: str | None, now: datetime | None = None
    ) -> bool:
        """Record that a request which may deliver the message leaves now (with what was
        delivered before it). False when the attempt is no longer this dispatcher's."""
        values: dict[str, Any] = {"request_started_at": now or self._clock.now()}
        if progress:
            values["delivered_ref"] = progress
        result = self._conn.execute(
            update(outbox)
            .where(
                outbox.c.id == notification_id,
                outbox.c.lease_owner == token,
                outbox.c.status == OutboxStatus.SENDING.value,
            )
            .values(**values)
        )
        return result.rowcount == 1

    def mark_sent(self, notification_id: int, token: str, ref: str | None = None) -> bool:
        """Delivered (``ref``: what the channel says it sent). Also after the row was marked
        ``uncertain`` because this dispatcher outlived its lease: it did arrive. False when
        another dispatcher owns the row."""
        return self._settle(
            notification_id,
            token,
            (OutboxStatus.SENDING, OutboxStatus.UNCERTAIN),
            status=OutboxStatus.SENT.value,
            sent_at=self._clock.now(),
            last_error=None,
            delivered_ref=ref,
        )

    def retry(
        self, notification_id: int, token: str, error: str, at: datetime, ref: str | None = None
    ) -> bool:
        """Nothing (or, with ``ref``, only that part) reached the recipient; try again at
        ``at``. Also after the row was marked ``uncertain`` while this dispatcher could not
        reach the database: it knows nothing went out."""
        values: dict[str, Any] = {"next_attempt_at": at, "last_error": error}
        if ref:
            values["delivered_ref"] = ref
        return self._settle(
            notification_id,
            token,
            (OutboxStatus.SENDING, OutboxStatus.UNCERTAIN),
            status=OutboxStatus.PENDING.value,
            **values,
        )

    def dead(self, notification_id: int, token: str, error: str) -> bool:
        """Delivery can never succeed; keep the error for admins."""
        return self._settle(
            notification_id,
            token,
            (OutboxStatus.SENDING, OutboxStatus.UNCERTAIN),
            status=OutboxStatus.DEAD.value,
            last_error=error,
        )

    def uncertain(
        self, notification_id: int, token: str, error: str, ref: str | None = None
    ) -> bool:
        """The attempt ended without an answer from the platform: never send it again."""
        values: dict[str, Any] = {"last_error": error}
        if ref:
            values["delivered_ref"] = ref
        return self._settle(
            notification_id,
            token,
            (OutboxStatus.SENDING,),
            status=OutboxStatus.UNCERTAIN.value,
            **values,
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

    def _settle(
        self,
        notification_id: int,
        token: str,
        statuses: tuple[OutboxStatus, ...],
        **values: Any,
    ) -> bool:
        mine: ColumnElement[bool] = and_(
            outbox.c.id == notification_id,
            outbox.c.lease_owner == token,
            outbox.c.status.in_([s.value for s in statuses]),
        )
        result = self._conn.execute(
            update(outbox).where(mine).values(lease_owner=None, lease_until=None, **values)
        )
        return result.rowcount == 1
