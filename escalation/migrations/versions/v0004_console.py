"""The web console's tables: the audit log, private ticket notes, used login links, login
attempts (rate limiting) and admin password hashes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_key", sa.String(200)),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author_key", sa.String(200), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_ticket_notes_ticket_id", "ticket_notes", ["ticket_id"])
    op.create_table(
        "console_login_tokens",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("user_key", sa.String(200), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_console_login_tokens_used_at", "console_login_tokens", ["used_at"])
    op.create_table(
        "console_login_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
    )
    op.create_index(
        "ix_console_login_attempts_client_at", "console_login_attempts", ["client", "at"]
    )
    op.create_table(
        "console_passwords",
        sa.Column("user_key", sa.String(200), sa.ForeignKey("people.key"), primary_key=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_passwords")
    op.drop_index("ix_console_login_attempts_client_at", "console_login_attempts")
    op.drop_table("console_login_attempts")
    op.drop_index("ix_console_login_tokens_used_at", "console_login_tokens")
    op.drop_table("console_login_tokens")
    op.drop_index("ix_ticket_notes_ticket_id", "ticket_notes")
    op.drop_table("ticket_notes")
    op.drop_index("ix_audit_entries_at", "audit_entries")
    op.drop_table("audit_entries")
