"""The escalation store: one database, used through short transactions.

``with store.transaction() as tx:`` gives a unit of work whose repositories (``tx.tickets``,
``tx.people``, ``tx.outbox``…) share one connection and commit together — so an expert's answer
and the notification carrying it to the asker are written at once, or not at all.

``store.run(work)`` runs ``work(tx)`` in such a transaction and, when the database connection
failed (see :mod:`escalation.retry`), runs it again a few times before giving up with
:class:`core.errors.StoreUnavailable`; the plain ``transaction()`` and ``reading()`` raise that
error at once. Once the database was found away, calls fail at once for a moment (a
:class:`~escalation.retry.Breaker`) instead of each waiting for it. :meth:`EscalationStore.check`
tells whether the database takes a write now.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Connection, Engine

from core.errors import StoreUnavailable
from core.people import Person, Role, user_from_key
from core.ports import Clock, SystemClock
from core.tickets import Notification
from escalation.channel_memory import ChannelMemoryRepo
from escalation.console import ConsoleRepo
from escalation.conversations import ConversationRepo
from escalation.db import BUSY_TIMEOUT_S, is_sqlite, make_engine, probe, read_only, upgrade
from escalation.faq import FaqRepo
from escalation.interactions import InteractionRepo
from escalation.outbox import OutboxRepo
from escalation.people import PeopleRepo
from escalation.records import parse_person_spec
from escalation.retry import Breaker, RetryPolicy, describe, is_outage, run_with_retry
from escalation.spooled import SpooledRepo
from escalation.stats import StatsRepo
from escalation.tickets import TicketRepo

log = logging.getLogger(__name__)

T = TypeVar("T")


class Transaction:
    """The repositories of one transaction."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self.connection = connection
        self.clock = clock
        self.people = PeopleRepo(connection, clock)
        self.tickets = TicketRepo(connection, clock)
        self.interactions = InteractionRepo(connection, clock)
        self.outbox = OutboxRepo(connection, clock)
        self.faq = FaqRepo(connection, clock)
        self.channel = ChannelMemoryRepo(connection, clock)
        self.spooled = SpooledRepo(connection, clock)
        self.stats = StatsRepo(connection)
        self.console = ConsoleRepo(connection, clock)
        self.conversations = ConversationRepo(connection, clock)


