"""People the desk knows: askers, experts with their domains, admins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update

from core.people import Domain, Person, Role, UserRef
from core.ports import Clock
from escalation.db import dialect_insert
from escalation.records import domains_from_text, domains_to_text, user_from_row
from escalation.schema import people


def _person(row: Any) -> Person:
    data = row._mapping
    return Person(user_from_row(data), Role(data["role"]), domains_from_text(data["domains"]))


class PeopleRepo:
    """People rows, inside one transaction."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    def touch(self, user: UserRef) -> None:
        """Make sure ``user`` exists; refresh their chat id and name when the channel gave them."""
        now = self._clock.now()
        insert = dialect_insert(self._conn, people).values(
            key=user.key,
            channel=user.channel.value,
            user_id=user.user_id,
            chat_id=user.chat_id,
            display_name=user.display_name,
            role=Role.ASKER.value,
            domains="",
            created_at=now,
            updated_at=now,
        )
        changes: dict[str, Any] = {}
        if user.chat_id:
            changes["chat_id"] = insert.excluded.chat_id
        if user.display_name:
            changes["display_name"] = insert.excluded.display_name
        if changes:
            changes["updated_at"] = insert.excluded.updated_at
            self._conn.execute(insert.on_conflict_do_update(index_elements=["key"], set_=changes))
        else:
            self._conn.execute(insert.on_conflict_do_nothing(index_elements=["key"]))

    def lock(self, user: UserRef) -> None:
        """Hold ``user``'s row until the transaction ends, so that two requests of the same
        person (a double tap reaching two workers) take turns. The row must exist (``touch``).

        ``FOR NO KEY UPDATE`` on PostgreSQL: it does not conflict with the key-share locks that
        inserting rows referring to the person takes, so it cannot deadlock with them.
        """
        self._conn.execute(
            select(people.c.key).where(people.c.key == user.key).with_for_update(key_share=True)
        )

    def get(self, key: str) -> Person | None:
        row = self._conn.execute(select(people).where(people.c.key == key)).first()
        return _person(row) if row else None

    def role(self, user: UserRef) -> Role:
        person = self.get(user.key)
        return person.role if person else Role.ASKER

    def set_role(self, user: UserRef, role: Role, domains: Iterable[Domain] = ()) -> Person:
        """Give ``user`` a role (and domains), creating them if needed."""
        self.touch(user)
        self._conn.execute(
            update(people)
            .where(people.c.key == user.key)
            .values(role=role.value, domains=domains_to_text(domains), updated_at=self._clock.now())
        )
        person = self.get(user.key)
        assert person is not None
        return person

    def staff(self) -> list[Person]:
        """Experts and admins, by key."""
        rows = self._conn.execute(
            select(people)
            .where(people.c.role.in_([Role.EXPERT.value, Role.ADMIN.value]))
            .order_by(people.c.key)
        )
        return [_person(row) for row in rows]

    def ticket_takers(self, domain: Domain | None = None) -> list[Person]:
        """Whom a ticket of ``domain`` is announced to (everyone who takes tickets for None)."""
        takers = [p for p in self.staff() if p.takes_tickets]
        if domain is None:
            return takers
        return [p for p in takers if p.covers(domain)]

    def mark_inbound(self, user: UserRef, at: datetime | None = None) -> None:
        """``user`` wrote to us now (or ``at``: a message stored late; never moves back)."""
        self.touch(user)
        moment = at or self._clock.now()
        self._conn.execute(
            update(people)
            .where(
                people.c.key == user.key,
                or_(people.c.last_inbound_at.is_(None), people.c.last_inbound_at < moment),
            )
            .values(last_inbound_at=moment)
        )

    def last_inbound(self, user: UserRef) -> datetime | None:
        value: datetime | None = self._conn.execute(
            select(people.c.last_inbound_at).where(people.c.key == user.key)
        ).scalar()
        return value
