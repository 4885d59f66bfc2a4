"""The desk's own record of published expert FAQ entries (the knowledge base serves them).

Kept so entries can be listed, withdrawn, and flagged for review when a document they rely on is
replaced or removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from core.answers import FaqEntry, FaqRecord, FaqStatus
from core.ports import Clock
from escalation.db import dialect_insert
from escalation.schema import as_utc, faq_entries, faq_sources


class FaqRepo:
    """FAQ mirror rows, inside one transaction."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    def save(self, entry: FaqEntry) -> FaqRecord:
        """Insert or update an entry (active, not flagged) and its sources."""
        now = self._clock.now()
        approved_at = _parse_time(entry.approved_at) or now
        values = {
            "faq_id": entry.faq_id,
            "ticket_id": entry.ticket_id,
            "question": entry.question,
            "answer": entry.answer,
            "approved_by": entry.approved_by,
            "approved_at": approved_at,
            "status": FaqStatus.ACTIVE.value,
            "flagged": False,
            "flag_reason": "",
            "created_at": now,
            "updated_at": now,
            "withdrawn_at": None,
        }
        stmt = dialect_insert(self._conn, faq_entries).values(**values)
        keep_created = {k: v for k, v in values.items() if k not in ("faq_id", "created_at")}
        self._conn.execute(stmt.on_conflict_do_update(index_elements=["faq_id"], set_=keep_created))
        self._conn.execute(delete(faq_sources).where(faq_sources.c.faq_id == entry.faq_id))
        for file_name in dict.fromkeys(entry.sources):
            self._conn.execute(insert(faq_sources).values(faq_id=entry.faq_id, file_name=file_name))
        record = self.get(entry.faq_id)
        assert record is not None
        return record

    def get(self, faq_id: str) -> FaqRecord | None:
        row = self._conn.execute(select(faq_entries).where(faq_entries.c.faq_id == faq_id)).first()
        return self._record(row) if row else None

    def find(
        self, *, flagged: bool | None = None, status: FaqStatus | None = None
    ) -> list[FaqRecord]:
        query = select(faq_entries).order_by(faq_entries.c.approved_at, faq_entries.c.faq_id)
        if flagged is not None:
            query = query.where(faq_entries.c.flagged == flagged)
        if status is not None:
            query = query.where(faq_entries.c.status == status.value)
        return [self._record(row) for row in self._conn.execute(query)]

    def citing(self, file_name: str) -> list[FaqRecord]:
        """The active entries relying on ``file_name``."""
        query = (
            select(faq_entries)
            .join(faq_sources, faq_sources.c.faq_id == faq_entries.c.faq_id)
            .where(
                faq_sources.c.file_name == file_name,
                faq_entries.c.status == FaqStatus.ACTIVE.value,
            )
            .order_by(faq_entries.c.approved_at, faq_entries.c.faq_id)
        )
        return [self._record(row) for row in self._conn.execute(query)]

    def withdraw(self, faq_id: str) -> FaqRecord | None:
        now = self._clock.now()
        self._conn.execute(
            update(faq_entries)
            .where(faq_entries.c.faq_id == faq_id)
            .values(status=FaqStatus.WITHDRAWN.value, withdrawn_at=now, updated_at=now)
        )
        return self.get(faq_id)

    def flag_citing(self, file_names: Sequence[str], reason: str) -> list[str]:
        """Flag every active entry relying on one of ``file_names``; their ids."""
        if not file_names:
            return []
        ids = sorted(
            set(
                self._conn.execute(
                    select(faq_sources.c.faq_id)
                    .join(faq_entries, faq_entries.c.faq_id == faq_sources.c.faq_id)
                    .where(
                        faq_sources.c.file_name.in_(list(file_names)),
                        faq_entries.c.status == FaqStatus.ACTIVE.value,
                    )
                ).scalars()
            )
        )
        if ids:
            self._conn.execute(
                update(faq_entries)
                .where(faq_entries.c.faq_id.in_(ids))
                .values(flagged=True, flag_reason=reason, updated_at=self._clock.now())
            )
        return ids

    def clear_flag(self, faq_id: str) -> FaqRecord | None:
        self._conn.execute(
            update(faq_entries)
            .where(faq_entries.c.faq_id == faq_id)
            .values(flagged=False, flag_reason="", updated_at=self._clock.now())
        )
        return self.get(faq_id)

    def _record(self, row: Any) -> FaqRecord:
        d = row._mapping
        sources = tuple(
            self._conn.execute(
                select(faq_sources.c.file_name)
                .where(faq_sources.c.faq_id == d["faq_id"])
                .order_by(faq_sources.c.file_name)
            ).scalars()
        )
        entry = FaqEntry(
            faq_id=d["faq_id"],
            question=d["question"],
            answer=d["answer"],
            sources=sources,
            approved_by=d["approved_by"],
            approved_at=d["approved_at"].isoformat(),
            ticket_id=d["ticket_id"],
        )
        return FaqRecord(
            entry, FaqStatus(d["status"]), bool(d["flagged"]), d["flag_reason"], d["updated_at"]
        )


def _parse_time(value: str) -> datetime | None:
    """An ISO timestamp as aware UTC, or None when empty or malformed."""
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None
