"""Values the channels keep until they overwrite them (``channel_values``: an access token, a
user's last interaction, a card's digest), apart from the replies saved for re-delivered
messages, which ``saved_replies`` keeps only as long as their message key. Rows of
``saved_replies`` that belong to no message key were such values: they move.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNKEYED = "message_key NOT IN (SELECT message_key FROM inbound_messages)"


def upgrade() -> None:
    op.create_table(
        "channel_values",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.execute(
        "INSERT INTO channel_values (key, value, updated_at) "
        f"SELECT message_key, text, created_at FROM saved_replies WHERE {_UNKEYED}"
    )
    op.execute(f"DELETE FROM saved_replies WHERE {_UNKEYED}")


def downgrade() -> None:
    op.execute(
        "INSERT INTO saved_replies (message_key, text, created_at) "
        "SELECT key, value, updated_at FROM channel_values"
    )
    op.drop_table("channel_values")
