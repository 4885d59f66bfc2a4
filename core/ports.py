"""Small ports for every outside service. One or two methods each; adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from core.documents import Chunk, SourceDocument
from core.people import UserRef
from core.tickets import Notification


@runtime_checkable
class Embedder(Protocol):
    """Turns text into unit-length vectors. Query and passage prompts are the model's business."""

    @property
    def model_id(self) -> str: ...

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class DocumentStore(Protocol):
    """Where ingestion writes documents and their chunks.

    ``put`` is atomic: afterwards the store holds ``document`` with exactly ``chunks``, and no
    other document with the same ``file_name`` (an older version is replaced in one step).
    """

    def get(self, doc_id: str) -> SourceDocument | None: ...

    def find_by_file(self, file_name: str) -> SourceDocument | None: ...

    def put(self, document: SourceDocument, chunks: Sequence[Chunk]) -> None: ...

    def remove(self, doc_id: str) -> SourceDocument | None: ...

    def documents(self) -> list[SourceDocument]: ...

    def chunks(self, doc_id: str) -> list[Chunk]: ...


class ChatModel(Protocol):
    """An optional LLM: a system prompt and a user prompt in, text out."""

    def complete(self, system: str, user: str) -> str: ...


class Notifier(Protocol):
    """Delivers one notification on one channel; returns what it delivered, if it can name it
    (e.g. Telegram's ``chat:message`` ids), for the outbox to keep.

    Raises ``DeliveryError`` when nothing reached the recipient and a retry may succeed (with
    ``retry_after`` when the platform said when, ``progress`` when part of it went out),
    ``PermanentDeliveryError`` when a retry cannot succeed, ``UncertainDelivery`` when the
    platform may have delivered it (never sent again). ``notification.progress`` is what
    earlier attempts delivered: only the rest is sent.
    """

    async def send(self, notification: Notification) -> str | None: ...


class ChannelMemory(Protocol):
    """What the channels keep across workers and restarts: messages seen (deduplication) and
    the replies made to them, keys with an expiry (callback nonces), small values kept until
    overwritten (an access token, a card's digest), messages held for a user, and which channel
    message shows which ticket. Each call is its own short transaction."""

    def record_inbound(self, user: UserRef, message_key: str) -> bool:
        """Note that ``user`` just wrote (48-hour windows) and whether ``message_key`` is seen
        for the first time by any worker (True) or is a re-delivery (False)."""
        ...

    def last_inbound(self, user: UserRef) -> datetime | None: ...

    def save_reply(self, message_key: str, text: str) -> None:
        """Keep the reply made to a recorded message, so a re-delivery on any worker returns
        it; forgotten with the message key once the platform no longer re-delivers."""
        ...

    def saved_reply(self, message_key: str) -> str | None: ...

    def remember_key(self, key: str, value: str, keep_for: timedelta) -> str | None:
        """Keep ``value`` under ``key`` for ``keep_for`` unless the key is taken: None when it
        was free (first use by any worker), else the value it was taken with."""
        ...

    def set_value(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` until it is set again."""
        ...

    def value(self, key: str) -> str | None: ...

    def hold(self, user: UserRef, text: str) -> None:
        """Keep a message for ``user`` to be shown with the reply to their next message."""
        ...

    def take_held(self, user: UserRef) -> list[str]:
        """The held messages for ``user``, oldest first, removed."""
        ...

    def link_ticket_message(self, ticket_id: int, channel: str, ref: str) -> None:
        """Remember that a channel message (a Telegram card ``chat_id:message_id``) shows
        ``ticket_id``."""
        ...

    def ticket_for_message(self, channel: str, ref: str) -> int | None: ...

    def ticket_messages(self, ticket_id: int, channel: str) -> list[str]: ...


class Clock(Protocol):
    """Gives the current time as a timezone-aware UTC datetime (tests drive it by hand)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
