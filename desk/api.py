"""The contract every channel talks to: value types returned by the desk, and the ``DeskApi``.

Channels (``bot/telegram``, ``bot/wechat``, the console) call these methods and render the
results; they hold no business rules. What a channel keeps for itself across workers (seen
messages, nonces, card links) is not the desk's: it is ``core.ports.ChannelMemory``, handed to
the channels by ``app.bootstrap``. ``desk.service.Desk`` implements ``DeskApi``. Methods are
synchronous (the work is CPU- and database-bound); async channels call them through
``asyncio.to_thread``. Errors raised are those of ``core.errors``; channels turn them into
Chinese with ``prompts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from core.answers import Answer, FaqEntry
from core.documents import SourceDocument
from core.people import Domain, Role, UserRef
from core.stats import Stats as Stats  # the desk's figures are part of this contract
from core.tickets import Ticket


@dataclass(frozen=True, slots=True)
class Reply:
    """The desk's reply to one question.

    ``text`` is the complete Chinese text to show (answer with sources, or the escalation
    notice). ``interaction_id`` identifies this exchange for feedback (有用 / 没解决 / 转人工).
    ``ticket`` is set when the question was escalated (a new ticket, or the asker's existing
    open ticket for the same question).
    """

    interaction_id: int
    text: str
    answer: Answer
    ticket: Ticket | None = None
    offer_feedback: bool = True  # show 有用 / 没解决 / 转人工专家
    choices: tuple[str, ...] = ()  # a clarifying question's choices (buttons, or 回复 1/2/3)


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    text: str  # what to tell the user
    ticket: Ticket | None = None  # opened when the feedback asked for an expert


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What adding one file did: the document learned, or why it was refused."""

    file_name: str
    document: SourceDocument | None = None
    sections: int = 0
    chunks: int = 0
    unchanged: bool = False  # the same content was already in the library
    replaced: SourceDocument | None = None  # the older version it replaced
    error: str | None = None  # English detail for admins
    error_code: str | None = None  # core.errors code, for the Chinese user text
    error_reason: str = ""  # an ingest failure's reason (too_long, encrypted…), more precise


class DeskApi(Protocol):
    # --- askers -------------------------------------------------------------------------
    def ask(self, user: UserRef, text: str) -> Reply: ...

    def awaiting_choice(self, user: UserRef) -> bool:
        """Whether the asker's last reply asked which of a few things they meant."""
        ...

    def feedback(self, user: UserRef, interaction_id: int, helpful: bool) -> FeedbackResult: ...

    def not_solved(self, user: UserRef, interaction_id: int) -> FeedbackResult:
        """没解决 on an answer: not helpful, and the question goes to an expert."""
        ...

    def escalate(self, user: UserRef, interaction_id: int) -> Ticket: ...

    def my_tickets(self, user: UserRef) -> list[Ticket]: ...

    def cancel(self, user: UserRef, ticket_id: int) -> Ticket: ...

    def reopen(self, user: UserRef, ticket_id: int) -> Ticket:
        """没解决 on an expert answer: the ticket goes back to the queue."""
        ...

    # --- experts ------------------------------------------------------------------------
    def role_of(self, user: UserRef) -> Role: ...

    def console_link_message(self, user: UserRef) -> str:
        """The web console's one-time login link for an expert or admin, as the text to send
        them (or why there is none)."""
        ...

    def pending_tickets(self, expert: UserRef, domain: Domain | None = None) -> list[Ticket]: ...

    def ticket(self, user: UserRef, ticket_id: int) -> Ticket: ...

    def claim(self, expert: UserRef, ticket_id: int) -> Ticket: ...

    def release(self, expert: UserRef, ticket_id: int) -> Ticket: ...

    def answer_ticket(
        self, expert: UserRef, ticket_id: int, text: str, publish: bool = False
    ) -> Ticket: ...

    def publish(self, expert: UserRef, ticket_id: int) -> FaqEntry: ...

    # --- admins -------------------------------------------------------------------------
    def add_document(
        self, admin: UserRef, path: Path, file_name: str | None = None
    ) -> IngestOutcome: ...

    def remove_document(self, admin: UserRef, doc_id: str) -> SourceDocument: ...

    def documents(self, viewer: UserRef) -> list[SourceDocument]:
        """Experts and admins only."""
        ...

    def stats(
        self, viewer: UserRef, since: datetime | None = None, until: datetime | None = None
    ) -> Stats:
        """Experts and admins only."""
        ...
