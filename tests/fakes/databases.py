"""Database backends for the tests that run on SQLite and on PostgreSQL.

``fresh_database(backend, tmp_path)`` gives the URL of an empty database: a SQLite file in
``tmp_path``, or a uniquely named PostgreSQL database (created on the server named by
``QADESK_TEST_DATABASE_URL``) that is dropped afterwards. Parametrise a test or fixture with
``BACKENDS`` to run it on both.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def postgres_server_url() -> str:
    return os.environ.get("QADESK_TEST_DATABASE_URL") or PG_DEFAULT


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of ``backend``, removed when the block ends."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'desk-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    server = make_url(postgres_server_url())
    name = f"qadesk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@contextmanager
def write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the SQLite database's write lock until the block ends."""
    other = sqlite3.connect(path, isolation_level=None, timeout=5)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()
