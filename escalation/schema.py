"""The relational schema of the escalation store (SQLAlchemy Core tables).

The database is created and upgraded by the Alembic migrations in ``escalation/migrations``;
these table objects describe it for queries (and let a test check the two agree).
Times are stored as naive UTC and read back as aware UTC (:class:`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime kept as naive UTC in the database and returned as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


metadata = MetaData()

KEY = 200  # "channel:user_id"

people = Table(
    "people",
    metadata,
    Column("key", String(KEY), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("chat_id", String(128)),
    Column("display_name", String(200)),
    Column("role", String(10), nullable=False, server_default="asker"),
    Column("domains", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("last_inbound_at", UTCDateTime()),
    Index("ix_people_role", "role"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asker_key", String(KEY), ForeignKey("people.key"), nullable=False),
    Column("asker_channel", String(20), nullable=False),
    Column("asker_user_id", String(128), nullable=False),
    Column("asker_chat_id", String(128)),
    Column("asker_name", String(200)),
    Column("question", Text, nullable=False),
    Column("status", String(12), nullable=False),
    Column("domain", String(20), nullable=False),
    Column("draft_answer", Text, nullable=False, server_default=""),
    Column("passages", JSON, nullable=False),
    Column("interaction_id", Integer),
    Column("claimed_by", String(KEY)),
    Column("claimed_by_name", String(200)),
    Column("claimed_at", UTCDateTime()),
    Column("first_claimed_at", UTCDateTime()),
    Column("answer", Text),
    Column("answered_by", String(KEY)),
    Column("answered_by_name", String(200)),
    Column("answered_at", UTCDateTime()),
    Column("first_answered_at", UTCDateTime()),
    Column("published_faq_id", String(64)),
    Column("closed_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("reopen_count", Integer, nullable=False, server_default="0"),
    Column("announce_level", Integer, nullable=False, server_default="0"),
    Column("last_announced_at", UTCDateTime()),
    Index("ix_tickets_status", "status"),
    Index("ix_tickets_asker_key", "asker_key"),
    Index("ix_tickets_created_at", "created_at"),
)

ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(KEY)),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    Index("ix_ticket_events_ticket_id", "ticket_id"),
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # ask | expert_answer
    Column("user_key", String(KEY), ForeignKey("people.key"), nullable=False),
    Column("question", Text, nullable=False),
    Column("decision", String(16), nullable=False),  # answer | escalate | invalid
    Column("confidence", Float, nullable=False, server_default="0"),
    Column("reason", String(32), nullable=False, server_default=""),
    Column("answer_text", Text, nullable=False, server_default=""),
    Column("citations", JSON, nullable=False),
    Column("from_expert", Boolean, nullable=False, server_default=false()),
    Column("faq_id", String(64)),
    Column("ticket_id", Integer, ForeignKey("tickets.id")),
    Column("feedback", String(16)),  # helpful | not_helpful
    Column("feedback_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("composer", String(16)),  # extractive | llm, for desk answers (migration 0006)
    Column("composer_fallback", String(32)),  # why an LLM composition was not used
    Column("typed", Text),  # what the asker typed, when completed from earlier turns (0005)
    Index("ix_interactions_created_at", "created_at"),
    Index("ix_interactions_user_key", "user_key"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("recipient_channel", String(20), nullable=False),
    Column("recipient_user_id", String(128), nullable=False),
    Column("recipient_chat_id", String(128)),
    Column("recipient_name", String(200)),
    Column("text", Text, nullable=False),
    Column("ticket_id", Integer, ForeignKey("tickets.id")),
    Column("data", JSON, nullable=False),
    Column("status", String(10), nullable=False),  # pending | sending | sent | dead | uncertain
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_owner", String(100)),
    Column("lease_until", UTCDateTime()),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Column("attempt_started_at", UTCDateTime()),  # the latest send began
    Column("request_started_at", UTCDateTime()),  # …and its request left (it may have arrived)
    Column("delivered_ref", Text),  # what the channel delivered (e.g. Telegram message ids)
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

faq_entries = Table(
    "faq_entries",
    metadata,
    Column("faq_id", String(64), primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id")),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("approved_by", String(KEY), nullable=False),
    Column("approved_at", UTCDateTime(), nullable=False),
    Column("status", String(10), nullable=False),  # active | withdrawn
    Column("flagged", Boolean, nullable=False, server_default=false()),
    Column("flag_reason", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("withdrawn_at", UTCDateTime()),
)

faq_sources = Table(
    "faq_sources",
    metadata,
    Column(
        "faq_id",
        String(64),
        ForeignKey("faq_entries.faq_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("file_name", String(255), primary_key=True),
    Index("ix_faq_sources_file_name", "file_name"),
)

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("message_key", String(255), primary_key=True),
    Column("user_key", String(KEY), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Index("ix_inbound_messages_received_at", "received_at"),
)

saved_replies = Table(
    "saved_replies",
    metadata,
    Column("message_key", String(255), primary_key=True),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

channel_keys = Table(
    "channel_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", String(255), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_channel_keys_expires_at", "expires_at"),
)

channel_values = Table(
    "channel_values",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

held_messages = Table(
    "held_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_key", String(KEY), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_held_messages_user_key", "user_key"),
)

ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("channel", String(20), primary_key=True),
    Column("ref", String(200), primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_ticket_messages_ticket_id", "ticket_id"),
)

spooled_questions = Table(  # questions kept on disk during an outage, once in the database
    "spooled_questions",
    metadata,
    Column("spool_id", String(64), primary_key=True),
    Column("interaction_id", Integer),
    Column("drained_at", UTCDateTime(), nullable=False),
)

# --- the web console (migration 0004) ---------------------------------------------------------
conversation_frames = Table(  # what each asker's conversation is about (follow-up questions)
    "conversation_frames",
    metadata,
    Column("user_key", String(KEY), primary_key=True),
    Column("question", Text, nullable=False),  # the last question, as completed
    Column("slots", JSON, nullable=False),  # product, requirement, channel… → term
    Column("clarify", JSON, nullable=True),  # a clarifying round waiting for the choice
    Column("updated_at", UTCDateTime(), nullable=False),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor_key", String(KEY)),
    Column("actor", String(300), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String(500), nullable=False, server_default=""),
    Column("detail", Text, nullable=False, server_default=""),
    Index("ix_audit_entries_at", "at"),
)

ticket_notes = Table(
    "ticket_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("author_key", String(KEY), nullable=False),
    Column("author", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_ticket_notes_ticket_id", "ticket_id"),
)

console_login_tokens = Table(  # a login link is good once: its nonce lands here when used
    "console_login_tokens",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("user_key", String(KEY), nullable=False),
    Column("used_at", UTCDateTime(), nullable=False),
    Index("ix_console_login_tokens_used_at", "used_at"),
)

console_login_attempts = Table(
    "console_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client", String(100), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("ok", Boolean, nullable=False),
    Index("ix_console_login_attempts_client_at", "client", "at"),
)

console_passwords = Table(
    "console_passwords",
    metadata,
    Column("user_key", String(KEY), ForeignKey("people.key"), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
