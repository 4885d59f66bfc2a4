"""A deterministic embedder for fast tests of retrieval, indexing and FAQ logic.

``FakeEmbedder`` hashes the character unigrams and bigrams of a text (NFKC, lower-cased,
whitespace and punctuation dropped) into ``dimension`` buckets with signs, then normalises.
Texts sharing characters and pairs of characters get a high cosine, unrelated ones near zero,
so "closer in meaning" is approximated by "shares more of the same words" — good enough to
test the code around the model, never a stand-in for measuring retrieval quality.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence

_NOISE = re.compile(r"[\W_]+", re.UNICODE)


class FakeEmbedder:
    """Implements ``core.ports.Embedder``; counts its calls so tests can see caching."""

    def __init__(self, dimension: int = 256, *, name: str = "fake-bigram") -> None:
        if dimension < 8:
            raise ValueError("dimension must be at least 8")
        self.dimension = dimension
        self._name = name
        self.documents_embedded = 0
        self.queries_embedded = 0

    @property
    def model_id(self) -> str:
        return f"{self._name};dim={self.dimension}"

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if isinstance(texts, str):
            raise TypeError("embed_documents takes a sequence of texts, not one string")
        self.documents_embedded += len(texts)
        return [self.vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        self.queries_embedded += 1
        return self.vector(text)

    def vector(self, text: str) -> list[float]:
        """The unit vector of ``text`` (a zero text maps to a fixed unit vector)."""
        norm = _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()
        features = list(norm) + [norm[i : i + 2] for i in range(len(norm) - 1)]
        values = [0.0] * self.dimension
        for feature in features:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dimension
            sign = 1.0 if digest[4] & 1 else -1.0
            values[bucket] += sign * (2.0 if len(feature) == 2 else 1.0)
        length = math.sqrt(sum(v * v for v in values))
        if length == 0.0:
            values[0] = 1.0
            return values
        return [v / length for v in values]
