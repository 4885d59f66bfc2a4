"""Delivery attempts recorded before a send and before its request (``sending``/``uncertain``,
what was delivered), and the questions drained from the on-disk spool.

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attempt_started_at", sa.DateTime()))
        batch.add_column(sa.Column("request_started_at", sa.DateTime()))
        batch.add_column(sa.Column("delivered_ref", sa.Text()))
    op.create_table(
        "spooled_questions",
        sa.Column("spool_id", sa.String(64), primary_key=True),
        sa.Column("interaction_id", sa.Integer()),
        sa.Column("drained_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("spooled_questions")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("delivered_ref")
        batch.drop_column("request_started_at")
        batch.drop_column("attempt_started_at")
