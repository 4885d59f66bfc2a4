"""Small ports for every outside service. One or two methods each; adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from core.documents import Chunk, SourceDocument
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


class Clock(Protocol):
    """Gives the current time as a timezone-aware UTC datetime (tests drive it by hand)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
