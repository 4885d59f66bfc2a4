"""An in-memory ``core.ports.DocumentStore`` that keeps the contract: ``put`` is atomic and
replaces any document stored under the same file name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from core.documents import Chunk, SourceDocument


class InMemoryDocumentStore:
    def __init__(self, *, fail_on_put: bool = False) -> None:
        self._documents: dict[str, SourceDocument] = {}
        self._chunks: dict[str, list[Chunk]] = {}
        self.fail_on_put = fail_on_put
        self.puts = 0  # successful writes, to show that a no-op wrote nothing
        self._clock = 0

    def get(self, doc_id: str) -> SourceDocument | None:
        return self._documents.get(doc_id)

    def find_by_file(self, file_name: str) -> SourceDocument | None:
        return next((d for d in self._documents.values() if d.file_name == file_name), None)

    def put(self, document: SourceDocument, chunks: Sequence[Chunk]) -> None:
        if self.fail_on_put:
            raise OSError("store unavailable")
        if any(chunk.doc_id != document.doc_id for chunk in chunks):
            raise ValueError("chunks of another document")
        self._clock += 1
        stored = replace(document, ingested_at=document.ingested_at or f"t{self._clock}")
        documents = {
            doc_id: doc
            for doc_id, doc in self._documents.items()
            if doc.file_name != document.file_name and doc_id != document.doc_id
        }
        documents[document.doc_id] = stored
        chunk_map = {doc_id: self._chunks[doc_id] for doc_id in documents if doc_id in self._chunks}
        chunk_map[document.doc_id] = list(chunks)
        self._documents, self._chunks = documents, chunk_map  # swapped in one step
        self.puts += 1

    def remove(self, doc_id: str) -> SourceDocument | None:
        self._chunks.pop(doc_id, None)
        return self._documents.pop(doc_id, None)

    def documents(self) -> list[SourceDocument]:
        return sorted(self._documents.values(), key=lambda d: d.file_name)

    def chunks(self, doc_id: str) -> list[Chunk]:
        return list(self._chunks.get(doc_id, []))

    def snapshot(self) -> tuple[tuple[SourceDocument, tuple[Chunk, ...]], ...]:
        """Everything stored, for asserting that an operation changed nothing."""
        return tuple((d, tuple(self._chunks.get(d.doc_id, []))) for d in self.documents())
