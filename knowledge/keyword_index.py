"""BM25 over jieba tokens, persisted next to the vector index and rebuilt when it changes.

The index keeps, per item (a chunk or an FAQ question), its group (document id or ``faq``)
and its tokens. Scoring is ``bm25s``. Document frequencies weigh how much of a question a
passage covers (see ``knowledge.scoring.weighted_coverage``); they are read off the BM25
matrix (the number of items scored for a token).

On disk, in the index directory:

- ``keyword-index.jsonl``: a header with the library version and the tokenizer's id, then one
  line per item (id, group, tokens) — the source of truth, rewritten atomically on every
  change; a file made by another tokenizer (another user dictionary) is ignored, so the
  knowledge base rebuilds it from the library;
- ``bm25/``: the BM25 matrix in ``bm25s``'s own format and ``meta.json`` (the version it was
  built for, item ids and groups in matrix order), written after the JSONL.

Opening loads only the matrix (memory-mapped) when its version matches the JSONL's; the items
are read the first time something changes. At 100,000 chunks this turns about 20 s and 2 GB
of start-up into well under a second (see ``bench.scale_bench``). A matrix that is missing,
stale or unreadable is rebuilt from the items.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_FILE = "keyword-index.jsonl"
_MATRIX = "bm25"
_META = "meta.json"
_EMPTY = "\u0000"  # the one token of an item with no tokens (bm25s needs one)


class KeywordIndex:
    """A BM25 index with an optional directory behind it."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        tokenizer_id: str = "",
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self._dir = directory
        self._tokenizer_id = tokenizer_id
        self._k1, self._b = k1, b
        self._items: dict[str, tuple[str, tuple[str, ...]]] | None = {}
        self._version = ""
        self._retriever: Any = None
        self._ids: list[str] = []
        self._groups: list[str] = []
        self._as_saved = False  # the items are exactly those of the file for ``version``
        if directory is not None:
            self._open()

    # --- persistence ------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """The library version this index was built for (compared with the vector side)."""
        return self._version

    def _path(self) -> Path | None:
        return self._dir / _FILE if self._dir is not None else None

    def _open(self) -> None:
        path = self._path()
        if path is None or not path.exists():
            return
        with path.open(encoding="utf-8") as fh:
            header = json.loads(fh.readline() or "{}")
        if str(header.get("tokenizer", "")) != self._tokenizer_id:
            log.info("keyword index made by another tokenizer: it will be rebuilt")
            self._items = {}
            return  # version "" never matches the library: the knowledge base rebuilds it
        self._version = str(header.get("version", ""))
        if not self._load_matrix():
            self._items = None  # read on first use

    def _read_items(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        items: dict[str, tuple[str, tuple[str, ...]]] = {}
        path = self._path()
        if path is None or not path.exists():
            return items
        intern = sys.intern  # the same word in 100,000 chunks is one string, not 100,000
        with path.open(encoding="utf-8") as fh:
            fh.readline()
            for line in fh:
                row = json.loads(line)
                tokens = tuple(intern(t) for t in row["tokens"])
                items[row["id"]] = (intern(row["group"]), tokens)
        return items

    def _loaded_items(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        if self._items is None:
            self._items = self._read_items()
            self._as_saved = True
        return self._items

    def _load_matrix(self) -> bool:
        """Load the saved BM25 matrix if it was built for the current version."""
        assert self._dir is not None
        folder = self._dir / _MATRIX
        if not (folder / _META).exists():
            return False  # never saved (an older desk, or an empty library)
        try:
            meta = json.loads((folder / _META).read_text("utf-8"))
            if meta.get("version") != self._version or not self._version:
                return False
            import bm25s

            retriever = bm25s.BM25.load(str(folder), mmap=True)
            ids, groups = list(meta["ids"]), list(meta["groups"])
            if len(ids) != len(groups) or len(ids) != int(retriever.scores["num_docs"]):
                return False
        except Exception as exc:  # a cache: whatever is wrong with it, rebuild from the items
            log.warning("keyword index matrix not usable, rebuilding from items: %s", exc)
            return False
        self._retriever, self._ids, self._groups = retriever, ids, groups
        self._items = None
        return True

    def save(self, version: str) -> None:
        """Write the items (temp file + rename) and the BM25 matrix, tagged ``version``."""
        self._version = version
        path = self._path()
        if path is None:
            return
        items = self._loaded_items()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kw-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            header = {"version": version, "tokenizer": self._tokenizer_id}
            fh.write(json.dumps(header) + "\n")
            for item_id, (group, tokens) in items.items():
                row = {"id": item_id, "group": group, "tokens": list(tokens)}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
        self._as_saved = True
        if self._retriever is None:
            self._build()
        self._write_matrix()

    def _write_matrix(self) -> None:
        """Save the built matrix (or remove it for an empty index) beside the items."""
        assert self._dir is not None
        target = self._dir / _MATRIX
        if self._retriever is None:
            shutil.rmtree(target, ignore_errors=True)
            return
        fresh = Path(tempfile.mkdtemp(dir=self._dir, prefix=".bm25-"))
        self._retriever.save(str(fresh), show_progress=False)
        meta = {"version": self._version, "ids": self._ids, "groups": self._groups}
        (fresh / _META).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        old = self._dir / f".bm25-old-{os.getpid()}"
        if target.exists():
            os.replace(target, old)
        os.replace(fresh, target)
        shutil.rmtree(old, ignore_errors=True)

    # --- writes -----------------------------------------------------------------------------
    def replace_group(self, group: str, items: Iterable[tuple[str, Sequence[str]]]) -> None:
        """Make ``group`` hold exactly ``items`` (id, tokens)."""
        current = self._loaded_items()
        for item_id in [i for i, (g, _) in current.items() if g == group]:
            del current[item_id]
        for item_id, tokens in items:
            current[item_id] = (group, tuple(tokens))
        self._invalidate()

    def remove_items(self, ids: Iterable[str]) -> None:
        current = self._loaded_items()
        for item_id in ids:
            current.pop(item_id, None)
        self._invalidate()

    def reset(self, items: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        """Replace everything with ``items`` (id, group, tokens)."""
        self._items = {i: (g, tuple(t)) for i, g, t in items}
        self._invalidate()

    def _invalidate(self) -> None:
        self._retriever = None
        self._as_saved = False

    # --- what it holds (for the library check) -------------------------------------------
    @property
    def persistent(self) -> bool:
        """True when the index is kept on disk (not rebuilt by every worker)."""
        return self._dir is not None

    def entries(self) -> dict[str, str]:
        """Every item's id and group."""
        return {item_id: group for item_id, (group, _) in self._loaded_items().items()}

    def group_sizes(self) -> dict[str, int]:
        """How many items each group holds (read off the saved matrix when it is loaded)."""
        groups = self._groups if self._items is None else [g for g, _ in self._items.values()]
        sizes: dict[str, int] = {}
        for group in groups:
            sizes[group] = sizes.get(group, 0) + 1
        return sizes

    def __len__(self) -> int:
        if self._items is None:
            return len(self._ids)
        return len(self._items)

    # --- reads ------------------------------------------------------------------------------
    def _ensure(self) -> None:
        if self._retriever is not None:
            return
        self._build()
        if self._retriever is None or not self._as_saved or self._dir is None:
            return
        if self._matrix_version() != self._version:
            self._write_matrix()  # built from the file as it is: keep it for the next start

    def _build(self) -> None:
        items = self._loaded_items()
        self._ids = list(items)
        self._groups = [items[i][0] for i in self._ids]
        if not items:
            return
        import bm25s

        corpus = [list(items[i][1]) or [_EMPTY] for i in self._ids]
        retriever = bm25s.BM25(k1=self._k1, b=self._b)
        retriever.index(corpus, show_progress=False)
        self._retriever = retriever

    def _matrix_version(self) -> str:
        assert self._dir is not None
        try:
            meta = json.loads((self._dir / _MATRIX / _META).read_text("utf-8"))
            return str(meta.get("version", ""))
        except (OSError, ValueError):
            return ""

    def idf(self, token: str) -> float:
        """Robertson–Spärck Jones IDF (≥ 0) of ``token``; unseen tokens get the highest."""
        self._ensure()
        n = len(self._ids)
        df = self.df(token)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def df(self, token: str) -> int:
        """How many items contain ``token`` (the items BM25 scores for it)."""
        self._ensure()
        if self._retriever is None:
            return 0
        column = self._retriever.vocab_dict.get(token)
        indptr = self._retriever.scores["indptr"]
        if column is None or column + 1 >= len(indptr):
            return 0
        return int(indptr[column + 1] - indptr[column])

    def tempered_idf(self, token: str, unseen: float = 1.5) -> float:
        """IDF for coverage: a word the library has never seen weighs ``unseen``, not the most.

        Colloquial words (买不起, 咋整) are unseen too, and must not sink a good passage; single
        Chinese characters weigh less.
        """
        weight = self.idf(token) if self.df(token) else unseen
        if len(token) == 1 and not token.isascii():
            weight *= 0.3  # one character (招, 开, 卖) matches almost any passage
        return weight

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
        known = [t for t in tokens if t in vocab and t != _EMPTY]
        if not known:
            return []
        scores = self._retriever.get_scores(known)
        order = scores.argsort()[::-1]
        out: list[tuple[str, float]] = []
        for idx in order:
            score = float(scores[idx])
            if score <= 0:
                break
            item_group = self._groups[int(idx)]
            if (group is not None and item_group != group) or (
                exclude is not None and item_group == exclude
            ):
                continue
            out.append((self._ids[int(idx)], score))
            if len(out) >= k:
                break
        return out
