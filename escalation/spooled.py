"""Which questions kept on disk during an outage are in the database now (so that draining the
spool twice, e.g. after a crash between storing a question and removing its file, stores it
once)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from core.ports import Clock
from escalation.db import dialect_insert
from escalation.schema import spooled_questions


class SpooledRepo:
    """Drained spool ids, inside one transaction."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    def drained(self, spool_id: str) -> bool:
        found = self._conn.execute(
            select(spooled_questions.c.spool_id).where(spooled_questions.c.spool_id == spool_id)
        ).first()
        return found is not None

    def mark_drained(self, spool_id: str, interaction_id: int | None) -> bool:
        """Remember ``spool_id`` as stored; False when it already was."""
        stmt = (
            dialect_insert(self._conn, spooled_questions)
            .values(spool_id=spool_id, interaction_id=interaction_id, drained_at=self._clock.now())
            .on_conflict_do_nothing(index_elements=["spool_id"])
            .returning(spooled_questions.c.spool_id)
        )
        return self._conn.execute(stmt).first() is not None
