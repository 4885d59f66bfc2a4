"""Answering a question from the library: retrieve, score, decide, compose a cited answer.

``KnowledgeBase`` is the knowledge store (``knowledge.store``) that also answers: retrieve
(dense + BM25 + direct references), score, decide ``answer`` or ``escalate``, compose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import prompts
from core.answers import Answer, Citation, Decision, EscalationReason
from core.ports import Embedder
from knowledge import library
from knowledge.composer import Candidate, compose, compose_escalation, compose_expert
from knowledge.judgement import judge, small_talk
from knowledge.keyword_index import KeywordIndex
from knowledge.retrieval import Retriever, Scored
from knowledge.scoring import confidence
from knowledge.store import KnowledgeStore
from knowledge.text import normalize_question
from knowledge.tokens import tokenizer_id
from knowledge.vector_index import ChromaIndex

log = logging.getLogger(__name__)


class KnowledgeBase(KnowledgeStore):
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
        clock: Callable[[], float] | None = None,
    ) -> None:
        kwargs = {"clock": clock} if clock else {}
        super().__init__(embedder, index, keywords, refresh_seconds=refresh_seconds, **kwargs)
        self._retriever = Retriever(index, keywords)
        self._threshold = answer_threshold
        self._faq_threshold = faq_threshold
        self._max_citations = max_citations

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
            faq = self._faq_answer(question, text, vector)
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

    def _faq_answer(self, question: str, text: str, vector: Sequence[float]) -> Answer | None:
        match = self.best_faq(text, vector)
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
