"""The knowledge base opened on first use, for command-line commands that may never need it:
listing tickets or printing statistics never loads the embedding model; answering a ticket
with ``--publish`` does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.answers import Answer, Citation, FaqEntry
from core.documents import Chunk, SourceDocument
from desk.ports import Knowledge


class LazyKnowledge:
    """The knowledge base, opened on first use: listing tickets or printing statistics never
    loads the embedding model; answering with ``--publish`` does."""

    def __init__(self, open_knowledge: Callable[[], Knowledge]) -> None:
        self._open = open_knowledge
        self._knowledge: Knowledge | None = None

    def _get(self) -> Knowledge:
        if self._knowledge is None:
            self._knowledge = self._open()
        return self._knowledge

    def answer(self, question: str) -> Answer:
        return self._get().answer(question)

    def search(self, query: str, limit: int = 8) -> list[Citation]:
        return self._get().search(query, limit)

    def add_faq(self, entry: FaqEntry) -> FaqEntry:
        return self._get().add_faq(entry)

    def remove_faq(self, faq_id: str) -> bool:
        return self._get().remove_faq(faq_id)

    def similar_faq(self, question: str) -> FaqEntry | None:
        return self._get().similar_faq(question)

    def documents(self) -> list[SourceDocument]:
        return self._get().documents()

    def get(self, doc_id: str) -> SourceDocument | None:
        return self._get().get(doc_id)

    def find_by_file(self, file_name: str) -> SourceDocument | None:
        return self._get().find_by_file(file_name)

    def remove(self, doc_id: str) -> SourceDocument | None:
        return self._get().remove(doc_id)

    def chunks(self, doc_id: str) -> list[Chunk]:
        return self._get().chunks(doc_id)

    def put(self, document: SourceDocument, chunks: Sequence[Chunk]) -> None:
        knowledge: Any = self._get()  # the real knowledge base is also the ingest store
        knowledge.put(document, chunks)
