"""In-memory implementations of ``core.indexes.VectorIndex`` and ``KeywordIndex``.

Exact cosine search over a dict and a plain BM25 (k1 = 1.2, b = 0.75) over token lists: small,
deterministic, and enough to unit-test the retrieval and the decision without Chroma.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MemoryHit:
    item_id: str
    similarity: float
    text: str
    metadata: Mapping[str, Any]


class MemoryVectorIndex:
    def __init__(self) -> None:
        self._records: dict[str, tuple[str, Mapping[str, Any], list[float]]] = {}

    def add(self, item_id: str, text: str, meta: Mapping[str, Any], vector: list[float]) -> None:
        self._records[item_id] = (text, meta, vector)

    @staticmethod
    def _cos(a: Sequence[float], b: Sequence[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    def nearest(self, vector: Sequence[float], k: int) -> list[MemoryHit]:
        hits = [MemoryHit(i, self._cos(vector, v), t, m) for i, (t, m, v) in self._records.items()]
        return sorted(hits, key=lambda h: -h.similarity)[:k]

    def fetch(self, ids: Sequence[str], vector: Sequence[float]) -> list[MemoryHit]:
        return [
            MemoryHit(i, self._cos(vector, self._records[i][2]), *self._records[i][:2])
            for i in ids
            if i in self._records
        ]

    def article_chunk_ids(self, number: int, doc_id: str | None, limit: int = 3) -> list[str]:
        return [
            i
            for i, (_, m, _) in self._records.items()
            if m.get("article_no") == number and (doc_id is None or m.get("doc_id") == doc_id)
        ][:limit]

    def cards(self, file_name: str | None = None) -> list[MemoryHit]:
        return [
            MemoryHit(i, 0.0, t, m)
            for i, (t, m, _) in self._records.items()
            if m.get("is_card") and file_name in (None, m.get("file_name"))
        ]


class MemoryKeywordIndex:
    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self._items: dict[str, tuple[str, list[str]]] = {}
        self._k1, self._b = k1, b

    def add(self, item_id: str, group: str, tokens: list[str]) -> None:
        self._items[item_id] = (group, tokens)

    def df(self, token: str) -> int:
        return sum(1 for _, tokens in self._items.values() if token in tokens)

    def idf(self, token: str) -> float:
        n, df = len(self._items), self.df(token)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def tempered_idf(self, token: str, unseen: float = 1.5) -> float:
        return self.idf(token) if self.df(token) else unseen

    def search(
        self, tokens: Sequence[str], k: int, group: str | None = None, exclude: str | None = None
    ) -> list[tuple[str, float]]:
        if not self._items:
            return []
        avg = sum(len(t) for _, t in self._items.values()) / len(self._items)
        scored = []
        for item_id, (item_group, words) in self._items.items():
            if (group is not None and item_group != group) or item_group == exclude:
                continue
            score = 0.0
            for token in tokens:
                tf = words.count(token)
                if tf:
                    norm = tf + self._k1 * (1 - self._b + self._b * len(words) / avg)
                    score += self.idf(token) * tf * (self._k1 + 1) / norm
            if score > 0:
                scored.append((item_id, score))
        return sorted(scored, key=lambda s: -s[1])[:k]
