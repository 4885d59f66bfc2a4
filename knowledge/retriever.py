"""The desk's retrieval as a LangChain retriever, for LangChain applications over the library.

``DeskRetriever`` runs what the desk runs before it decides: the question normalised and
analysed, dense and BM25 retrieval pooled, the fitted ranking (``knowledge.answering``,
``knowledge.decision.rank``). It returns the best ``k`` passages as ``Document``s whose metadata
carry the desk's citation fields: ``title``, ``doc_number`` (文号), ``article``, ``section``,
``source`` (the file name), ``kind``, ``chunk_id`` and ``score``. A question an approved expert
answer covers returns that answer (``kind = "faq"``). It answers nothing and decides nothing.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from core.answers import Citation
from knowledge import decision, index_records
from knowledge.answering import KnowledgeBase


def document_of(citation: Citation) -> Document:
    """A citation as a LangChain ``Document`` (its text, the desk's fields as metadata)."""
    metadata: dict[str, Any] = {
        "title": citation.title,
        "doc_number": citation.doc_number,
        "article": citation.article,
        "section": citation.section,
        "source": citation.document,
        "kind": citation.kind,
        "chunk_id": citation.chunk_id,
        "score": citation.score,
    }
    return Document(page_content=citation.text, metadata=metadata, id=citation.chunk_id)


class DeskRetriever(BaseRetriever):
    """``knowledge`` (the desk's ``KnowledgeBase``) as a LangChain retriever of ``k`` passages."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    knowledge: KnowledgeBase
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        prepared = self.knowledge.prepare(query)
        if prepared.early is not None:  # an expert answer, or not a question at all
            return [document_of(c) for c in prepared.early.citations[: self.k]]
        ranked = decision.rank(prepared.pool, self.knowledge.model.ranker)
        return [
            document_of(index_records.citation_from_meta(c.chunk_id, c.text, c.meta, c.score))
            for c in ranked[: self.k]
        ]
