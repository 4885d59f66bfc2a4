"""Expiring channel keys (WeChat callback nonces, remembered for the signature window).

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_keys",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_channel_keys_expires_at", "channel_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_channel_keys_expires_at", table_name="channel_keys")
    op.drop_table("channel_keys")
