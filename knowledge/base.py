"""The knowledge base: the library's documents, its two indexes, expert FAQ entries, answering.

It implements ``core.ports.DocumentStore`` (ingestion writes through it) and answers questions:
retrieve (dense + BM25 + direct references), score, decide ``answer`` or ``escalate``, compose
a cited answer. Every worker sharing one Chroma server sees the same library: writes bump a
library version, and a worker whose keyword index is older rebuilds it from Chroma.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import prompts
from core.answers import Answer, Citation, Decision, EscalationReason, FaqEntry
from core.documents import Chunk, SourceDocument
from core.ports import Embedder
from knowledge import library
from knowledge.composer import Candidate, compose, compose_escalation, compose_expert
from knowledge.judgement import judge, small_talk
from knowledge.keyword_index import KeywordIndex
from knowledge.references import short_title
from knowledge.retrieval import FAQ_GROUP, Retriever, Scored
from knowledge.scoring import confidence
from knowledge.text import bigram_similarity, normalize_question
from knowledge.tokens import tokenize, tokenizer_id
from knowledge.vector_index import ChromaIndex

log = logging.getLogger(__name__)


class KnowledgeBase:
    def __init__(
        self,
        embedder: Embedder,
        index: ChromaIndex,
        keywords: KeywordIndex,
        *,
        answer_threshold: float = 0.5,
        faq_threshold: float = 0.90,
        max_citations: int = 5,
        refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._embedder = embedder
        self._index = index
        self._keywords = keywords
        self._retriever = Retriever(index, keywords)
        self._threshold = answer_threshold
        self._faq_threshold = faq_threshold
        self._max_citations = max_citations
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
            self._law_names = {
                library.document_from_meta(h.metadata).title: h.metadata["doc_id"]
                for h in self._index.get_all(self._index.chunks, {"is_card": True})
            }
            self._law_names = {short_title(t): d for t, d in self._law_names.items()}
        return self._law_names

    # --- DocumentStore ----------------------------------------------------------------------
    def get(self, doc_id: str) -> SourceDocument | None:
        got = self._index.chunks.get(ids=[library.card_id(doc_id)], include=["metadatas"])
        metas = got.get("metadatas") or []
        return library.document_from_meta(metas[0]) if metas else None

    def find_by_file(self, file_name: str) -> SourceDocument | None:
        where = {"$and": [{"is_card": True}, {"file_name": file_name}]}
        hits = self._index.get_all(self._index.chunks, where)
        return library.document_from_meta(hits[0].metadata) if hits else None

    def documents(self) -> list[SourceDocument]:
        hits = self._index.get_all(self._index.chunks, {"is_card": True})
        return sorted(
            (library.document_from_meta(h.metadata) for h in hits), key=lambda d: d.file_name
        )

    def chunks(self, doc_id: str) -> list[Chunk]:
        where = {"$and": [{"doc_id": doc_id}, {"is_card": False}]}
        hits = self._index.get_all(self._index.chunks, where)
        return sorted(
            (library.chunk_from_meta(h.item_id, h.text, h.metadata) for h in hits),
            key=lambda c: c.ordinal,
        )

    def put(self, document: SourceDocument, chunks: Sequence[Chunk]) -> None:
        """Store ``document`` with exactly ``chunks``, replacing any version of the same file.

        The new version is written first, then older ones are deleted; if writing fails, what
        was written of the new version is deleted again and the old version stays.
        """
        with self._lock:
            if not document.ingested_at:
                from dataclasses import replace

                document = replace(document, ingested_at=datetime.now(UTC).isoformat())
            old = [d for d in self._same_file(document.file_name) if d.doc_id != document.doc_id]
            ids = [library.card_id(document.doc_id)] + [c.chunk_id for c in chunks]
            metas = [library.card_metadata(document)] + [
                library.chunk_metadata(document, c) for c in chunks
            ]
            texts = [library.card_text(document)] + [c.text for c in chunks]
            contexts = [library.context_text(m, t) for m, t in zip(metas, texts, strict=True)]
            try:
                self._index.delete_where(self._index.chunks, {"doc_id": document.doc_id})
                self._index.upsert(self._index.chunks, ids, texts, metas, embed_texts=contexts)
            except Exception:
                self._index.delete_where(self._index.chunks, {"doc_id": document.doc_id})
                raise
            for doc in old:
                self._index.delete_where(self._index.chunks, {"doc_id": doc.doc_id})
                self._keywords.replace_group(doc.doc_id, [])
            self._keywords.replace_group(
                document.doc_id, [(i, tokenize(c)) for i, c in zip(ids, contexts, strict=True)]
            )
            if not self._index.stored_model():
                self._index.mark_model()
            self._changed()

    def _same_file(self, file_name: str) -> list[SourceDocument]:
        where = {"$and": [{"is_card": True}, {"file_name": file_name}]}
        return [
            library.document_from_meta(h.metadata)
            for h in self._index.get_all(self._index.chunks, where)
        ]

    def remove(self, doc_id: str) -> SourceDocument | None:
        with self._lock:
            doc = self.get(doc_id)
            if doc is None:
                return None
            self._index.delete_where(self._index.chunks, {"doc_id": doc_id})
            self._keywords.replace_group(doc_id, [])
            self._changed()
            return doc

    # --- expert FAQ entries -----------------------------------------------------------------
    def add_faq(self, entry: FaqEntry) -> FaqEntry:
        """Index an approved answer; a near-duplicate of an existing entry updates that one."""
        with self._lock:
            existing = self.similar_faq(entry.question)
            faq_id = existing.faq_id if existing else (entry.faq_id or uuid.uuid4().hex[:12])
            from dataclasses import replace

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
            if not self._index.faq.get(ids=[faq_id])["ids"]:
                return False
            self._index.faq.delete(ids=[faq_id])
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
        match = self._best_faq(normalize_question(question))
        if match is None:
            return None
        entry, sim, overlap = match
        return entry if sim >= 0.95 or overlap >= 0.8 else None

    def _best_faq(self, question: str) -> tuple[FaqEntry, float, float] | None:
        vector = self._embedder.embed_query(question)
        hits = self._index.query(self._index.faq, vector, 1, None)
        if not hits:
            return None
        hit = hits[0]
        entry = library.faq_from_meta(hit.item_id, hit.text, hit.metadata)
        return entry, hit.similarity, bigram_similarity(question, hit.text)

    # --- answering --------------------------------------------------------------------------
    def answer(self, question: str) -> Answer:
        text = normalize_question(question)
        if not any(ch.isalnum() for ch in text):
            reason = EscalationReason.INVALID
            return Answer(
                question, Decision.ESCALATE, compose_escalation(reason, ()), reason=reason
            )
        if (talk := small_talk(text)) is not None:  # not a question: a friendly word, no ticket
            reason = EscalationReason.INVALID
            reply = prompts.text(f"answer.small_talk_{talk}")
            return Answer(question, Decision.ESCALATE, reply, reason=reason)
        self.sync()
        verdict = judge(text)
        vector = self._embedder.embed_query(text)
        if not verdict.needs_expert:  # an approved answer may cover what the library does not
            faq = self._faq_answer(question, text)
            if faq is not None:
                return faq
        q = self._retriever.query(text, vector)
        ranked = self._retriever.candidates(q, self.law_names())
        citations = self._citations(ranked)
        if not ranked:
            reason = EscalationReason.NO_MATCH
            return Answer(
                question, Decision.ESCALATE, compose_escalation(reason, ()), reason=reason
            )
        best = ranked[0]
        conf = confidence(best.dense, best.coverage, best.core_coverage)
        if best.referenced:
            conf = max(conf, 0.9)
        signals = {
            "dense": round(best.dense, 4),
            "coverage": round(best.coverage, 4),
            "core_coverage": round(best.core_coverage, 4),
            "bm25": round(best.bm25, 3),
        }
        if verdict.needs_expert or verdict.off_topic or conf < self._threshold:
            reason = (
                EscalationReason.NEEDS_EXPERT
                if verdict.needs_expert
                else EscalationReason.NO_MATCH
                if verdict.off_topic or conf < 0.2
                else EscalationReason.LOW_CONFIDENCE
            )
            related = tuple(citations) if conf >= 0.2 or verdict.needs_expert else ()
            return Answer(
                question,
                Decision.ESCALATE,
                compose_escalation(reason, related),
                related,
                round(conf, 4),
                reason,
                signals=signals,
            )
        chosen = [Candidate(citations[0], best.score)]
        if len(ranked) > 1 and self._worth_second(best, ranked[1]):
            chosen.append(Candidate(citations[1], ranked[1].score))
        body, cited = compose(chosen, citations, q.tokens, self._keywords.tempered_idf)
        return Answer(
            question, Decision.ANSWER, body, tuple(cited), round(conf, 4), signals=signals
        )

    @staticmethod
    def _worth_second(best: Scored, second: Scored) -> bool:
        """Quote a second passage when it is nearly as good and from another clause."""
        return (
            second.score >= 0.9 * best.score
            and second.coverage >= 0.6
            and second.meta.get("article") != best.meta.get("article")
        )

    def _citations(self, ranked: Sequence[Scored]) -> list[Citation]:
        out: list[Citation] = []
        for cand in ranked[: self._max_citations]:
            out.append(library.citation_from_meta(cand.chunk_id, cand.text, cand.meta, cand.score))
        return out

    def _faq_answer(self, question: str, text: str) -> Answer | None:
        match = self._best_faq(text)
        if match is None:
            return None
        entry, sim, overlap = match
        if sim < self._faq_threshold and not (sim >= 0.86 and overlap >= 0.5):
            return None
        cite = Citation(
            document=f"faq:{entry.faq_id}",
            title=entry.question,
            chunk_id=entry.faq_id,
            text=entry.answer,
            score=round(sim, 4),
            kind="faq",
            faq_id=entry.faq_id,
        )
        return Answer(
            question,
            Decision.ANSWER,
            compose_expert(entry.answer, entry.sources),
            (cite,),
            round(sim, 4),
            from_expert=True,
            faq_id=entry.faq_id,
            signals={"faq_similarity": round(sim, 4), "faq_overlap": round(overlap, 4)},
        )

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


def open_knowledge_base(
    embedder: Embedder,
    index_dir: Path,
    *,
    chroma_host: str | None = None,
    chroma_port: int = 8000,
    answer_threshold: float = 0.5,
    reindex_on_mismatch: bool = False,
) -> KnowledgeBase:
    """Open (or create) the library in ``index_dir`` or on a Chroma server."""
    from core.errors import ModelMismatch

    index = ChromaIndex(embedder, path=index_dir / "chroma", host=chroma_host, port=chroma_port)
    keywords = KeywordIndex(
        None if chroma_host else index_dir / "keywords", tokenizer_id=tokenizer_id()
    )
    try:
        kb = KnowledgeBase(embedder, index, keywords, answer_threshold=answer_threshold)
    except ModelMismatch:
        if not reindex_on_mismatch:
            raise
        index.mark_model()
        kb = KnowledgeBase(embedder, index, keywords, answer_threshold=answer_threshold)
        kb.reindex()
    kb.sync(force=keywords.version != index.version())
    return kb
