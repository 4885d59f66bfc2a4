"""Engines for the escalation store, and migrating a database to the current schema.

SQLite (the default, one file in the data dir) is opened in WAL mode with foreign keys on and a
busy timeout; every transaction that writes starts with ``BEGIN IMMEDIATE`` so concurrent
writers queue up instead of failing when a reader tries to become a writer. PostgreSQL is used
as is (row locks, ``SKIP LOCKED``), with a connect timeout so an unreachable server is noticed
in seconds, and its pool checks a connection before handing it out (``pool_pre_ping``), so one
killed by the server or the network is replaced instead of failing the next transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from core.errors import ConfigurationError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 5
_READ_ONLY = "qadesk_read_only"
_BUSY_TIMEOUT_MS = "qadesk_busy_timeout_ms"
_UPGRADE_LOCK = threading.Lock()


def is_sqlite(url_or_engine: str | Engine) -> bool:
    """Whether a URL (or an engine) points at SQLite."""
    if isinstance(url_or_engine, Engine):
        return url_or_engine.dialect.name == "sqlite"
    return make_url(url_or_engine).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Engine:
    """An engine for ``url`` with the connection settings the store relies on.

    ``busy_timeout_s``: how long a SQLite writer waits for another one's lock before "database
    is locked" (the store then retries, see :mod:`escalation.retry`).
    """
    parsed = make_url(url)
    if not is_sqlite(url):
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
        execution_options={_BUSY_TIMEOUT_MS: int(busy_timeout_s * 1000)},
    )
    event.listen(engine, "connect", _sqlite_on_connect(int(busy_timeout_s * 1000)))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def probe(engine: Engine, timeout_s: float = 1.0) -> None:
    """Raise unless the database takes a write now (a connection, and on SQLite the write lock
    within ``timeout_s``); nothing is written."""
    if not is_sqlite(engine):
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            connection.rollback()
        return
    configured = int(engine.get_execution_options().get(_BUSY_TIMEOUT_MS, BUSY_TIMEOUT_S * 1000))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            try:
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute("ROLLBACK")
            finally:
                cursor.execute(f"PRAGMA busy_timeout={configured}")
        finally:
            cursor.close()
    finally:
        raw.close()


def read_only(connection: Connection) -> Connection:
    """Mark a connection's next transaction as a reader (a plain deferred BEGIN on SQLite)."""
    return connection.execution_options(**{_READ_ONLY: True})


def _sqlite_on_connect(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred and late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            _use_wal(cursor, busy_timeout_ms / 1000)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    return on_connect


def _use_wal(cursor: Any, wait_s: float) -> None:
    """Put the database in WAL mode (it stays so; later connections only read the mode).
    Switching needs the database to itself, and SQLite answers "database is locked" at once,
    without its busy handler, while another connection holds it — as when several workers open
    a new database together — so the switch is tried again until ``wait_s`` has passed."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()
            if not mode or str(mode[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


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
