"""Each asker's conversation frame: what their last question was about, and a clarifying round
waiting for their choice. Kept in the database (not in a worker's memory), so a follow-up is
understood by whichever worker receives it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select

from core.people import UserRef
from core.ports import Clock
from escalation.db import dialect_insert
from escalation.schema import conversation_frames


@dataclass(frozen=True, slots=True)
class StoredFrame:
    question: str
    slots: dict[str, str]
    clarify: dict[str, Any] | None
    updated_at: datetime


class ConversationRepo:
    """Conversation frames, inside one transaction."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    def get(self, user: UserRef, within: timedelta) -> StoredFrame | None:
        """The asker's frame if it was updated less than ``within`` ago."""
        row = self._conn.execute(
            select(conversation_frames).where(conversation_frames.c.user_key == user.key)
        ).first()
        if row is None or self._clock.now() - row.updated_at > within:
            return None
        return StoredFrame(row.question, dict(row.slots or {}), row.clarify, row.updated_at)

    def save(
        self,
        user: UserRef,
        question: str,
        slots: dict[str, str],
        clarify: dict[str, Any] | None = None,
    ) -> None:
        values = {
            "question": question,
            "slots": slots,
            "clarify": clarify,
            "updated_at": self._clock.now(),
        }
        stmt = dialect_insert(self._conn, conversation_frames).values(user_key=user.key, **values)
        self._conn.execute(stmt.on_conflict_do_update(index_elements=["user_key"], set_=values))

    def forget(self, user: UserRef) -> None:
        self._conn.execute(
            delete(conversation_frames).where(conversation_frames.c.user_key == user.key)
        )
