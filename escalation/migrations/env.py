"""Alembic environment of the escalation store.

``escalation.db.upgrade(url)`` runs it programmatically with an open connection in
``config.attributes["connection"]``; ``alembic -c escalation/migrations/alembic.ini`` also works
(the URL then comes from ``sqlalchemy.url`` or ``-x url=...``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from escalation.db import make_engine
from escalation.schema import metadata

# Any constant shared by every worker: the advisory lock that serialises migrations.
_PG_MIGRATION_LOCK = 0x71AD35C


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    return url or context.config.get_main_option("sqlalchemy.url") or ""


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as own:
            _run(own)
    finally:
        engine.dispose()


def _run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
