"""The channels' memory (``core.ports.ChannelMemory``) in the escalation database: seen
message keys (deduplication) and the replies kept for re-deliveries, expiring keys (callback
nonces), values kept until overwritten, messages held for a user, and which channel messages
show which ticket.

Message keys and the replies saved for them are only needed while a platform may deliver the
message again; :meth:`StoreChannelMemory.prune` forgets them after that (about once an hour,
from whichever worker records a message), together with expired keys."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, select

from core.people import UserRef
from core.ports import Clock
from escalation.db import dialect_insert
from escalation.people import PeopleRepo
from escalation.schema import (
    channel_keys,
    channel_values,
    held_messages,
    inbound_messages,
    saved_replies,
    ticket_messages,
)

if TYPE_CHECKING:
    from escalation.store import EscalationStore

log = logging.getLogger(__name__)

# Platforms deliver a message again for a while (WeChat: 15 seconds; Telegram keeps updates
# for 24 hours): message keys, and the replies saved for them, are kept a few days longer.
KEEP_MESSAGE_KEYS = timedelta(days=3)
PRUNE_EVERY = timedelta(hours=1)

PRUNE_BATCH = 1000  # rows of each kind one prune removes at most


class ChannelMemoryRepo:
    """The channels' memory rows, inside one transaction."""

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

    def set_value(self, key: str, value: str) -> None:
        stmt = dialect_insert(self._conn, channel_values).values(
            key=key, value=value, updated_at=self._clock.now()
        )
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": value, "updated_at": self._clock.now()}
            )
        )

    def value(self, key: str) -> str | None:
        found: str | None = self._conn.execute(
            select(channel_values.c.value).where(channel_values.c.key == key)
        ).scalar()
        return found

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


class StoreChannelMemory:
    """``core.ports.ChannelMemory`` on the escalation store; each call one short transaction.

    Recording a message key (or remembering one) also forgets, about every ``prune_every``,
    the message keys older than ``keep_message_keys`` and the expired keys (each worker does
    so; any one is enough)."""

    def __init__(
        self,
        store: EscalationStore,
        *,
        keep_message_keys: timedelta = KEEP_MESSAGE_KEYS,
        prune_every: timedelta = PRUNE_EVERY,
    ) -> None:
        self._store = store
        self.keep_message_keys = keep_message_keys
        self._prune_every = prune_every
        self._next_prune: datetime | None = None
        self._prune_lock = threading.Lock()

    def record_inbound(self, user: UserRef, message_key: str) -> bool:
        with self._store.transaction() as tx:
            first = tx.channel.record_inbound(user, message_key)
        self._prune_when_due()
        return first

    def last_inbound(self, user: UserRef) -> datetime | None:
        with self._store.reading() as tx:
            return tx.channel.last_inbound(user)

    def save_reply(self, message_key: str, text: str) -> None:
        with self._store.transaction() as tx:
            tx.channel.save_reply(message_key, text)

    def saved_reply(self, message_key: str) -> str | None:
        with self._store.reading() as tx:
            return tx.channel.saved_reply(message_key)

    def remember_key(self, key: str, value: str, keep_for: timedelta) -> str | None:
        with self._store.transaction() as tx:
            held = tx.channel.remember(key, value, self._store.clock.now() + keep_for)
        self._prune_when_due()
        return held

    def set_value(self, key: str, value: str) -> None:
        with self._store.transaction() as tx:
            tx.channel.set_value(key, value)

    def value(self, key: str) -> str | None:
        with self._store.reading() as tx:
            return tx.channel.value(key)

    def hold(self, user: UserRef, text: str) -> None:
        with self._store.transaction() as tx:
            tx.channel.hold(user, text)

    def take_held(self, user: UserRef) -> list[str]:
        with self._store.transaction() as tx:
            return tx.channel.take_held(user)

    def link_ticket_message(self, ticket_id: int, channel: str, ref: str) -> None:
        with self._store.transaction() as tx:
            tx.channel.link_ticket_message(ticket_id, channel, ref)

    def ticket_for_message(self, channel: str, ref: str) -> int | None:
        with self._store.reading() as tx:
            return tx.channel.ticket_for_message(channel, ref)

    def ticket_messages(self, ticket_id: int, channel: str) -> list[str]:
        with self._store.reading() as tx:
            return tx.channel.ticket_messages(ticket_id, channel)

    # --- housekeeping -----------------------------------------------------------------------
    def prune(self) -> int:
        """Forget message keys past the re-delivery window and expired keys, one batch of each
        (see ``ChannelMemoryRepo.prune``); rows removed."""
        now = self._store.clock.now()
        with self._store.transaction() as tx:
            gone = tx.channel.prune(now - self.keep_message_keys)
        if gone:
            log.info("channel state pruned rows=%d", gone)
        return gone

    def _prune_when_due(self) -> None:
        now = self._store.clock.now()
        with self._prune_lock:
            if self._next_prune is not None and now < self._next_prune:
                return
            self._next_prune = now + self._prune_every
        try:
            gone = self.prune()
        except Exception:  # housekeeping: the next round tries again
            log.warning("channel state prune failed", exc_info=True)
            return
        if gone >= PRUNE_BATCH:  # a backlog: the next recording takes the next batch
            with self._prune_lock:
                self._next_prune = now
