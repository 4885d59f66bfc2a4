"""What the console keeps and shows beside tickets: who did what (the audit log), experts'
private notes, whether a message reached the asker, and what the asker wrote since."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action.

    ``actor`` is a display string (the person's name and key); ``action`` a short key such as
    ``claim``, ``answer``, ``publish``, ``upload``, ``remove``, ``role``, ``login``;
    ``subject`` what it was done to (``ticket 12``, a file name, a person's key); ``detail``
    anything else worth keeping (never a secret).
    """

    at: datetime
    actor: str
    action: str
    subject: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class TicketNote:
    """A private note experts leave on a ticket (the asker never sees it)."""

    note_id: int
    ticket_id: int
    author: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AskerMessage:
    """Something the asker asked the desk (a follow-up to their ticket, or a new question);
    ``decision`` is the desk's: ``answer``, ``escalate`` or ``invalid``."""

    at: datetime
    text: str
    decision: str
    ticket_id: int | None = None


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """Whether one message to the asker got there, from the outbox: ``delivered``,
    ``waiting`` (queued, being sent, or to be retried), ``failed`` (given up) or ``uncertain``
    (its request left but no answer came back)."""

    notification_id: int
    kind: str
    state: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None = None
    error: str | None = None
