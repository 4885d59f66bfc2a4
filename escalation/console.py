"""What the web console keeps: the audit log, private ticket notes, used login links, login
attempts and admin password hashes — all in the database, so every worker sees the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select

from core.audit import AskerMessage, AuditEntry, DeliveryState, TicketNote
from core.people import UserRef
from core.ports import Clock
from core.tickets import Ticket
from escalation.db import dialect_insert
from escalation.schema import (
    audit_entries,
    console_login_attempts,
    console_login_tokens,
    console_passwords,
    interactions,
    outbox,
    ticket_notes,
    tickets,
)
from escalation.tickets import ticket_from_row

# outbox status -> what the console shows
DELIVERY_STATES = {
    "pending": "waiting",
    "sending": "waiting",
    "sent": "delivered",
    "dead": "failed",
    "uncertain": "uncertain",
}


def actor_label(user: UserRef) -> str:
    """How an actor appears in the log: ``name (channel:id)`` or the key alone."""
    return f"{user.display_name} ({user.key})" if user.display_name else user.key


class ConsoleRepo:
    """The console's rows, inside one transaction."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    # --- audit log ------------------------------------------------------------------------------
    def audit(self, actor: UserRef | None, action: str, subject: str, detail: str = "") -> None:
        self._conn.execute(
            audit_entries.insert().values(
                at=self._clock.now(),
                actor_key=actor.key if actor else None,
                actor=actor_label(actor) if actor else "system",
                action=action[:32],
                subject=subject[:500],
                detail=detail,
            )
        )

    def audit_log(
        self, since: datetime | None = None, until: datetime | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """Entries newest first, ``since`` ≤ at < ``until``."""
        query = select(audit_entries).order_by(audit_entries.c.at.desc(), audit_entries.c.id.desc())
        if since is not None:
            query = query.where(audit_entries.c.at >= since)
        if until is not None:
            query = query.where(audit_entries.c.at < until)
        rows = self._conn.execute(query.limit(limit))
        return [AuditEntry(r.at, r.actor, r.action, r.subject, r.detail) for r in rows]

    # --- notes ------------------------------------------------------------------------------
    def add_note(self, ticket_id: int, author: UserRef, text: str) -> TicketNote:
        now = self._clock.now()
        name = author.display_name or author.key
        result = self._conn.execute(
            ticket_notes.insert().values(
                ticket_id=ticket_id, author_key=author.key, author=name, text=text, created_at=now
            )
        )
        key = result.inserted_primary_key
        return TicketNote(int(key[0]) if key else 0, ticket_id, name, text, now)

    def notes(self, ticket_id: int) -> list[TicketNote]:
        query = (
            select(ticket_notes)
            .where(ticket_notes.c.ticket_id == ticket_id)
            .order_by(ticket_notes.c.created_at, ticket_notes.c.id)
        )
        return [
            TicketNote(r.id, r.ticket_id, r.author, r.text, r.created_at)
            for r in self._conn.execute(query)
        ]

    # --- the queue ----------------------------------------------------------------------------
    def queue(self, statuses: tuple[str, ...], limit: int) -> list[Ticket]:
        """Tickets in ``statuses``, oldest first, with only what a queue row shows (no draft,
        passages or answer: a thousand rows stay cheap)."""
        columns = [
            tickets.c.id,
            tickets.c.question,
            tickets.c.asker_channel,
            tickets.c.asker_user_id,
            tickets.c.asker_chat_id,
            tickets.c.asker_name,
            tickets.c.status,
            tickets.c.domain,
            tickets.c.created_at,
            tickets.c.claimed_by,
            tickets.c.claimed_by_name,
            tickets.c.claimed_at,
        ]
        query = (
            select(*columns)
            .where(tickets.c.status.in_(statuses))
            .order_by(tickets.c.created_at, tickets.c.id)
            .limit(limit)
        )
        return [ticket_from_row(row) for row in self._conn.execute(query)]

    def asker_messages(
        self, user_key: str, since: datetime, exclude: str, limit: int = 10
    ) -> list[AskerMessage]:
        """What the asker asked the desk from ``since`` on (their follow-ups), oldest first,
        without the question ``exclude`` (the ticket's own)."""
        query = (
            select(
                interactions.c.created_at,
                interactions.c.question,
                interactions.c.decision,
                interactions.c.ticket_id,
            )
            .where(
                interactions.c.user_key == user_key,
                interactions.c.kind == "ask",
                interactions.c.created_at >= since,
                interactions.c.question != exclude,
            )
            .order_by(interactions.c.created_at, interactions.c.id)
            .limit(limit)
        )
        return [
            AskerMessage(r.created_at, r.question, r.decision, r.ticket_id)
            for r in self._conn.execute(query)
        ]

    # --- deliveries -------------------------------------------------------------------------
    def deliveries(self, ticket_id: int, kinds: tuple[str, ...]) -> list[DeliveryState]:
        """The outbox rows of ``ticket_id`` of the given kinds (messages to the asker)."""
        query = (
            select(outbox)
            .where(outbox.c.ticket_id == ticket_id, outbox.c.kind.in_(kinds))
            .order_by(outbox.c.id)
        )
        return [_delivery(r._mapping) for r in self._conn.execute(query)]

    def latest_deliveries(self, ticket_ids: list[int], kind: str) -> dict[int, str]:
        """The state of the newest ``kind`` message of each ticket that has one."""
        if not ticket_ids:
            return {}
        newest = (
            select(func.max(outbox.c.id))
            .where(outbox.c.ticket_id.in_(ticket_ids), outbox.c.kind == kind)
            .group_by(outbox.c.ticket_id)
        )
        rows = self._conn.execute(
            select(outbox.c.ticket_id, outbox.c.status).where(outbox.c.id.in_(newest))
        )
        return {int(r.ticket_id): DELIVERY_STATES.get(r.status, r.status) for r in rows}

    # --- sign-in ----------------------------------------------------------------------------
    def use_login_nonce(self, nonce: str, user_key: str) -> bool:
        """Mark a login link's nonce used: True the first time, False ever after."""
        insert = dialect_insert(self._conn, console_login_tokens).values(
            nonce=nonce, user_key=user_key, used_at=self._clock.now()
        )
        stmt = insert.on_conflict_do_nothing(index_elements=["nonce"]).returning(
            console_login_tokens.c.nonce
        )
        return self._conn.execute(stmt).first() is not None

    def forget_login_nonces(self, older_than: datetime) -> int:
        """Used nonces of links that expired anyway (and old attempts) are dropped."""
        gone = self._conn.execute(
            delete(console_login_tokens).where(console_login_tokens.c.used_at < older_than)
        ).rowcount
        self._conn.execute(
            delete(console_login_attempts).where(console_login_attempts.c.at < older_than)
        )
        return int(gone or 0)

    def login_attempt(self, client: str, ok: bool) -> None:
        self._conn.execute(
            console_login_attempts.insert().values(client=client[:100], at=self._clock.now(), ok=ok)
        )

    def failed_attempts(self, client: str, since: datetime) -> int:
        query = select(func.count()).where(
            console_login_attempts.c.client == client[:100],
            console_login_attempts.c.at >= since,
            console_login_attempts.c.ok.is_(False),
        )
        return int(self._conn.execute(query).scalar_one())

    def password_hash(self, user_key: str) -> str | None:
        row = self._conn.execute(
            select(console_passwords.c.password_hash).where(
                console_passwords.c.user_key == user_key
            )
        ).first()
        return str(row[0]) if row else None

    def set_password_hash(self, user_key: str, password_hash: str) -> None:
        now = self._clock.now()
        insert = dialect_insert(self._conn, console_passwords).values(
            user_key=user_key, password_hash=password_hash, updated_at=now
        )
        self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=["user_key"],
                set_={"password_hash": password_hash, "updated_at": now},
            )
        )


def _delivery(data: Any) -> DeliveryState:
    return DeliveryState(
        notification_id=int(data["id"]),
        kind=str(data["kind"]),
        state=DELIVERY_STATES.get(data["status"], str(data["status"])),
        attempts=int(data["attempts"]),
        created_at=data["created_at"],
        sent_at=data["sent_at"],
        error=data["last_error"],
    )
