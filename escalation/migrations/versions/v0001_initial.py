"""Initial schema: people, tickets and their events, interactions, outbox, FAQ mirror,
channel state.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = 200


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("key", sa.String(KEY), primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("chat_id", sa.String(128)),
        sa.Column("display_name", sa.String(200)),
        sa.Column("role", sa.String(10), nullable=False, server_default="asker"),
        sa.Column("domains", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime()),
    )
    op.create_index("ix_people_role", "people", ["role"])

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("asker_key", sa.String(KEY), sa.ForeignKey("people.key"), nullable=False),
        sa.Column("asker_channel", sa.String(20), nullable=False),
        sa.Column("asker_user_id", sa.String(128), nullable=False),
        sa.Column("asker_chat_id", sa.String(128)),
        sa.Column("asker_name", sa.String(200)),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("domain", sa.String(20), nullable=False),
        sa.Column("draft_answer", sa.Text, nullable=False, server_default=""),
        sa.Column("passages", sa.JSON, nullable=False),
        sa.Column("interaction_id", sa.Integer),
        sa.Column("claimed_by", sa.String(KEY)),
        sa.Column("claimed_by_name", sa.String(200)),
        sa.Column("claimed_at", sa.DateTime()),
        sa.Column("first_claimed_at", sa.DateTime()),
        sa.Column("answer", sa.Text),
        sa.Column("answered_by", sa.String(KEY)),
        sa.Column("answered_by_name", sa.String(200)),
        sa.Column("answered_at", sa.DateTime()),
        sa.Column("first_answered_at", sa.DateTime()),
        sa.Column("published_faq_id", sa.String(64)),
        sa.Column("closed_at", sa.DateTime()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("announce_level", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_announced_at", sa.DateTime()),
    )
    op.create_index("ix_tickets_status", "tickets", ["status"])
    op.create_index("ix_tickets_asker_key", "tickets", ["asker_key"])
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(KEY)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])

    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_key", sa.String(KEY), sa.ForeignKey("people.key"), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False, server_default="0"),
        sa.Column("reason", sa.String(32), nullable=False, server_default=""),
        sa.Column("answer_text", sa.Text, nullable=False, server_default=""),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("from_expert", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("faq_id", sa.String(64)),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id")),
        sa.Column("feedback", sa.String(16)),
        sa.Column("feedback_at", sa.DateTime()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_interactions_created_at", "interactions", ["created_at"])
    op.create_index("ix_interactions_user_key", "interactions", ["user_key"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("recipient_channel", sa.String(20), nullable=False),
        sa.Column("recipient_user_id", sa.String(128), nullable=False),
        sa.Column("recipient_chat_id", sa.String(128)),
        sa.Column("recipient_name", sa.String(200)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id")),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_until", sa.DateTime()),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime()),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])

    op.create_table(
        "faq_entries",
        sa.Column("faq_id", sa.String(64), primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id")),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("approved_by", sa.String(KEY), nullable=False),
        sa.Column("approved_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("flag_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime()),
    )
    op.create_table(
        "faq_sources",
        sa.Column(
            "faq_id",
            sa.String(64),
            sa.ForeignKey("faq_entries.faq_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("file_name", sa.String(255), primary_key=True),
    )
    op.create_index("ix_faq_sources_file_name", "faq_sources", ["file_name"])

    op.create_table(
        "inbound_messages",
        sa.Column("message_key", sa.String(255), primary_key=True),
        sa.Column("user_key", sa.String(KEY), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_inbound_messages_received_at", "inbound_messages", ["received_at"])
    op.create_table(
        "saved_replies",
        sa.Column("message_key", sa.String(255), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "held_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_key", sa.String(KEY), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_held_messages_user_key", "held_messages", ["user_key"])
    op.create_table(
        "ticket_messages",
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("ref", sa.String(200), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_ticket_messages_ticket_id", "ticket_messages", ["ticket_id"])


def downgrade() -> None:
    for table in (
        "ticket_messages",
        "held_messages",
        "saved_replies",
        "inbound_messages",
        "faq_sources",
        "faq_entries",
        "outbox",
        "interactions",
        "ticket_events",
        "tickets",
        "people",
    ):
        op.drop_table(table)
