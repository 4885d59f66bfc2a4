"""Escalation tickets and the notifications the outbox delivers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.answers import Citation
from core.people import Domain, UserRef


class TicketStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket_id: int
    question: str
    asker: UserRef
    status: TicketStatus
    domain: Domain
    created_at: datetime
    draft_answer: str = ""
    passages: tuple[Citation, ...] = ()
    claimed_by: str | None = None  # expert key (channel:user_id)
    claimed_by_name: str | None = None
    answer: str | None = None
    answered_by: str | None = None
    published_faq_id: str | None = None
    claimed_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    reopen_count: int = 0


class NotificationKind(StrEnum):
    EXPERT_ANSWER = "expert_answer"  # to the asker
    NEW_TICKET = "new_ticket"  # to experts
    REANNOUNCE = "reannounce"  # an unclaimed ticket, again
    TICKET_CLAIMED = "ticket_claimed"  # to experts (cards are updated)
    DESK_REPLY = "desk_reply"  # to the asker: the reply to a question kept during an outage


@dataclass(frozen=True, slots=True)
class Notification:
    """One message waiting in the outbox, for one recipient on one channel.

    ``text`` is the Chinese text to show; ``data`` carries structured fields a channel may
    render differently (ticket id, domain, buttons). ``progress`` is what earlier attempts
    already delivered, as the channel reported it (e.g. the first of two Telegram messages):
    the channel sends only the rest.
    """

    notification_id: int
    kind: NotificationKind
    recipient: UserRef
    text: str
    ticket_id: int | None = None
    data: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    progress: str = ""
