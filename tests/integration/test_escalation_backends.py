"""Database backends for the escalation tests, and the migrations on each of them.

``fresh_database(backend, tmp_path)`` gives the URL of an empty database: a SQLite file in
``tmp_path``, or a uniquely named PostgreSQL database (created on the server named by
``QADESK_TEST_DATABASE_URL``) that is dropped afterwards (``tests/fakes/databases.py``).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from escalation.db import alembic_config, make_engine, upgrade
from escalation.schema import metadata
from tests.fakes.databases import BACKENDS, fresh_database

pytestmark = pytest.mark.integration


def head_revision() -> str:
    """The newest migration shipped in escalation/migrations."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


def test_migrations_create_the_schema_the_code_describes(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            assert context.get_current_revision() == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {"people", "tickets", "ticket_events", "interactions", "outbox"} <= tables
    finally:
        engine.dispose()


def test_upgrading_twice_changes_nothing_and_keeps_data(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO saved_replies (message_key, text, created_at) "
                "VALUES ('m1', '好的', '2025-01-01 00:00:00')"
            )
        upgrade(database_url)
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT text FROM saved_replies").scalars().all()
        assert rows == ["好的"]
    finally:
        engine.dispose()


def test_channel_keys_migration_upgrades_a_first_release_database_and_back(
    database_url: str,
) -> None:
    upgrade(database_url, "0001")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO saved_replies (message_key, text, created_at) "
                "VALUES ('wechat-token:wx1', '{}', '2025-01-01 00:00:00')"
            )
        upgrade(database_url, "0002")
        assert "channel_keys" in inspect(engine).get_table_names()
        with engine.connect() as connection:
            kept = connection.exec_driver_sql("SELECT text FROM saved_replies").scalars().all()
        assert kept == ["{}"]
        command.downgrade(alembic_config(database_url), "0001")
        assert "channel_keys" not in inspect(engine).get_table_names()
        upgrade(database_url)
        assert "channel_keys" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_kept_values_move_out_of_the_saved_replies_and_back(database_url: str) -> None:
    """Before 0007 a channel's values (an access token, a card's digest) were saved replies
    without a message key; they move to ``channel_values``, the replies to messages stay."""
    upgrade(database_url, "0006")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO inbound_messages (message_key, user_key, received_at) "
                "VALUES ('wechat:msg:gh:o:1', 'wechat:o', '2025-01-01 00:00:00')"
            )
            connection.exec_driver_sql(
                "INSERT INTO saved_replies (message_key, text, created_at) VALUES "
                "('wechat:msg:gh:o:1', 'reply:好的', '2025-01-01 00:00:00'), "
                "('wechat-token:wx1', '{}', '2025-01-01 00:00:00')"
            )
        upgrade(database_url, "0007")
        with engine.connect() as connection:
            replies = connection.exec_driver_sql("SELECT message_key FROM saved_replies").all()
            values = connection.exec_driver_sql("SELECT key, value FROM channel_values").all()
        assert [tuple(r) for r in replies] == [("wechat:msg:gh:o:1",)]
        assert [tuple(v) for v in values] == [("wechat-token:wx1", "{}")]
        command.downgrade(alembic_config(database_url), "0006")
        assert "channel_values" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            back = connection.exec_driver_sql("SELECT message_key FROM saved_replies").scalars()
            assert sorted(back) == ["wechat-token:wx1", "wechat:msg:gh:o:1"]
    finally:
        engine.dispose()


def _migrate_in_process(url: str, start: Any) -> None:
    start.wait(timeout=60)
    upgrade(url)


def test_workers_starting_together_migrate_once(database_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(3)
    workers = [
        spawn.Process(target=_migrate_in_process, args=(database_url, start)) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        assert [v for (v,) in versions] == [head_revision()]
    finally:
        engine.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pragmas.sqlite3'}"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        engine.dispose()
