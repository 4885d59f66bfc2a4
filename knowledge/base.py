"""The knowledge base: the library's documents, its two indexes, FAQ entries, and answering.

This is the public face of ``knowledge`` that ``desk`` uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.answers import Answer, FaqEntry
from core.documents import Chunk, SourceDocument


class KnowledgeBase:
    """Implements ``core.ports.DocumentStore`` (ingestion writes through it) and answers.

    Methods used by the desk:

    - ``answer(question) -> Answer``: retrieve, fuse, compose, score, decide.
    - ``add_faq(entry) -> FaqEntry``: index an approved expert answer; when a near-duplicate
      entry exists (same question, reworded) that entry is updated instead and returned.
    - ``remove_faq(faq_id) -> bool``
    - ``similar_faq(question) -> FaqEntry | None``: the existing entry a new one would replace.
    - the ``DocumentStore`` methods: ``get``, ``find_by_file``, ``put``, ``remove``,
      ``documents``, ``chunks``.
    """

    def answer(self, question: str) -> Answer:
        raise NotImplementedError

    def add_faq(self, entry: FaqEntry) -> FaqEntry:
        raise NotImplementedError

    def remove_faq(self, faq_id: str) -> bool:
        raise NotImplementedError

    def similar_faq(self, question: str) -> FaqEntry | None:
        raise NotImplementedError

    def get(self, doc_id: str) -> SourceDocument | None:
        raise NotImplementedError

    def find_by_file(self, file_name: str) -> SourceDocument | None:
        raise NotImplementedError

    def put(self, document: SourceDocument, chunks: Sequence[Chunk]) -> None:
        raise NotImplementedError

    def remove(self, doc_id: str) -> SourceDocument | None:
        raise NotImplementedError

    def documents(self) -> list[SourceDocument]:
        raise NotImplementedError

    def chunks(self, doc_id: str) -> list[Chunk]:
        raise NotImplementedError
