"""The database going away under a running desk: nothing asked is lost, nobody is told a
question was recorded when it was not, ``/healthz`` says what is down.

The real Telegram channel (against the stand-in Bot API) and the real desk and escalation store
run here; the knowledge base is the deterministic fake. PostgreSQL connections are terminated
from a separate connection (``pg_terminate_backend``) or refused (``ALLOW_CONNECTIONS false``);
SQLite is locked by another connection holding its write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

import prompts
from app import bootstrap
from app.server import create_app
from app.settings import Settings
from core.people import Channel, UserRef
from core.tickets import NotificationKind
from desk.service import Desk
from desk.spool import QuestionSpool
from escalation.dispatcher import Dispatcher
from escalation.retry import RetryPolicy
from escalation.schema import interactions, outbox, tickets
from escalation.store import EscalationStore
from tests.fakes.databases import fresh_database, postgres_server_url, write_lock
from tests.fakes.knowledge import FakeKnowledge
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import FAST, Telegram, no_proxy, running_bot, tg_user
from tests.fakes.telegram_wire import serve_asgi

pytestmark = pytest.mark.integration

ANSWERABLE = "用于贸易结算的电子秤需要强制检定吗？"
ESCALATED = "锅炉要年检吗？"
NEVER_SAY = ("已经记录", "没有丢失")
LOOSE = replace(FAST, flood_capacity=100)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


async def eventually(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it is truthy (a deadline, not a sleep for synchronisation)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def stored_questions(store: EscalationStore) -> list[tuple[str, str]]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(interactions.c.user_key, interactions.c.question))
        return [(r.user_key, r.question) for r in rows]


def replies(api: FakeBotApi, users: list[int]) -> list[str]:
    return [m.plain for uid in users for m in api.messages(uid)]


def terminate_connections(database: str) -> int:
    """``pg_terminate_backend`` every session of ``database``, from a separate connection."""
    admin = create_engine(postgres_server_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            killed = connection.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %(db)s AND pid <> pg_backend_pid()",
                {"db": database},
            ).scalar()
        return int(killed or 0)
    finally:
        admin.dispose()


def refuse_connections(database: str, refuse: bool) -> None:
    """The PostgreSQL database stops (or starts again) taking connections; refusing also ends
    the sessions it has."""
    admin = create_engine(postgres_server_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            allow = "false" if refuse else "true"
            connection.exec_driver_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {allow}')
    finally:
        admin.dispose()
    if refuse:
        terminate_connections(database)


@pytest.mark.postgres
@pytest.mark.slow
async def test_no_question_is_lost_when_postgres_connections_are_terminated_during_a_burst(
    api: FakeBotApi, tmp_path: Path
) -> None:
    users = [2000 + n for n in range(40)]
    asked = [(uid, f"{ANSWERABLE}（第{round_}次）") for round_ in range(3) for uid in users]
    with fresh_database("postgresql", tmp_path) as url:
        store = EscalationStore.open(url)
        desk = Desk(FakeKnowledge(), store, spool=QuestionSpool(tmp_path / "spool"))
        database = make_url(url).database or ""
        tg = Telegram(api)
        kills = 0
        try:
            async with running_bot(api, desk, tuning=LOOSE):

                async def terminator() -> None:
                    nonlocal kills
                    for threshold in (10, 25, 40, 55, 70, 85):
                        await eventually(
                            lambda t=threshold: len(replies(api, users)) >= t, 120, "replies"
                        )
                        await asyncio.to_thread(terminate_connections, database)
                        kills += 1

                killing = asyncio.create_task(terminator())
                for uid, question in asked:
                    await tg.text(tg_user(uid), question)
                await eventually(lambda: len(replies(api, users)) >= len(asked), 180, "replies")
                await killing
            await eventually(lambda: desk.drain_spool() >= 0 and desk.spooled() == 0, 60, "drain")
            said = replies(api, users)
            stored = stored_questions(store)
        finally:
            store.close()
    assert kills == 6
    assert len(said) == len(asked)  # every question had its reply
    assert not [text for text in said if any(lie in text for lie in NEVER_SAY)]
    assert {(f"telegram:{uid}", q) for uid, q in asked} <= set(stored)  # and its row


async def test_a_locked_sqlite_database_keeps_the_question_says_so_and_stores_it_later(
    api: FakeBotApi, tmp_path: Path
) -> None:
    path = tmp_path / "desk.sqlite3"
    store = EscalationStore.open(
        f"sqlite:///{path}", busy_timeout_s=0.2, retry=RetryPolicy(attempts=2, first_delay_s=0.05)
    )
    spool = QuestionSpool(tmp_path / "spool")
    desk = Desk(FakeKnowledge(), store, spool=spool)
    tg = Telegram(api)
    boss, clerk = tg_user(3001, "老板"), tg_user(3002, "店员")
    asker = UserRef(Channel.TELEGRAM, "3001", "3001")
    try:
        async with running_bot(api, desk) as channel:
            with write_lock(path):
                await tg.text(boss, ESCALATED)
                await tg.text(clerk, ANSWERABLE)
                kept = await api.wait_message(3001, prompts.text("desk.spool.escalation_kept"))
                answered = await api.wait_message(3002, "计量法")
                assert spool.count() == 2
                assert stored_questions_now(path) == []
            assert "工单" in kept.plain and kept.buttons() == []
            assert prompts.text("desk.spool.answered_note") in answered.plain
            assert not [t for t in replies(api, [3001, 3002]) if any(x in t for x in NEVER_SAY)]

            await eventually(lambda: desk.drain_spool() == 2, 30, "the spool drained")
            assert spool.count() == 0
            assert desk.drain_spool() == 0  # stored once, however often it runs
            assert sorted(stored_questions(store)) == [
                ("telegram:3001", ESCALATED),
                ("telegram:3002", ANSWERABLE),
            ]
            (ticket,) = desk.my_tickets(asker)
            dispatcher = Dispatcher(store, {"telegram": channel.notifier}, owner="w1")
            await dispatcher.run_once()
            late = await api.wait_message(3001, f"#{ticket.ticket_id}", after=kept.message_id)
    finally:
        store.close()
    assert late.plain.startswith(prompts.text("desk.spool.late_intro", question=ESCALATED))
    assert len(api.messages(3002)) == 1  # the answered one needs no second message
    with store.engine.connect() as connection:
        kinds = connection.execute(select(outbox.c.kind, outbox.c.status)).all()
        opened = connection.execute(select(tickets.c.question)).scalars().all()
    assert (NotificationKind.DESK_REPLY.value, "sent") in [tuple(k) for k in kinds]
    assert opened == [ESCALATED]


def stored_questions_now(path: Path) -> list[Any]:
    """The questions in the file, read by a connection of its own (the desk's is locked out)."""
    reader = sqlite3.connect(path)
    try:
        return reader.execute("SELECT question FROM interactions").fetchall()
    finally:
        reader.close()


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    container = bootstrap.build(settings, knowledge=FakeKnowledge())  # type: ignore[arg-type]
    server, task, port = await serve_asgi(create_app(settings, container), lifespan="on")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def health(base: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        return await http.get(f"{base}/healthz")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_healthz_answers_503_naming_the_database_while_it_cannot_be_reached(
    backend: str, tmp_path: Path
) -> None:
    with fresh_database(backend, tmp_path) as url, no_proxy():
        settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url)  # type: ignore[call-arg]
        async with serving(settings) as base:
            before = await health(base)
            if backend == "sqlite":
                with write_lock(Path(make_url(url).database or "")):
                    during = await health(base)
            else:
                database = make_url(url).database or ""
                await asyncio.to_thread(refuse_connections, database, True)
                try:
                    during = await health(base)
                finally:
                    await asyncio.to_thread(refuse_connections, database, False)
            after = await health(base)
    assert before.status_code == 200 and before.json()["status"] == "ok"
    assert during.status_code == 503
    body = during.json()
    assert body["status"] == "unavailable"
    assert body["down"] == ["database"]
    assert body["database"]
    assert after.status_code == 200
