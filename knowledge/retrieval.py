"""Hybrid retrieval: dense and BM25 candidates, direct references, fused and re-scored."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.keyword_index import KeywordIndex
from knowledge.library import context_text
from knowledge.references import doc_number_matches, find_article_refs, find_doc_number_refs
from knowledge.scoring import passage_score, reciprocal_rank_fusion, weighted_coverage
from knowledge.tokens import expand_query, synonym_groups, tokenize
from knowledge.vector_index import ChromaIndex

log = logging.getLogger(__name__)

FAQ_GROUP = "faq"


@dataclass(slots=True)
class Scored:
    """One candidate passage with every signal the decision and the composer use."""

    chunk_id: str
    text: str
    meta: Mapping[str, Any]
    dense: float = 0.0
    bm25: float = 0.0
    coverage: float = 0.0
    core_coverage: float = 0.0
    rrf: float = 0.0
    referenced: bool = False  # named directly by article number or 文号
    score: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Query:
    text: str  # normalised question
    tokens: tuple[str, ...]  # the question's own tokens
    expanded: tuple[str, ...]  # plus aliases
    core: tuple[str, ...]  # its most telling tokens
    vector: tuple[float, ...]


def core_tokens(tokens: Sequence[str], keywords: KeywordIndex, n: int = 2) -> tuple[str, ...]:
    """The ``n`` rarest distinct tokens of the question that the library knows (its subject).

    A word the library knows only by an alias (认证公司 → 认证机构) counts with the alias's
    frequency; the parts of a longer known word (公司 in 认证公司) are not counted again.
    """
    df: dict[str, int] = {}
    for token in dict.fromkeys(tokens):
        if len(token) >= 2:
            found = keywords.df(token) or max((keywords.df(a) for a in aliases(token)), default=0)
            if found:
                df[token] = found
    whole = [t for t in df if not any(t != other and t in other for other in df)]
    return tuple(sorted(whole, key=lambda t: df[t])[:n])


def aliases(token: str) -> tuple[str, ...]:
    return synonym_groups().get(token, ())


class Retriever:
    def __init__(self, index: ChromaIndex, keywords: KeywordIndex, *, depth: int = 30) -> None:
        self._index = index
        self._keywords = keywords
        self._depth = depth

    def query(self, text: str, vector: Sequence[float]) -> Query:
        tokens = tokenize(text, normalized=True)
        expanded = expand_query(tokens)
        return Query(
            text,
            tuple(tokens),
            tuple(expanded),
            core_tokens(tokens, self._keywords),
            tuple(vector),
        )

    def candidates(self, q: Query, law_names: Mapping[str, str]) -> list[Scored]:
        """Dense ∪ BM25 ∪ referenced chunks, each scored; best first."""
        dense_hits = self._index.query(self._index.chunks, q.vector, self._depth, None)
        bm25_hits = self._keywords.search(q.expanded, self._depth, exclude=FAQ_GROUP)
        pool: dict[str, Scored] = {
            h.item_id: Scored(h.item_id, h.text, h.metadata, dense=h.similarity) for h in dense_hits
        }
        for chunk_id, score in bm25_hits:
            pool.setdefault(chunk_id, Scored(chunk_id, "", {})).bm25 = score
        for chunk_id in self._referenced(q.text, law_names):
            pool.setdefault(chunk_id, Scored(chunk_id, "", {})).referenced = True
        self._fill_missing(pool, q.vector)
        fused = reciprocal_rank_fusion([[h.item_id for h in dense_hits], [c for c, _ in bm25_hits]])
        rrf_max = max(fused.values(), default=0.0)
        idf = self._keywords.tempered_idf
        for cand in pool.values():
            passage = context_text(cand.meta, cand.text).lower()
            cand.coverage = weighted_coverage(q.tokens, passage, idf, aliases)
            cand.core_coverage = weighted_coverage(q.core, passage, idf, aliases)
            cand.rrf = fused.get(cand.chunk_id, 0.0)
            cand.score = passage_score(cand.dense, cand.coverage, cand.rrf, rrf_max)
            if cand.referenced:
                cand.score += 0.5
        return sorted(pool.values(), key=lambda c: -c.score)

    def _fill_missing(self, pool: dict[str, Scored], vector: Sequence[float]) -> None:
        """Fetch text, metadata and the dense similarity of candidates only BM25 found."""
        missing = [cid for cid, c in pool.items() if not c.meta]
        for hit in self._index.fetch(missing, vector):
            cand = pool[hit.item_id]
            cand.text, cand.meta, cand.dense = hit.text, hit.metadata, hit.similarity
        for cid in [cid for cid, c in pool.items() if not c.meta]:
            del pool[cid]  # in the keyword index but gone from the store (being replaced)

    def _referenced(self, text: str, law_names: Mapping[str, str]) -> list[str]:
        """Chunks the question names: 《law》第N条, or the document with a given 文号."""
        ids: list[str] = []
        for ref in find_article_refs(text, list(law_names)):
            if not ref.law and len(law_names) > 1:
                continue  # 第N条 of which law? let retrieval decide
            doc_id = law_names[ref.law] if ref.law else None
            ids += self._index.article_chunk_ids(ref.number, doc_id)
        refs = find_doc_number_refs(text)
        if refs:
            for card in self._index.cards():
                number = str(card.metadata.get("doc_number", ""))
                if any(doc_number_matches(r, number) for r in refs):
                    ids.append(card.item_id)
        return ids
