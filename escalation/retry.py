"""Riding out a database that is briefly gone: which errors are worth another try, and how often.

A unit of work that fails on the *connection* — PostgreSQL restarted or the session terminated
(``pg_terminate_backend``), the network dropped, SQLite busy past its timeout ("database is
locked"), a deadlock or serialisation failure — rolled back completely, so running it again is
safe. :func:`run_with_retry` does so a few times with a short, growing pause; SQLAlchemy's pool
has already thrown away the dead connection (and pre-pings the others), so the next try gets a
fresh one. Any other error (a constraint, a bug) is raised at once. When every try failed,
:class:`core.errors.StoreUnavailable` says so; the caller decides what to keep elsewhere.

A commit whose answer is lost is the one case a retry may repeat: the server may have committed
before the connection dropped. The desk's question transaction tolerates that (one more
interaction row, never a second ticket: a repeated question finds the open one).

Waits end early when ``stopping`` is set (the process is shutting down): nothing sleeps past it.

A database that stays away is not asked again by every caller: after a unit of work gave up,
:class:`Breaker` fails the next ones at once (``cooldown_s``), then lets one caller try; its
success closes the breaker again. So a backlog of questions during an outage is answered (and
kept on disk by the desk) in milliseconds instead of each waiting out its own timeouts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import exc as sa_exc

from core.errors import StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all, waiting ``first_delay_s`` after the first failure and
    ``factor`` times longer after each further one, never more than ``max_delay_s``."""

    attempts: int = 4
    first_delay_s: float = 0.1
    factor: float = 3.0
    max_delay_s: float = 1.0

    def delays(self) -> list[float]:
        """The pauses between the tries (one fewer than ``attempts``)."""
        return [
            min(self.max_delay_s, self.first_delay_s * self.factor**i)
            for i in range(max(self.attempts - 1, 0))
        ]


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is about reaching the database rather than about the work itself."""
    if isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True  # a pool checkout that could not connect, or waited too long
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        # OperationalError: connection lost or refused, server shutting down, "database is
        # locked", deadlock, serialisation failure; InterfaceError: the connection is closed.
        return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
    return False


def describe(error: BaseException) -> str:
    """One line naming what went wrong, without the SQL or its parameters."""
    origin = getattr(error, "orig", None) or error
    first = str(origin).strip().splitlines()[0] if str(origin).strip() else ""
    return f"{type(origin).__name__}: {first}"[:200]


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database is away (not a deadlock or serialisation failure,
    which only this transaction lost)."""
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None) or ""
    return is_transient(error) and not str(sqlstate).startswith("40")


class Breaker:
    """Fails calls at once for ``cooldown_s`` after the database was found away; then one
    call at a time tries it, and the first success closes the breaker."""

    def __init__(self, cooldown_s: float = 2.0, clock: Callable[[], float] = time.monotonic):
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None
        self._trying = False
        self.reason = ""

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def admit(self) -> bool:
        """Whether a call may go to the database now (False: fail it without trying)."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._trying or self._clock() < self._open_until:
                return False
            self._trying = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            if self._open_until is not None:
                log.info("database reachable again")
            self._open_until, self._trying, self.reason = None, False, ""

    def failed(self, reason: str) -> None:
        with self._lock:
            if self._open_until is None:
                log.warning("database away cooldown_s=%.1f error=%s", self.cooldown_s, reason)
            self._open_until = self._clock() + self.cooldown_s
            self._trying, self.reason = False, reason

    def released(self) -> None:
        """An admitted call ended without telling (a non-database error)."""
        with self._lock:
            self._trying = False


def run_with_retry(
    work: Callable[[], T],
    policy: RetryPolicy,
    *,
    stopping: threading.Event,
    what: str = "transaction",
) -> T:
    """``work()``, tried again after a transient database error; StoreUnavailable when every
    try failed (or ``stopping`` was set while waiting)."""
    delays = policy.delays()
    for attempt in range(1, len(delays) + 2):
        try:
            return work()
        except Exception as error:
            if not is_transient(error):
                raise
            last = describe(error)
            if attempt > len(delays) or stopping.is_set():
                log.warning(
                    "database unavailable what=%s attempts=%d error=%s", what, attempt, last
                )
                raise StoreUnavailable(f"{what}: {last}") from error
            delay = delays[attempt - 1]
            log.info(
                "database retry what=%s attempt=%d wait_s=%.2f error=%s", what, attempt, delay, last
            )
            if stopping.wait(delay):
                raise StoreUnavailable(f"{what}: {last} (shutting down)") from error
    raise AssertionError("unreachable")  # pragma: no cover
