"""The channel memory must not grow or be guessed forever, on SQLite and PostgreSQL: message
keys forgotten after the re-delivery window in the normal course of recording new ones, values
kept until overwritten, and expiring keys (callback nonces) that exactly one worker takes
first."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.people import Channel, UserRef
from escalation.channel_memory import KEEP_MESSAGE_KEYS, PRUNE_BATCH, StoreChannelMemory
from escalation.schema import inbound_messages
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.databases import BACKENDS, fresh_database

pytestmark = pytest.mark.integration

ASKER = UserRef(Channel.WECHAT, "o-asker")
TEN_MINUTES = timedelta(minutes=10)


@dataclass
class Shared:
    """Two workers' channel memories on one database, with one clock."""

    clock: FakeClock
    workers: list[StoreChannelMemory]
    stores: list[EscalationStore]


@pytest.fixture(params=BACKENDS)
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shared]:
    with fresh_database(request.param, tmp_path) as url:
        clock = FakeClock()
        stores = [EscalationStore.open(url, clock=clock) for _ in range(2)]
        try:
            yield Shared(clock, [StoreChannelMemory(store) for store in stores], stores)
        finally:
            for store in stores:
                store.close()


def test_old_message_keys_go_in_the_normal_course_and_other_state_stays(shared: Shared) -> None:
    first, second = shared.workers
    assert first.record_inbound(ASKER, "wechat:msg:gh:o-asker:1") is True
    first.save_reply("wechat:msg:gh:o-asker:1", "reply:旧回复")
    first.set_value("wechat-token:wx1", '{"token": "t"}')  # not a message: kept
    first.set_value(f"wechat-unsubscribed:{ASKER.user_id}", "1")
    assert second.value("wechat-token:wx1") == '{"token": "t"}'  # every worker reads it
    shared.clock.advance(days=1)
    assert first.record_inbound(ASKER, "wechat:msg:gh:o-asker:2") is True
    assert first.record_inbound(ASKER, "wechat:msg:gh:o-asker:1") is False  # still known

    shared.clock.advance(days=KEEP_MESSAGE_KEYS.days, hours=1)  # past the re-delivery window
    assert first.record_inbound(ASKER, "telegram:1:message:7:1:0") is True  # prunes on the way

    assert first.saved_reply("wechat:msg:gh:o-asker:1") is None
    assert first.value("wechat-token:wx1") == '{"token": "t"}'
    first.set_value(f"wechat-unsubscribed:{ASKER.user_id}", "")  # overwritten, not added
    assert second.value(f"wechat-unsubscribed:{ASKER.user_id}") == ""
    assert first.record_inbound(ASKER, "wechat:msg:gh:o-asker:1") is True  # forgotten
    assert first.record_inbound(ASKER, "telegram:1:message:7:1:0") is False  # the new one stays


def test_a_long_backlog_goes_in_batches_while_keys_are_recorded(shared: Shared) -> None:
    first, _ = shared.workers
    store = shared.stores[0]
    with store.transaction() as tx:
        for n in range(PRUNE_BATCH + 200):
            tx.channel.record_inbound(ASKER, f"wechat:msg:gh:o-asker:{n}")
    shared.clock.advance(days=KEEP_MESSAGE_KEYS.days + 1)
    assert first.record_inbound(ASKER, "new-1") is True  # one batch
    assert message_keys(store) == 200 + 1
    assert first.record_inbound(ASKER, "new-2") is True  # the batch was full: the rest now
    assert message_keys(store) == 2


def message_keys(store: EscalationStore) -> int:
    with store.reading() as tx:
        return int(
            tx.connection.execute(select(func.count()).select_from(inbound_messages)).scalar_one()
        )


def test_a_key_is_taken_once_until_it_expires_whichever_worker_asks(shared: Shared) -> None:
    first, second = shared.workers
    assert first.remember_key("wechat-nonce:wx1:1700000000:42", "msg-a", TEN_MINUTES) is None
    assert second.remember_key("wechat-nonce:wx1:1700000000:42", "msg-b", TEN_MINUTES) == "msg-a"
    assert first.remember_key("wechat-nonce:wx1:1700000000:42", "msg-a", TEN_MINUTES) == "msg-a"
    assert second.remember_key("wechat-nonce:wx2:1700000000:42", "msg-b", TEN_MINUTES) is None

    shared.clock.advance(minutes=11)
    assert second.remember_key("wechat-nonce:wx1:1700000000:42", "msg-c", TEN_MINUTES) is None
    assert first.remember_key("wechat-nonce:wx1:1700000000:42", "msg-d", TEN_MINUTES) == "msg-c"


def test_expired_keys_are_pruned(shared: Shared) -> None:
    first, _ = shared.workers
    first.remember_key("wechat-nonce:wx1:1:1", "a", TEN_MINUTES)
    first.remember_key("wechat-nonce:wx1:1:2", "b", timedelta(days=30))
    shared.clock.advance(hours=2)
    assert first.prune() == 1
    assert first.remember_key("wechat-nonce:wx1:1:2", "c", TEN_MINUTES) == "b"


def test_two_workers_racing_for_one_key_one_wins(shared: Shared) -> None:
    barrier = threading.Barrier(8)
    results: list[str | None] = []
    lock = threading.Lock()

    def take(worker: StoreChannelMemory, value: str) -> None:
        barrier.wait(timeout=30)
        held = worker.remember_key("wechat-nonce:wx1:1700000000:7", value, TEN_MINUTES)
        with lock:
            results.append(held)

    threads = [
        threading.Thread(target=take, args=(shared.workers[n % 2], f"msg-{n}")) for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [r for r in results if r is None]
    assert len(results) == 8 and len(winners) == 1
    assert len({r for r in results if r is not None}) == 1  # everyone else sees the winner's
