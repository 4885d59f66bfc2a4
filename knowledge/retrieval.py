"""Hybrid retrieval: a pool of candidate passages, each with the signals the ranking learns from.

One question gives several searches, all from one embedding of the question:

- dense: the question's vector against every passage (Chroma);
- BM25 over jieba tokens (with aliases) of the whole question, of its *focus* (the sentences
  that ask, see ``knowledge.question``) and, for an exam item, of each option with the stem;
- direct references: 《law》第N条 and 文号 named in the question.

The union is the candidate pool. Each candidate carries numeric features (``FEATURES``) that
``knowledge.ranking`` weighs with a model fitted on the evaluation files; nothing here decides.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.indexes import KeywordIndex, VectorIndex
from knowledge.index_records import context_text
from knowledge.question import QuestionParts, has_kind
from knowledge.references import doc_number_matches, find_article_refs, find_doc_number_refs
from knowledge.scoring import weighted_coverage
from knowledge.tokens import alias_table, expand_query, tokenize

log = logging.getLogger(__name__)

FAQ_GROUP = "faq"

# Per-candidate features, in the order the ranking model's weights are stored.
FEATURES = (
    "dense",  # cosine similarity of question and passage
    "dense_gap",  # dense minus the best dense similarity in the pool (≤ 0)
    "dense_rr",  # 1 / (1 + rank) in the dense list
    "bm25_full",  # BM25 of the whole question, divided by the best in the pool
    "bm25_full_rr",
    "bm25_focus",  # BM25 of the asking sentences, divided by the best
    "bm25_focus_rr",
    "bm25_option",  # best BM25 share over an exam item's options
    "coverage",  # IDF-weighted share of the question's tokens the passage mentions
    "coverage_focus",  # the same for the asking sentences
    "core_coverage",  # the same for the question's rarest known tokens
    "kind_match",  # the passage holds what the question asks for (a period, an amount…)
    "is_card",  # a document's card (title, 文号, dates) rather than a clause
    "is_article",  # a numbered article of a law or regulation
    "referenced",  # named directly by article number or 文号
    "log_length",  # log of the passage length in characters
)


@dataclass(slots=True)
class Scored:
    """One candidate passage with every signal the ranking, decision and composer use."""

    chunk_id: str
    text: str
    meta: Mapping[str, Any]
    dense: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0  # set by the ranking

    def vector(self) -> list[float]:
        return [self.features.get(name, 0.0) for name in FEATURES]


@dataclass(frozen=True, slots=True)
class Query:
    parts: QuestionParts
    tokens: tuple[str, ...]  # the whole question's own tokens
    focus_tokens: tuple[str, ...]
    core: tuple[str, ...]  # its most telling tokens
    vector: tuple[float, ...]

    @property
    def text(self) -> str:
        return self.parts.text


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
    return alias_table().get(token, ())


def _ranks(ids: Sequence[str]) -> dict[str, float]:
    return {item: 1.0 / (1.0 + rank) for rank, item in enumerate(ids)}


def _shares(hits: Sequence[tuple[str, float]]) -> dict[str, float]:
    top = hits[0][1] if hits else 0.0
    return {item: score / top for item, score in hits} if top > 0 else {}


class Retriever:
    def __init__(
        self, index: VectorIndex, keywords: KeywordIndex, *, depth: int = 40, option_depth: int = 8
    ) -> None:
        self._index = index
        self._keywords = keywords
        self._depth = depth
        self._option_depth = option_depth

    def query(self, parts: QuestionParts, vector: Sequence[float]) -> Query:
        text = parts.text
        tokens = tokenize(text, normalized=True)
        focus = tokenize(parts.focus, normalized=True) if parts.focus != text else tokens
        return Query(
            parts,
            tuple(tokens),
            tuple(focus),
            core_tokens(focus, self._keywords),
            tuple(vector),
        )

    def candidates(self, q: Query, law_names: Mapping[str, str]) -> list[Scored]:
        """Dense ∪ BM25 (whole, focus, options) ∪ referenced passages, each with its features."""
        dense_hits = self._index.nearest(q.vector, self._depth)
        search = self._keywords.search
        full = search(expand_query(list(q.tokens)), self._depth, exclude=FAQ_GROUP)
        focus = (
            search(expand_query(list(q.focus_tokens)), self._depth, exclude=FAQ_GROUP)
            if q.focus_tokens != q.tokens
            else full
        )
        option_shares: dict[str, float] = {}
        for option in q.parts.options:
            tokens = expand_query(tokenize(option, normalized=True) + list(q.focus_tokens))
            for item, share in _shares(
                search(tokens, self._option_depth, exclude=FAQ_GROUP)
            ).items():
                option_shares[item] = max(option_shares.get(item, 0.0), share)

        pool: dict[str, Scored] = {
            h.item_id: Scored(h.item_id, h.text, h.metadata, dense=h.similarity) for h in dense_hits
        }
        for item, _ in [*full, *focus]:
            pool.setdefault(item, Scored(item, "", {}))
        for item in option_shares:
            pool.setdefault(item, Scored(item, "", {}))
        referenced = set(self._referenced(q.text, law_names))
        for item in referenced:
            pool.setdefault(item, Scored(item, "", {}))
        self._fill_missing(pool, q.vector)

        dense_rr = _ranks([h.item_id for h in dense_hits])
        full_share, full_rr = _shares(full), _ranks([i for i, _ in full])
        focus_share, focus_rr = _shares(focus), _ranks([i for i, _ in focus])
        best_dense = max((c.dense for c in pool.values()), default=0.0)
        weights = {t: self._keywords.tempered_idf(t) for t in {*q.tokens, *q.focus_tokens}}
        idf = weights.__getitem__
        for cand in pool.values():
            passage = context_text(cand.meta, cand.text).lower()
            cid = cand.chunk_id
            cand.features = {
                "dense": cand.dense,
                "dense_gap": cand.dense - best_dense,
                "dense_rr": dense_rr.get(cid, 0.0),
                "bm25_full": full_share.get(cid, 0.0),
                "bm25_full_rr": full_rr.get(cid, 0.0),
                "bm25_focus": focus_share.get(cid, 0.0),
                "bm25_focus_rr": focus_rr.get(cid, 0.0),
                "bm25_option": option_shares.get(cid, 0.0),
                "coverage": weighted_coverage(q.tokens, passage, idf, aliases),
                "coverage_focus": weighted_coverage(q.focus_tokens, passage, idf, aliases),
                "core_coverage": weighted_coverage(q.core, passage, idf, aliases),
                "kind_match": float(any(has_kind(cand.text, k) for k in q.parts.kinds)),
                "is_card": float(bool(cand.meta.get("is_card"))),
                "is_article": float(bool(cand.meta.get("article"))),
                "referenced": float(cid in referenced),
                "log_length": math.log1p(len(cand.text)),
            }
        return list(pool.values())

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
