"""The knowledge base opened on first use, for command-line commands that may never need it:
listing tickets or printing statistics never loads the embedding model; answering a ticket
with ``--publish`` does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.answers import Answer, FaqEntry
from core.documents import Chunk, SourceDocument
from desk.ports import Library


class LazyLibrary:
    """The knowledge base, opened on first use: listing tickets or printing statistics never
    loads the embedding model; answering with ``--publish`` does."""

    def __init__(self, open_library: Callable[[], Library]) -> None:
        self._open = open_library
        self._library: Library | None = None

    def _get(self) -> Library:
        if self._library is None:
            self._library = self._open()
        return self._library

    def answer(self, question: str) -> Answer:
        return self._get().answer(question)

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
        library: Any = self._get()  # the real knowledge base is also the ingest store
        library.put(document, chunks)
