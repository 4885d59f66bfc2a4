"""The outbox and its dispatcher, on SQLite and PostgreSQL: delivery, retries with backoff,
dead letters, leases that expire after a crash, and dispatchers in separate processes."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect

from core.people import Channel, UserRef
from core.tickets import NotificationKind
from escalation.backoff import Backoff
from escalation.db import alembic_config, make_engine, upgrade
from escalation.dispatcher import Dispatcher
from escalation.outbox import OutboxStatus
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.databases import BACKENDS, fresh_database
from tests.fakes.notifier import BlockingNotifier, RecordingNotifier

pytestmark = pytest.mark.integration

ASKER = UserRef(Channel.TELEGRAM, "1001", "1001", "王老板")
WECHAT_ASKER = UserRef(Channel.WECHAT, "o-1", None, "赵经理")


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(database: str) -> Iterator[EscalationStore]:
    opened = EscalationStore.open(database, clock=FakeClock())
    try:
        yield opened
    finally:
        opened.close()


def clock_of(store: EscalationStore) -> FakeClock:
    assert isinstance(store.clock, FakeClock)
    return store.clock


def enqueue(store: EscalationStore, n: int = 1, recipient: UserRef = ASKER) -> list[int]:
    with store.transaction() as tx:
        return [
            tx.outbox.enqueue(
                NotificationKind.EXPERT_ANSWER, recipient, f"答复{i}", data={"i": str(i)}
            )
            for i in range(n)
        ]


def status_of(store: EscalationStore) -> dict[int, OutboxStatus]:
    with store.reading() as tx:
        return {r.notification.notification_id: r.status for r in tx.outbox.records()}


async def test_notifications_are_delivered_once_and_marked_sent(store: EscalationStore) -> None:
    ids = enqueue(store, 3)
    notifier = RecordingNotifier()
    dispatcher = Dispatcher(store, {"telegram": notifier}, owner="w1", batch=2)
    assert await dispatcher.run_once() == 2
    assert await dispatcher.run_once() == 1
    assert await dispatcher.run_once() == 0
    assert notifier.ids() == ids
    assert notifier.sent[0].recipient == ASKER
    assert notifier.sent[0].text == "答复0"
    assert notifier.sent[0].data == {"i": "0"}
    assert set(status_of(store).values()) == {OutboxStatus.SENT}
    with store.reading() as tx:
        assert tx.outbox.counts() == {
            "pending": 0,
            "sending": 0,
            "sent": 3,
            "dead": 0,
            "uncertain": 0,
        }


async def test_a_failed_delivery_is_retried_after_a_backoff(store: EscalationStore) -> None:
    (nid,) = enqueue(store)
    clock = clock_of(store)
    notifier = RecordingNotifier()
    notifier.fail(nid, times=2)
    backoff = Backoff(base=10, factor=2, cap=600, jitter=0.2)
    dispatcher = Dispatcher(store, {"telegram": notifier}, owner="w1", backoff=backoff)

    result = await dispatcher.run_round()
    assert (result.sent, result.retried) == (0, 1)
    with store.reading() as tx:
        (record,) = tx.outbox.records()
    assert record.status is OutboxStatus.PENDING
    assert record.last_error == "temporarily unavailable"
    assert record.next_attempt_at == clock.now() + timedelta(seconds=backoff.delay(1, str(nid)))
    assert await dispatcher.run_once() == 0  # not due yet

    clock.set(record.next_attempt_at)
    assert (await dispatcher.run_round()).retried == 1
    with store.reading() as tx:
        (record,) = tx.outbox.records()
    assert record.next_attempt_at == clock.now() + timedelta(seconds=backoff.delay(2, str(nid)))
    assert backoff.delay(2, str(nid)) > backoff.delay(1, str(nid))

    clock.set(record.next_attempt_at)
    assert await dispatcher.run_once() == 1
    assert notifier.attempts == [nid, nid, nid]
    assert notifier.ids() == [nid]
    with store.reading() as tx:
        (record,) = tx.outbox.records()
    assert (record.status, record.attempts, record.sent_at) == (OutboxStatus.SENT, 3, clock.now())


async def test_a_permanent_failure_is_dead_with_its_error_kept(store: EscalationStore) -> None:
    dead, fine = enqueue(store, 2)
    notifier = RecordingNotifier()
    notifier.fail(dead, permanent=True)
    result = await Dispatcher(store, {"telegram": notifier}, owner="w1").run_round()
    assert (result.sent, result.dead) == (1, 1)
    with store.reading() as tx:
        records = {r.notification.notification_id: r for r in tx.outbox.records()}
    assert records[dead].status is OutboxStatus.DEAD
    assert records[dead].last_error == "recipient unreachable"
    assert records[fine].status is OutboxStatus.SENT
    clock_of(store).advance(days=1)
    assert await Dispatcher(store, {"telegram": notifier}, owner="w2").run_once() == 0


async def test_delivery_is_abandoned_after_max_attempts(store: EscalationStore) -> None:
    (nid,) = enqueue(store)
    notifier = RecordingNotifier()
    notifier.fail(nid, times=10)
    dispatcher = Dispatcher(store, {"telegram": notifier}, owner="w1", max_attempts=3)
    outcomes = []
    for _ in range(3):
        outcomes.append(await dispatcher.run_round())
        clock_of(store).advance(hours=1)
    assert [(r.retried, r.dead) for r in outcomes] == [(1, 0), (1, 0), (0, 1)]
    assert status_of(store) == {nid: OutboxStatus.DEAD}


async def test_a_channel_without_notifier_waits_and_a_broken_notifier_is_retried(
    store: EscalationStore,
) -> None:
    (wechat,) = enqueue(store, recipient=WECHAT_ASKER)

    class Broken:
        async def send(self, notification: Any) -> None:
            raise RuntimeError("bug in the channel")

    (telegram,) = enqueue(store)
    result = await Dispatcher(store, {"telegram": Broken()}, owner="w1").run_round()
    assert (result.retried, result.sent) == (2, 0)
    with store.reading() as tx:
        errors = {r.notification.notification_id: r.last_error for r in tx.outbox.records()}
    assert errors[wechat] == "no notifier for channel wechat"
    assert errors[telegram] == "RuntimeError: bug in the channel"
    assert set(status_of(store).values()) == {OutboxStatus.PENDING}


async def test_a_send_that_hangs_is_given_up_for_a_retry(store: EscalationStore) -> None:
    enqueue(store)
    entered = asyncio.Event()
    dispatcher = Dispatcher(
        store, {"telegram": BlockingNotifier(entered)}, owner="w1", send_timeout=0.2
    )
    result = await dispatcher.run_round()
    assert entered.is_set()
    assert result.retried == 1
    with store.reading() as tx:
        (record,) = tx.outbox.records()
    assert record.last_error == "send timed out"
    assert record.lease_owner is None


async def test_an_expired_lease_makes_a_notification_deliverable_again(
    store: EscalationStore,
) -> None:
    (nid,) = enqueue(store)
    clock = clock_of(store)
    token, leased = store.lease("crashed", lease_seconds=60, batch=10)
    assert [n.notification_id for n in leased] == [nid]
    notifier = RecordingNotifier()
    restarted = Dispatcher(store, {"telegram": notifier}, owner="w2", lease_seconds=60)
    clock.advance(seconds=59)
    assert await restarted.run_once() == 0  # still leased by the crashed dispatcher
    clock.advance(seconds=2)
    assert await restarted.run_once() == 1
    assert notifier.sent[0].attempts == 2
    assert store.mark_sent(nid, token) is False  # the crashed one's lease is gone


async def test_run_forever_delivers_until_stopped(store: EscalationStore) -> None:
    ids = enqueue(store, 5)
    stop = asyncio.Event()
    notifier = RecordingNotifier(
        on_send=lambda n: stop.set() if n.notification_id == ids[-1] else None
    )
    dispatcher = Dispatcher(store, {"telegram": notifier}, owner="w1", batch=2, idle_seconds=0.05)
    await asyncio.wait_for(dispatcher.run_forever(stop), timeout=30)
    assert notifier.ids() == ids


# --- separate processes -----------------------------------------------------------------------
def _drain(url: str, owner: str, now: str, start: Any, delivered: Any, both: Any) -> None:
    clock = FakeClock(datetime.fromisoformat(now))
    store = EscalationStore.open(url, clock=clock, migrate=False)
    sent: list[int] = []

    def on_send(notification: Any) -> None:
        if not sent:  # each worker's first send waits for the other's: both take part
            both.wait(timeout=60)
        sent.append(notification.notification_id)
        delivered.put((owner, notification.notification_id))

    notifier = RecordingNotifier(on_send=on_send)
    dispatcher = Dispatcher(store, {"telegram": notifier}, owner=owner, batch=5)

    async def drain() -> None:
        while (await dispatcher.run_round()).leased:
            pass

    start.wait(timeout=60)
    asyncio.run(drain())
    delivered.put((owner, None))
    store.close()


def _deliver_and_hang(url: str, now: str, entered: Any) -> None:
    clock = FakeClock(datetime.fromisoformat(now))
    store = EscalationStore.open(url, clock=clock, migrate=False)
    dispatcher = Dispatcher(
        store,
        {"telegram": BlockingNotifier(entered)},
        owner="doomed",
        lease_seconds=60,
        send_timeout=3600,
    )
    asyncio.run(dispatcher.run_once())


@pytest.mark.slow
def test_two_dispatcher_processes_deliver_every_notification_exactly_once(
    store: EscalationStore, database: str
) -> None:
    ids = enqueue(store, 120)
    spawn = multiprocessing.get_context("spawn")
    start, both = spawn.Barrier(2), spawn.Barrier(2)
    delivered = spawn.Queue()
    now = clock_of(store).now().isoformat()
    workers = [
        spawn.Process(target=_drain, args=(database, owner, now, start, delivered, both))
        for owner in ("worker-a", "worker-b")
    ]
    for worker in workers:
        worker.start()
    seen: list[tuple[str, int]] = []
    finished = 0
    while finished < 2:
        owner, nid = delivered.get(timeout=120)
        if nid is None:
            finished += 1
        else:
            seen.append((owner, nid))
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]
    assert sorted(nid for _, nid in seen) == ids
    assert set(status_of(store).values()) == {OutboxStatus.SENT}
    assert {owner for owner, _ in seen} == {"worker-a", "worker-b"}


@pytest.mark.slow
def test_a_dispatcher_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    store: EscalationStore, database: str
) -> None:
    ids = enqueue(store, 3)
    spawn = multiprocessing.get_context("spawn")
    entered = spawn.Event()
    doomed = spawn.Process(
        target=_deliver_and_hang, args=(database, clock_of(store).now().isoformat(), entered)
    )
    doomed.start()
    assert entered.wait(timeout=120), "the dispatcher never reached its notifier"
    doomed.kill()
    doomed.join(timeout=60)
    # its notifier never started a request: nothing can have arrived, all three go out again
    assert status_of(store) == {ids[0]: OutboxStatus.SENDING} | dict.fromkeys(
        ids[1:], OutboxStatus.PENDING
    )

    notifier = RecordingNotifier()
    restarted = Dispatcher(store, {"telegram": notifier}, owner="restarted", lease_seconds=60)
    assert asyncio.run(restarted.run_once()) == 0  # the dead one's lease still holds
    clock_of(store).advance(seconds=61)
    assert asyncio.run(restarted.run_once()) == 3
    assert asyncio.run(restarted.run_once()) == 0
    assert notifier.ids() == ids
    assert set(status_of(store).values()) == {OutboxStatus.SENT}


async def test_the_dispatchers_own_clock_decides_what_is_due(store: EscalationStore) -> None:
    (nid,) = enqueue(store)
    store.lease("crashed", lease_seconds=60, batch=10)
    later = FakeClock(clock_of(store).now() + timedelta(seconds=61))
    notifier = RecordingNotifier()
    assert await Dispatcher(store, {"telegram": notifier}, owner="on-time").run_once() == 0
    assert await Dispatcher(store, {"telegram": notifier}, clock=later, owner="w2").run_once() == 1
    assert notifier.ids() == [nid]


def test_the_delivery_attempts_migration_keeps_queued_notifications_and_goes_back(
    database: str,
) -> None:
    upgrade(database, "0002")
    engine = make_engine(database)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO people (key, channel, user_id, role, domains, created_at, updated_at)"
                " VALUES ('telegram:1', 'telegram', '1', 'asker', '', '2025-01-01', '2025-01-01')"
            )
            connection.exec_driver_sql(
                "INSERT INTO outbox (kind, recipient_channel, recipient_user_id, text, data, "
                "status, attempts, next_attempt_at, created_at) VALUES ('expert_answer', "
                "'telegram', '1', '答复', '{}', 'pending', 0, '2025-01-01', '2025-01-01')"
            )
        upgrade(database)
        columns = {c["name"] for c in inspect(engine).get_columns("outbox")}
        assert {"attempt_started_at", "request_started_at", "delivered_ref"} <= columns
        with engine.connect() as connection:
            kept = connection.exec_driver_sql("SELECT text, status FROM outbox").all()
        assert [tuple(row) for row in kept] == [("答复", "pending")]
        command.downgrade(alembic_config(database), "0002")
        assert "spooled_questions" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
