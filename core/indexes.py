"""Ports of the two indexes answering searches: passages by vector, and by keywords.

``knowledge.vector_index.ChromaIndex`` and ``knowledge.keyword_index.KeywordIndex`` implement
them; ``tests/fakes/indexes.py`` has in-memory ones for unit tests of the retrieval and the
decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Hit(Protocol):
    """A stored passage (or document card) found by a search."""

    @property
    def item_id(self) -> str: ...

    @property
    def similarity(self) -> float: ...  # cosine similarity to the query vector

    @property
    def text(self) -> str: ...

    @property
    def metadata(self) -> Mapping[str, Any]: ...


class VectorIndex(Protocol):
    """The library's passages and document cards, searched by vector."""

    def nearest(self, vector: Sequence[float], k: int) -> Sequence[Hit]:
        """The ``k`` passages nearest to ``vector``, nearest first."""
        ...

    def fetch(self, ids: Sequence[str], vector: Sequence[float]) -> Sequence[Hit]:
        """Passages by id, each with its similarity to ``vector``; unknown ids are skipped."""
        ...

    def article_chunk_ids(self, number: int, doc_id: str | None, limit: int = 3) -> list[str]:
        """Passages holding article ``number`` (of one document, or of any)."""
        ...

    def cards(self, file_name: str | None = None) -> Sequence[Hit]:
        """Every document card (title, 文号, dates), or those of one file."""
        ...


class KeywordIndex(Protocol):
    """BM25 over the tokens of the same passages."""

    def search(
        self, tokens: Sequence[str], k: int, group: str | None = None, exclude: str | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` best items with BM25 scores > 0, best first (``exclude``: a group)."""
        ...

    def df(self, token: str) -> int:
        """How many items contain ``token``."""
        ...

    def tempered_idf(self, token: str, unseen: float = 1.5) -> float:
        """The weight of ``token`` in coverage (see ``knowledge.scoring``)."""
        ...
