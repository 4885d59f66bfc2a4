"""What the asker sees of the outbox is exactly once: a dispatcher killed (``kill -9``, a real
process) while Telegram is slowly taking its message does not send it again when it restarts;
a 429 is rescheduled for Telegram's ``retry_after`` instead of holding the dispatcher or
waiting for a lease; a long answer interrupted after its first message resumes after it.

The stand-in Bot API keeps every message it accepted, even one whose sender died before the
answer came back — as Telegram does.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.telegram.runtime import build_telegram_channel
from core.people import Channel, UserRef
from core.tickets import NotificationKind
from escalation.channel_memory import StoreChannelMemory
from escalation.dispatcher import Dispatcher
from escalation.outbox import OutboxRecord, OutboxStatus
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.desk import FakeDesk
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import FAST, no_proxy, running_bot

pytestmark = pytest.mark.e2e

FIRST, SECOND = 1001, 1002
LEASE_SECONDS = 60


@pytest.fixture
async def api():
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


@pytest.fixture
def store(tmp_path: Path):
    opened = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}", clock=FakeClock())
    try:
        yield opened
    finally:
        opened.close()


def asker(chat: int) -> UserRef:
    return UserRef(Channel.TELEGRAM, str(chat), str(chat), "提问人")


def enqueue_answer(store: EscalationStore, chat: int, text: str) -> int:
    with store.transaction() as tx:
        return tx.outbox.enqueue(NotificationKind.EXPERT_ANSWER, asker(chat), text)


def record_of(store: EscalationStore, nid: int) -> OutboxRecord:
    with store.reading() as tx:
        (record,) = [r for r in tx.outbox.records() if r.notification.notification_id == nid]
    return record


def clock_of(store: EscalationStore) -> FakeClock:
    assert isinstance(store.clock, FakeClock)
    return store.clock


def _dispatch_and_die(url: str, now: str, token: str, api_url: str) -> None:
    """A server's dispatcher in its own process, delivering through the real Telegram channel
    (the test kills it while Telegram is still taking the first message)."""

    async def run() -> None:
        store = EscalationStore.open(url, clock=FakeClock(datetime.fromisoformat(now)))
        channel = build_telegram_channel(
            FakeDesk(),
            StoreChannelMemory(store),
            token=token,
            api_url=api_url,
            file_url=None,
            webhook_url=None,
            webhook_secret=None,
            expert_chat_id=None,
            max_file_bytes=1024,
            tuning=FAST,
        )
        await channel.start()
        dispatcher = Dispatcher(
            store, {"telegram": channel.notifier}, owner="doomed", lease_seconds=LEASE_SECONDS
        )
        await dispatcher.run_once()

    asyncio.run(run())


@pytest.mark.slow
async def test_a_dispatcher_killed_during_a_slow_send_leaves_exactly_one_message_at_the_asker(
    api: FakeBotApi, store: EscalationStore, tmp_path: Path
) -> None:
    in_flight = enqueue_answer(store, FIRST, "专家答复：电子秤应当强制检定。")
    behind = enqueue_answer(store, SECOND, "专家答复：锅炉应定期检验。")
    api.delay("sendMessage", 3.0, chat_id=FIRST)  # Telegram takes its time with this one
    doomed = multiprocessing.get_context("spawn").Process(
        target=_dispatch_and_die,
        args=(str(store.engine.url), clock_of(store).now().isoformat(), api.token, api.base_url),
    )
    doomed.start()
    try:
        await api.wait_for(
            lambda: any(c.method == "sendMessage" and c.status is None for c in api.calls),
            timeout=120,
            what="the first answer on its way",
        )
    finally:
        doomed.kill()
        await asyncio.to_thread(doomed.join, 30)
    await api.wait_message(FIRST, "电子秤应当强制检定", timeout=30)  # it did arrive
    assert record_of(store, in_flight).status is OutboxStatus.SENDING
    assert record_of(store, behind).status is OutboxStatus.PENDING

    async with running_bot(api, FakeDesk()) as channel:  # the restarted server
        restarted = Dispatcher(
            store, {"telegram": channel.notifier}, owner="restarted", lease_seconds=LEASE_SECONDS
        )
        assert (await restarted.run_round()).leased == 0  # the dead one's lease still holds
        clock_of(store).advance(seconds=LEASE_SECONDS + 1)
        first = await restarted.run_round()
        again = await restarted.run_round()
        await api.wait_message(SECOND, "锅炉应定期检验")
    assert (first.sent, again.leased) == (1, 0)
    assert len(api.messages(FIRST)) == 1  # exactly once, though its send never finished
    assert len(api.messages(SECOND)) == 1  # never attempted before the kill: delivered
    uncertain = record_of(store, in_flight)
    assert uncertain.status is OutboxStatus.UNCERTAIN
    assert uncertain.request_started_at is not None
    assert record_of(store, behind).delivered_ref == f"{SECOND}:1"


async def test_a_429_is_rescheduled_for_its_retry_after_not_a_lease(
    api: FakeBotApi, tmp_path: Path
) -> None:
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'live.sqlite3'}")  # the wall clock
    nid = enqueue_answer(store, FIRST, "专家答复：可以。")
    api.fail("sendMessage", 429, retry_after=2)
    try:
        async with running_bot(api, FakeDesk()) as channel:
            dispatcher = Dispatcher(
                store,
                {"telegram": channel.notifier},
                owner="w1",
                lease_seconds=LEASE_SECONDS,
                idle_seconds=0.1,
            )
            first = await dispatcher.run_round()  # the 429 comes back at once…
            record = record_of(store, nid)
            stop = asyncio.Event()
            running = asyncio.create_task(dispatcher.run_forever(stop))
            await api.wait_message(FIRST, "专家答复：可以。", timeout=30)
            stop.set()
            await running
    finally:
        store.close()
    limited, sent = api.called("sendMessage")
    assert (first.retried, first.sent) == (1, 0)  # …and did not hold the dispatcher
    assert record.status is OutboxStatus.PENDING and record.lease_owner is None
    assert record.attempt_started_at is not None
    waits = record.next_attempt_at - record.attempt_started_at
    assert timedelta(seconds=2) <= waits < timedelta(seconds=3)
    assert (limited.status, sent.status) == (429, 200)
    assert 2.0 <= sent.at - limited.at < 10  # after Telegram's retry_after, not a 60 s lease
    assert len(api.messages(FIRST)) == 1


async def test_a_long_answer_interrupted_after_its_first_message_sends_only_the_rest(
    api: FakeBotApi, store: EscalationStore
) -> None:
    paragraph = "专家答复：" + "计量器具应当定期检定。" * 500  # > 4096 characters: two messages
    nid = enqueue_answer(store, FIRST, paragraph)
    async with running_bot(api, FakeDesk()) as channel:
        dispatcher = Dispatcher(store, {"telegram": channel.notifier}, owner="w1")
        api.fail("sendMessage", 502, times=4, after=1)  # the second part fails, retries too
        first = await dispatcher.run_round()
        clock_of(store).advance(minutes=1)
        second = await dispatcher.run_round()
        await api.wait_for(lambda: len(api.messages(FIRST)) == 2, what="both parts")
    assert (first.retried, second.sent) == (1, 1)
    statuses = [c.status for c in api.called("sendMessage")]
    assert statuses == [200, 502, 502, 502, 502, 200]  # the first part was not sent again
    assert record_of(store, nid).delivered_ref == f"{FIRST}:1,2"
