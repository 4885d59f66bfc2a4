"""State the channels share across workers and restarts: seen message keys (deduplication),
replies kept for re-deliveries, expiring keys (callback nonces), messages held for a user, and
which channel messages show which ticket.

Message keys and the replies saved for them are only needed while a platform may deliver the
message again; :meth:`ChannelStateRepo.prune` forgets them after that, together with expired
keys. Other saved values (an access token, a user's last answer) are kept until overwritten."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select

from core.people import UserRef
from core.ports import Clock
from escalation.db import dialect_insert
from escalation.people import PeopleRepo
from escalation.schema import (
    channel_keys,
    held_messages,
    inbound_messages,
    saved_replies,
    ticket_messages,
)

PRUNE_BATCH = 1000  # rows of each kind one prune removes at most


class ChannelStateRepo:
    """Channel state rows, inside one transaction."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    def record_inbound(self, user: UserRef, message_key: str) -> bool:
        """Note the user's activity; True if ``message_key`` was never seen before."""
        PeopleRepo(self._conn, self._clock).mark_inbound(user)
        stmt = (
            dialect_insert(self._conn, inbound_messages)
            .values(message_key=message_key, user_key=user.key, received_at=self._clock.now())
            .on_conflict_do_nothing(index_elements=["message_key"])
            .returning(inbound_messages.c.message_key)
        )
        return self._conn.execute(stmt).first() is not None

    def last_inbound(self, user: UserRef) -> datetime | None:
        return PeopleRepo(self._conn, self._clock).last_inbound(user)

    def save_reply(self, message_key: str, text: str) -> None:
        stmt = dialect_insert(self._conn, saved_replies).values(
            message_key=message_key, text=text, created_at=self._clock.now()
        )
        self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["message_key"], set_={"text": text})
        )

    def saved_reply(self, message_key: str) -> str | None:
        value: str | None = self._conn.execute(
            select(saved_replies.c.text).where(saved_replies.c.message_key == message_key)
        ).scalar()
        return value

    def remember(self, key: str, value: str, until: datetime) -> str | None:
        """Keep ``value`` under ``key`` until ``until``, unless the key already holds an unexpired
        value. None when the key was free (it holds ``value`` now), else the value it holds —
        one statement, so of two workers remembering the same key exactly one gets None."""
        insert = dialect_insert(self._conn, channel_keys).values(
            key=key, value=value, expires_at=until
        )
        taken = self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=["key"],
                set_={"value": insert.excluded.value, "expires_at": insert.excluded.expires_at},
                where=channel_keys.c.expires_at <= self._clock.now(),
            ).returning(channel_keys.c.key)
        ).first()
        if taken is not None:
            return None
        held: str | None = self._conn.execute(
            select(channel_keys.c.value).where(channel_keys.c.key == key)
        ).scalar()
        return held

    def hold(self, user: UserRef, text: str) -> None:
        self._conn.execute(
            held_messages.insert().values(
                user_key=user.key, text=text, created_at=self._clock.now()
            )
        )

    def take_held(self, user: UserRef) -> list[str]:
        """Remove and return the user's held messages, oldest first (one DELETE … RETURNING, so
        two workers never both take the same message)."""
        rows = self._conn.execute(
            delete(held_messages)
            .where(held_messages.c.user_key == user.key)
            .returning(held_messages.c.id, held_messages.c.text)
        ).all()
        return [text for _, text in sorted(rows)]

    def link_ticket_message(self, ticket_id: int, channel: str, ref: str) -> None:
        stmt = dialect_insert(self._conn, ticket_messages).values(
            channel=channel, ref=ref, ticket_id=ticket_id, created_at=self._clock.now()
        )
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["channel", "ref"], set_={"ticket_id": ticket_id}
            )
        )

    def ticket_for_message(self, channel: str, ref: str) -> int | None:
        value: int | None = self._conn.execute(
            select(ticket_messages.c.ticket_id).where(
                ticket_messages.c.channel == channel, ticket_messages.c.ref == ref
            )
        ).scalar()
        return value

    def ticket_messages(self, ticket_id: int, channel: str) -> list[str]:
        return list(
            self._conn.execute(
                select(ticket_messages.c.ref)
                .where(
                    ticket_messages.c.ticket_id == ticket_id, ticket_messages.c.channel == channel
                )
                .order_by(ticket_messages.c.created_at, ticket_messages.c.ref)
            ).scalars()
        )

    def prune(self, before: datetime, batch: int = PRUNE_BATCH) -> int:
        """Forget up to ``batch`` message keys received before ``before`` with the replies saved
        for them, and up to ``batch`` expired keys (oldest first, so that a long backlog goes
        in short transactions); how many rows went."""
        old = list(
            self._conn.execute(
                select(inbound_messages.c.message_key)
                .where(inbound_messages.c.received_at < before)
                .order_by(inbound_messages.c.received_at)
                .limit(batch)
            ).scalars()
        )
        expired = list(
            self._conn.execute(
                select(channel_keys.c.key)
                .where(channel_keys.c.expires_at <= self._clock.now())
                .order_by(channel_keys.c.expires_at)
                .limit(batch)
            ).scalars()
        )
        gone = 0
        if old:
            gone += self._conn.execute(
                delete(saved_replies).where(saved_replies.c.message_key.in_(old))
            ).rowcount
            gone += self._conn.execute(
                delete(inbound_messages).where(inbound_messages.c.message_key.in_(old))
            ).rowcount
        if expired:
            gone += self._conn.execute(
                delete(channel_keys).where(channel_keys.c.key.in_(expired))
            ).rowcount
        return int(gone)
