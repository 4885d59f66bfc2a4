"""BM25 over jieba tokens, persisted next to the vector index and rebuilt when it changes.

The index keeps, per item (a chunk or an FAQ question), its group (document id or ``faq``)
and its tokens. Scoring is ``bm25s``; the BM25 matrix is rebuilt lazily after a change.
Document frequencies are kept to weigh how much of a question a passage covers (see
``knowledge.scoring.weighted_coverage``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_FILE = "keyword-index.jsonl"


class KeywordIndex:
    """An in-memory BM25 index with an optional JSONL file behind it."""

    def __init__(self, directory: Path | None = None, *, k1: float = 1.2, b: float = 0.75):
        self._dir = directory
        self._k1, self._b = k1, b
        self._items: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._version = ""
        self._retriever: Any = None
        self._ids: list[str] = []
        self._df: Counter[str] = Counter()
        if directory is not None:
            self._load()

    # --- persistence ------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """The library version this index was built for (compared with the vector side)."""
        return self._version

    def _path(self) -> Path | None:
        return self._dir / _FILE if self._dir is not None else None

    def _load(self) -> None:
        path = self._path()
        if path is None or not path.exists():
            return
        with path.open(encoding="utf-8") as fh:
            header = json.loads(fh.readline() or "{}")
            self._version = str(header.get("version", ""))
            for line in fh:
                row = json.loads(line)
                self._items[row["id"]] = (row["group"], tuple(row["tokens"]))
        self._invalidate()

    def save(self, version: str) -> None:
        """Write the index atomically (temp file + rename) tagged with the library version."""
        self._version = version
        path = self._path()
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kw-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"version": version}) + "\n")
            for item_id, (group, tokens) in self._items.items():
                row = {"id": item_id, "group": group, "tokens": list(tokens)}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)

    # --- writes -----------------------------------------------------------------------------
    def replace_group(self, group: str, items: Iterable[tuple[str, Sequence[str]]]) -> None:
        """Make ``group`` hold exactly ``items`` (id, tokens)."""
        for item_id in [i for i, (g, _) in self._items.items() if g == group]:
            del self._items[item_id]
        for item_id, tokens in items:
            self._items[item_id] = (group, tuple(tokens))
        self._invalidate()

    def remove_items(self, ids: Iterable[str]) -> None:
        for item_id in ids:
            self._items.pop(item_id, None)
        self._invalidate()

    def reset(self, items: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        """Replace everything with ``items`` (id, group, tokens)."""
        self._items = {i: (g, tuple(t)) for i, g, t in items}
        self._invalidate()

    def _invalidate(self) -> None:
        self._retriever = None

    def __len__(self) -> int:
        return len(self._items)

    def groups(self) -> set[str]:
        return {g for g, _ in self._items.values()}

    # --- reads ------------------------------------------------------------------------------
    def _ensure(self) -> None:
        if self._retriever is not None or not self._items:
            return
        import bm25s

        self._ids = list(self._items)
        corpus = [list(self._items[i][1]) or ["\u0000"] for i in self._ids]
        retriever = bm25s.BM25(k1=self._k1, b=self._b)
        retriever.index(corpus, show_progress=False)
        self._df = Counter(t for toks in corpus for t in set(toks))
        self._retriever = retriever

    def idf(self, token: str) -> float:
        """Robertson–Spärck Jones IDF (≥ 0) of ``token``; unseen tokens get the highest."""
        self._ensure()
        n = len(self._items)
        df = self._df.get(token, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def df(self, token: str) -> int:
        """How many items contain ``token``."""
        self._ensure()
        return self._df.get(token, 0)

    def tempered_idf(self, token: str, unseen: float = 1.5) -> float:
        """IDF for coverage: a word the library has never seen weighs ``unseen``, not the most.

        Colloquial words (买不起, 咋整) are unseen too, and must not sink a good passage; single
        Chinese characters weigh less.
        """
        weight = self.idf(token) if self.df(token) else unseen
        if len(token) == 1 and not token.isascii():
            weight *= 0.3  # one character (招, 开, 卖) matches almost any passage
        return weight

    def tokens(self, item_id: str) -> tuple[str, ...]:
        entry = self._items.get(item_id)
        return entry[1] if entry else ()

    def group_of(self, item_id: str) -> str | None:
        entry = self._items.get(item_id)
        return entry[0] if entry else None

    def search(
        self, tokens: Sequence[str], k: int, group: str | None = None, exclude: str | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` best items for the query tokens, best first, with BM25 scores > 0.

        ``group`` keeps one group only; ``exclude`` drops one group (e.g. the FAQ entries).
        """
        self._ensure()
        if self._retriever is None:
            return []
        vocab = self._retriever.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        scores = self._retriever.get_scores(known)
        order = scores.argsort()[::-1]
        out: list[tuple[str, float]] = []
        for idx in order:
            score = float(scores[idx])
            if score <= 0:
                break
            item_id = self._ids[int(idx)]
            item_group = self._items[item_id][0]
            if (group is not None and item_group != group) or (
                exclude is not None and item_group == exclude
            ):
                continue
            out.append((item_id, score))
            if len(out) >= k:
                break
        return out