class EscalationStore:
    """Tickets, people and roles, interactions, the outbox, the FAQ mirror and the channels'
    memory (used through ``escalation.channel_memory.StoreChannelMemory``).

    Build it with :meth:`open` (migrates the database first) or from an existing engine.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self.retry_policy = RetryPolicy()
        self._stopping = threading.Event()
        self.breaker = Breaker()

    @classmethod
    def open(
        cls,
        url: str,
        *,
        clock: Clock | None = None,
        migrate: bool = True,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        retry: RetryPolicy | None = None,
    ) -> EscalationStore:
        """A store for the database at ``url``, upgraded to the current schema unless told not to.

        ``busy_timeout_s``: how long a SQLite writer waits for another's lock; ``retry``: how
        :meth:`run` rides out a lost connection (default :class:`RetryPolicy`).
        """
        if migrate:
            upgrade(url)
        store = cls(make_engine(url, busy_timeout_s=busy_timeout_s), clock=clock)
        if retry is not None:
            store.retry_policy = retry
        return store

    @property
    def backend(self) -> str:
        return "sqlite" if is_sqlite(self.engine) else self.engine.dialect.name

    def close(self) -> None:
        self.stop_waiting()
        self.engine.dispose()

    def stop_waiting(self) -> None:
        """Shutting down: retries give up at once instead of waiting for the database."""
        self._stopping.set()

    def __enter__(self) -> EscalationStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A read-write unit of work; commits on success, rolls back on any exception."""
        with self._guarded("transaction"), self.engine.begin() as connection:
            yield Transaction(connection, self.clock)

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """A unit of work that only reads (does not take the SQLite write lock)."""
        with self._guarded("reading"), self.engine.connect() as connection:
            connection = read_only(connection)
            with connection.begin():
                yield Transaction(connection, self.clock)

    def run(self, work: Callable[[Transaction], T], *, what: str = "transaction") -> T:
        """``work(tx)`` in a read-write transaction, run again (with a fresh connection, after a
        short pause) when the database connection failed; StoreUnavailable when it kept
        failing. ``work`` may run more than once: it must only use ``tx``."""

        def once() -> T:
            with self.engine.begin() as connection:
                return work(Transaction(connection, self.clock))

        with self._guarded(what, opens=True):
            return run_with_retry(once, self.retry_policy, stopping=self._stopping, what=what)

    def available(self) -> bool:
        """Whether the database takes work now: yes while nothing failed lately, else as a
        probe finds it (which closes the breaker when it answers)."""
        return not self.breaker.is_open or self.check() is None

    def check(self, timeout_s: float = 1.0) -> str | None:
        """None when the database takes a write now, else what is wrong (for ``/healthz``).
        Always asks the database; an answer closes the breaker."""
        try:
            probe(self.engine, timeout_s)
        except Exception as error:
            reason = describe(error)
            if is_outage(error):
                self.breaker.failed(reason)
            return reason
        self.breaker.succeeded()
        return None

    @contextmanager
    def _guarded(self, what: str, *, opens: bool = False) -> Iterator[None]:
        """Fail at once while the breaker is open; turn a failure to reach the database into
        :class:`StoreUnavailable`; close the breaker on success. Only a unit of work that
        retried (``opens``) opens it: one lost connection says little, retries that all
        failed say the database is away."""
        if not self.breaker.admit():
            raise StoreUnavailable(f"{what}: database away ({self.breaker.reason})")
        try:
            yield
        except StoreUnavailable as error:
            cause = error.__cause__
            if opens and cause is not None and is_outage(cause):
                self.breaker.failed(describe(cause))
            else:
                self.breaker.released()
            raise
        except Exception as error:
            self.breaker.released()
            if not is_outage(error):
                raise
            raise StoreUnavailable(f"{what}: {describe(error)}") from error
        self.breaker.succeeded()

    # --- roles ------------------------------------------------------------------------------
    def seed_roles(self, admins: Sequence[str] = (), experts: Sequence[str] = ()) -> list[Person]:
        """Give the people named in settings their roles.

        ``admins``: ``"telegram:123"``; ``experts``: ``"telegram:456=metrology|food"`` (domains
        optional). Someone in both lists is an admin with those expert domains. Raises
        ``ConfigurationError`` for a malformed entry.
        """
        admin_users = [user_from_key(spec) for spec in admins]
        expert_specs = [parse_person_spec(spec) for spec in experts]
        admin_keys = {u.key for u in admin_users}
        seeded: list[Person] = []
        with self.transaction() as tx:
            for user, domains in expert_specs:
                role = Role.ADMIN if user.key in admin_keys else Role.EXPERT
                seeded.append(tx.people.set_role(user, role, domains))
            expert_keys = {u.key for u, _ in expert_specs}
            for user in admin_users:
                if user.key not in expert_keys:
                    seeded.append(tx.people.set_role(user, Role.ADMIN))
        log.info("roles seeded admins=%d experts=%d", len(admin_users), len(expert_specs))
        return seeded

    # --- the dispatcher's side of the outbox --------------------------------------------------
    def lease(
        self, owner: str, lease_seconds: float, batch: int, now: datetime | None = None
    ) -> tuple[str, list[Notification]]:
        """Lease notifications due at ``now`` (default: this store's clock); returns the lease
        token and what was leased."""
        token = f"{owner}:{uuid.uuid4().hex[:12]}"
        leased = self.run(
            lambda tx: tx.outbox.lease(token, lease_seconds, batch, now), what="lease"
        )
        return token, leased

    def begin_attempt(
        self, notification_id: int, token: str, lease_seconds: float, now: datetime | None = None
    ) -> bool:
        """Record that a send starts now (see ``OutboxRepo.begin``); False: do not send."""
        return self.run(
            lambda tx: tx.outbox.begin(notification_id, token, lease_seconds, now), what="attempt"
        )

    def mark_requested(
        self, notification_id: int, token: str, progress: str | None, now: datetime | None = None
    ) -> bool:
        """Record that a request which may deliver the message leaves now."""
        return self.run(
            lambda tx: tx.outbox.requested(notification_id, token, progress, now), what="request"
        )

    def mark_sent(self, notification_id: int, token: str, ref: str | None = None) -> bool:
        return self.run(lambda tx: tx.outbox.mark_sent(notification_id, token, ref), what="sent")

    def retry(
        self, notification_id: int, token: str, error: str, at: datetime, ref: str | None = None
    ) -> bool:
        return self.run(
            lambda tx: tx.outbox.retry(notification_id, token, error, at, ref), what="retry"
        )

    def dead(self, notification_id: int, token: str, error: str) -> bool:
        return self.run(lambda tx: tx.outbox.dead(notification_id, token, error), what="dead")

    def uncertain(
        self, notification_id: int, token: str, error: str, ref: str | None = None
    ) -> bool:
        return self.run(
            lambda tx: tx.outbox.uncertain(notification_id, token, error, ref), what="uncertain"
        )
