"""Which composer produced each answer: ``interactions.composer`` (extractive | llm; empty for
escalations, refusals and expert answers) and ``interactions.composer_fallback`` (why an LLM
composition was not used: timeout, schema, unknown_citation, nothing_left, model_error).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("interactions", sa.Column("composer", sa.String(16), nullable=True))
    op.add_column("interactions", sa.Column("composer_fallback", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.drop_column("composer_fallback")
        batch.drop_column("composer")
