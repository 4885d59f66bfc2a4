"""Engines for the escalation store, and migrating a database to the current schema.

SQLite (the default, one file in the data dir) is opened in WAL mode with foreign keys on and a
busy timeout; every transaction that writes starts with ``BEGIN IMMEDIATE`` so concurrent
writers queue up instead of failing when a reader tries to become a writer. PostgreSQL is used
as is (row locks, ``SKIP LOCKED``).
"""

from __future__ import annotations

import logging
import threading
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from core.errors import ConfigurationError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
_READ_ONLY = "qadesk_read_only"
_UPGRADE_LOCK = threading.Lock()


def is_sqlite(url_or_engine: str | Engine) -> bool:
    """Whether a URL (or an engine) points at SQLite."""
    if isinstance(url_or_engine, Engine):
        return url_or_engine.dialect.name == "sqlite"
    return make_url(url_or_engine).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url`` with the connection settings the store relies on."""
    if not is_sqlite(url):
        return create_engine(url, echo=echo, pool_pre_ping=True)
    engine = create_engine(
        url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def read_only(connection: Connection) -> Connection:
    """Mark a connection's next transaction as a reader (a plain deferred BEGIN on SQLite)."""
    return connection.execution_options(**{_READ_ONLY: True})


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred and late).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(_READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the migrations shipped inside this package."""
    location = resources.files("escalation") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Create or upgrade the database at ``url`` to ``revision`` (the newest by default).

    Safe to call from several worker processes at once: on PostgreSQL the migration holds an
    advisory lock, on SQLite the immediate transaction serialises it. Within one process calls
    take turns (Alembic's ``context`` is process-global).
    """
    with _UPGRADE_LOCK:
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                config = alembic_config(url)
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        finally:
            engine.dispose()
    log.info(
        "escalation database upgraded revision=%s backend=%s",
        revision,
        make_url(url).get_backend_name(),
    )


def dialect_insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT for ``table`` that supports ``on_conflict_do_*`` on this connection's database."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ConfigurationError(f"unsupported database backend {name}")
