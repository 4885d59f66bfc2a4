"""Riding out a lost database connection: which errors are retried, how often, and the breaker
that stops every caller from waiting for a database that is away."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from core.errors import StoreUnavailable
from escalation.retry import Breaker, RetryPolicy, is_outage, is_transient, run_with_retry
from escalation.store import EscalationStore

LOCKED = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
FAST = RetryPolicy(attempts=3, first_delay_s=0.001, factor=2, max_delay_s=0.01)


def test_policy_waits_a_little_longer_each_time_but_never_long():
    assert RetryPolicy(attempts=4, first_delay_s=0.1, factor=3, max_delay_s=1.0).delays() == [
        0.1,
        pytest.approx(0.3),
        pytest.approx(0.9),
    ]
    assert RetryPolicy(attempts=1).delays() == []


def test_connection_failures_are_retried_other_database_errors_are_not():
    assert is_transient(LOCKED) and is_outage(LOCKED)
    duplicate = IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert not is_transient(duplicate)
    assert not is_transient(ValueError("a bug"))


def test_a_unit_of_work_succeeds_once_the_connection_is_back():
    failures = iter([LOCKED, LOCKED])

    def work() -> str:
        error = next(failures, None)
        if error is not None:
            raise error
        return "stored"

    assert run_with_retry(work, FAST, stopping=threading.Event()) == "stored"


def test_every_try_failing_says_the_store_is_unavailable_and_stopping_ends_the_waits():
    def work() -> None:
        raise LOCKED

    with pytest.raises(StoreUnavailable):
        run_with_retry(work, FAST, stopping=threading.Event())
    stopping = threading.Event()
    stopping.set()
    calls = []
    with pytest.raises(StoreUnavailable):
        run_with_retry(
            lambda: calls.append(1) or work(), RetryPolicy(attempts=50), stopping=stopping
        )
    assert calls == [1]  # no waiting while shutting down


def test_the_breaker_fails_calls_at_once_then_lets_one_try():
    now = [0.0]
    breaker = Breaker(cooldown_s=2.0, clock=lambda: now[0])
    assert breaker.admit()
    breaker.failed("database is locked")
    assert not breaker.admit()
    now[0] = 2.5
    assert breaker.admit()  # one caller tries…
    assert not breaker.admit()  # …the others still fail at once
    breaker.succeeded()
    assert breaker.admit() and not breaker.is_open


def test_a_locked_sqlite_store_gives_up_quickly_and_recovers(tmp_path: Path):
    path = tmp_path / "desk.sqlite3"
    store = EscalationStore.open(f"sqlite:///{path}", busy_timeout_s=0.05, retry=FAST)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable):
            store.run(lambda tx: tx.outbox.counts())
        assert store.check() is not None and store.breaker.is_open
        with pytest.raises(StoreUnavailable, match="away"):
            store.run(lambda tx: tx.outbox.counts())  # failed at once: the breaker is open
        other.execute("ROLLBACK")
        assert store.available()  # a probe closes the breaker
        assert store.run(lambda tx: tx.outbox.counts())["pending"] == 0
    finally:
        other.close()
        store.close()
