"""The library's documents and expert FAQ entries, kept in step in both indexes.

``KnowledgeStore`` implements ``core.ports.DocumentStore`` (ingestion writes through it) and
keeps approved expert answers. Every worker sharing one Chroma server sees the same library:
writes bump a library version, and a worker whose keyword index is older rebuilds it from
Chroma. Answering lives in ``knowledge.answering``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from core.answers import FaqEntry
from core.documents import Chunk, SourceDocument
from core.ports import Embedder
from knowledge import library
from knowledge.keyword_index import KeywordIndex
from knowledge.references import short_title
from knowledge.retrieval import FAQ_GROUP
from knowledge.text import bigram_similarity, normalize_question
from knowledge.tokens import tokenize
from knowledge.vector_index import ChromaIndex

log = logging.getLogger(__name__)


class KnowledgeStore:
    def __init__(
        self,
        embedder: Embedder,
        index: ChromaIndex,
        keywords: KeywordIndex,
        *,
        refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._embedder = embedder
        self._index = index
        self._keywords = keywords
        self._refresh = refresh_seconds
        self._clock = clock
        self._checked = float("-inf")
        self._lock = threading.RLock()
        self._law_names: dict[str, str] | None = None
        index.check_model()

    # --- keeping the keyword side in step -------------------------------------------------
    def sync(self, force: bool = False) -> None:
        """Rebuild the keyword index from Chroma when another writer changed the library."""
        now = self._clock()
        if not force and now - self._checked < self._refresh:
            return
        self._checked = now
        version = self._index.version()
        if not force and version == self._keywords.version:
            return
        with self._lock:
            items = []
            for hit in self._index.get_all(self._index.chunks):
                tokens = tokenize(library.context_text(hit.metadata, hit.text))
                items.append((hit.item_id, str(hit.metadata.get("doc_id", "")), tokens))
            for hit in self._index.get_all(self._index.faq):
                items.append((hit.item_id, FAQ_GROUP, tokenize(hit.text)))
            self._keywords.reset(items)
            self._keywords.save(version)
            self._law_names = None
            log.info("keyword index rebuilt items=%d version=%s", len(items), version[:8])

    def _changed(self) -> None:
        self._keywords.save(self._index.bump_version())
        self._law_names = None

    def law_names(self) -> dict[str, str]:
        """Short title (产品质量法) → doc id, for direct article references."""
        if self._law_names is None:
            titles = {
                library.document_from_meta(h.metadata).title: str(h.metadata["doc_id"])
                for h in self._index.cards()
            }
            self._law_names = {short_title(t): d for t, d in titles.items()}
        return self._law_names

    # --- DocumentStore ----------------------------------------------------------------------
    def get(self, doc_id: str) -> SourceDocument | None:
        card = self._index.card(doc_id)
        return library.document_from_meta(card.metadata) if card else None

    def find_by_file(self, file_name: str) -> SourceDocument | None:
        hits = self._index.cards(file_name)
        return library.document_from_meta(hits[0].metadata) if hits else None

    def documents(self) -> list[SourceDocument]:
        return sorted(
            (library.document_from_meta(h.metadata) for h in self._index.cards()),
            key=lambda d: d.file_name,
        )

    def chunks(self, doc_id: str) -> list[Chunk]:
        return sorted(
            (
                library.chunk_from_meta(h.item_id, h.text, h.metadata)
                for h in self._index.document_chunks(doc_id)
            ),
            key=lambda c: c.ordinal,
        )

    def put(self, document: SourceDocument, chunks: Sequence[Chunk]) -> None:
        """Store ``document`` with exactly ``chunks``, replacing any version of the same file.

        The new version is written first, then older ones are deleted; if writing fails, what
        was written of the new version is deleted again and the old version stays.
        """
        with self._lock:
            if not document.ingested_at:
                document = replace(document, ingested_at=datetime.now(UTC).isoformat())
            old = [
                library.document_from_meta(h.metadata)
                for h in self._index.cards(document.file_name)
                if h.metadata.get("doc_id") != document.doc_id
            ]
            ids = [library.card_id(document.doc_id)] + [c.chunk_id for c in chunks]
            metas = [library.card_metadata(document)] + [
                library.chunk_metadata(document, c) for c in chunks
            ]
            texts = [library.card_text(document)] + [c.text for c in chunks]
            contexts = [library.context_text(m, t) for m, t in zip(metas, texts, strict=True)]
            try:
                self._index.delete_document(document.doc_id)
                self._index.upsert(self._index.chunks, ids, texts, metas, embed_texts=contexts)
            except Exception:
                self._index.delete_document(document.doc_id)
                raise
            for doc in old:
                self._index.delete_document(doc.doc_id)
                self._keywords.replace_group(doc.doc_id, [])
            self._keywords.replace_group(
                document.doc_id, [(i, tokenize(c)) for i, c in zip(ids, contexts, strict=True)]
            )
            if not self._index.stored_model():
                self._index.mark_model()
            self._changed()

    def remove(self, doc_id: str) -> SourceDocument | None:
        with self._lock:
            doc = self.get(doc_id)
            if doc is None:
                return None
            self._index.delete_document(doc_id)
            self._keywords.replace_group(doc_id, [])
            self._changed()
            return doc

    # --- expert FAQ entries -----------------------------------------------------------------
    def add_faq(self, entry: FaqEntry) -> FaqEntry:
        """Index an approved answer; a near-duplicate of an existing entry updates that one."""
        with self._lock:
            existing = self.similar_faq(entry.question)
            faq_id = existing.faq_id if existing else (entry.faq_id or uuid.uuid4().hex[:12])
            entry = replace(entry, faq_id=faq_id)
            self._index.upsert(
                self._index.faq, [faq_id], [entry.question], [library.faq_metadata(entry)]
            )
            self._keywords.replace_group(
                FAQ_GROUP, [*self._faq_tokens(), (faq_id, tokenize(entry.question))]
            )
            self._changed()
            return entry

    def _faq_tokens(self) -> list[tuple[str, list[str]]]:
        return [(h.item_id, tokenize(h.text)) for h in self._index.get_all(self._index.faq)]

    def remove_faq(self, faq_id: str) -> bool:
        with self._lock:
            if not self._index.has_faq(faq_id):
                return False
            self._index.delete_faq(faq_id)
            self._keywords.replace_group(FAQ_GROUP, self._faq_tokens())
            self._changed()
            return True

    def faq_entries(self) -> list[FaqEntry]:
        return [
            library.faq_from_meta(h.item_id, h.text, h.metadata)
            for h in self._index.get_all(self._index.faq)
        ]

    def similar_faq(self, question: str) -> FaqEntry | None:
        """The existing entry asking the same thing (a new one would replace it), if any."""
        text = normalize_question(question)
        match = self.best_faq(text, self._embedder.embed_query(text))
        if match is None:
            return None
        entry, sim, overlap = match
        return entry if sim >= 0.95 or overlap >= 0.8 else None

    def best_faq(
        self, question: str, vector: Sequence[float]
    ) -> tuple[FaqEntry, float, float] | None:
        """The nearest entry to a normalised question: (entry, cosine, bigram overlap)."""
        hits = self._index.query(self._index.faq, vector, 1, None)
        if not hits:
            return None
        hit = hits[0]
        entry = library.faq_from_meta(hit.item_id, hit.text, hit.metadata)
        return entry, hit.similarity, bigram_similarity(question, hit.text)

    # --- maintenance ------------------------------------------------------------------------
    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Re-embed every chunk and FAQ question with the current model; returns the count."""
        with self._lock:
            chunks = self._index.get_all(self._index.chunks)
            faqs = self._index.get_all(self._index.faq)
            for col, hits, ctx in (
                (self._index.chunks, chunks, True),
                (self._index.faq, faqs, False),
            ):
                if not hits:
                    continue
                ids = [h.item_id for h in hits]
                texts = [h.text for h in hits]
                metas = [dict(h.metadata) for h in hits]
                embed = (
                    [library.context_text(m, t) for m, t in zip(metas, texts, strict=True)]
                    if ctx
                    else None
                )
                self._index.upsert(col, ids, texts, metas, embed_texts=embed)
                if progress:
                    progress(len(ids), len(chunks) + len(faqs))
            self._index.mark_model()
            self.sync(force=True)
            return len(chunks) + len(faqs)
