"""What the desk needs from the knowledge base and from ingestion (structural types, so the
real ``knowledge.answering.KnowledgeBase`` and ``ingest.pipeline.IngestPipeline`` fit, and so do
test fakes)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from core.answers import Answer, Citation, FaqEntry
from core.documents import Chunk, ParsedDocument, SourceDocument


class Knowledge(Protocol):
    def answer(self, question: str) -> Answer: ...

    def search(self, query: str, limit: int = 8) -> list[Citation]: ...

    def add_faq(self, entry: FaqEntry) -> FaqEntry: ...

    def remove_faq(self, faq_id: str) -> bool: ...

    def similar_faq(self, question: str) -> FaqEntry | None: ...

    def documents(self) -> list[SourceDocument]: ...

    def get(self, doc_id: str) -> SourceDocument | None: ...

    def find_by_file(self, file_name: str) -> SourceDocument | None: ...

    def remove(self, doc_id: str) -> SourceDocument | None: ...

    def chunks(self, doc_id: str) -> list[Chunk]: ...


class IngestedFile(Protocol):
    """What ingesting one file did (``ingest.pipeline.IngestResult``)."""

    @property
    def status(self) -> str: ...  # added | replaced | unchanged

    @property
    def document(self) -> SourceDocument: ...

    @property
    def chunk_count(self) -> int: ...

    @property
    def replaced(self) -> SourceDocument | None: ...


class Ingestor(Protocol):
    """Adds one file to the library; raises ``core.errors.IngestError`` when it cannot."""

    def ingest_file(self, path: Path, file_name: str | None = None) -> IngestedFile: ...


@runtime_checkable
class Previewer(Protocol):
    """Says what ingesting a file would store, storing nothing (``IngestPipeline.parse``)."""

    def parse(self, path: Path, file_name: str | None = None) -> ParsedDocument: ...
