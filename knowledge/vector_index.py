"""The Chroma side of the library: chunk vectors, document cards and expert FAQ questions.

Embedded ``PersistentClient`` in the data dir by default, ``HttpClient`` when a host is given.
Collections are always opened with our own embedding function (a collection without one
would try to download a model) and we always pass the vectors ourselves, so query and passage
prompts stay under our control. The model that made the vectors is recorded in each
collection's metadata; opening with another model raises ``ModelMismatch``.

Only committed document versions are visible. A version is committed when its card (the record
describing the document, with ``chunk_count``) is written, which the knowledge store does after
every passage; passages of a version without a card (being written, or left by an interrupted
write) are never returned by :meth:`ChromaIndex.query`, :meth:`~ChromaIndex.fetch` or
:meth:`~ChromaIndex.article_chunk_ids`. Searches ask Chroma for as many more results as there
are records no card accounts for, so filtering them out costs nothing when there are none.
"""

from __future__ import annotations

import logging
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ModelMismatch
from core.ports import Embedder
from knowledge.index_records import card_id
from knowledge.pending import PendingWrites

log = logging.getLogger(__name__)

CHUNK_COUNT = "chunk_count"  # on a card: the passages its version has; written last
UPSERT_BATCH = 64  # passages embedded and written at a time (progress is recorded after each)
CHUNKS = "qadesk_chunks"
FAQ = "qadesk_faq"
STATE = "qadesk_state"  # one record: the library version all workers compare


@dataclass(frozen=True, slots=True)
class VectorHit:
    item_id: str
    similarity: float  # cosine similarity, 1.0 = identical direction
    text: str
    metadata: Mapping[str, Any]


def _embedding_function(embedder: Embedder) -> Any:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class _OurEmbeddings(EmbeddingFunction[Documents]):
        """Chroma-facing wrapper; we pass vectors explicitly, this guards against defaults."""

        def __init__(self) -> None:
            self._embedder = embedder

        def __call__(self, input: Documents) -> Embeddings:
            import numpy as np

            return [np.asarray(v, dtype=np.float32) for v in embedder.embed_documents(input)]

        def embed_query(self, input: Documents) -> Embeddings:
            import numpy as np

            return [np.asarray(embedder.embed_query(t), dtype=np.float32) for t in input]

        @staticmethod
        def name() -> str:
            return "qadesk"

        def get_config(self) -> dict[str, Any]:
            return {"model_id": embedder.model_id}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> Any:
            raise NotImplementedError("qadesk passes its embedder explicitly")

        def is_legacy(self) -> bool:
            return False

    return _OurEmbeddings()


class ChromaIndex:
    """Chunk, FAQ and state collections in one Chroma database."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        path: Path | None = None,
        host: str | None = None,
        port: int = 8000,
    ) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        # Chroma cannot rebuild our function from its stored config; we always pass it again.
        warnings.filterwarnings("ignore", message="Could not reconstruct embedding function")
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if host:
            self._client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
        else:
            if path is None:
                raise ValueError("an embedded Chroma needs a path")
            path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        self._embedder = embedder
        ef = _embedding_function(embedder)
        meta = {"hnsw:space": "cosine", "model_id": embedder.model_id}
        self.chunks = self._client.get_or_create_collection(
            CHUNKS, embedding_function=ef, metadata=meta
        )
        self.faq = self._client.get_or_create_collection(FAQ, embedding_function=ef, metadata=meta)
        self.state = self._client.get_or_create_collection(
            STATE, embedding_function=ef, metadata={"hnsw:space": "cosine"}
        )
        self.pending = PendingWrites(self.state)
        self._committed: dict[str, int | None] = {}  # doc id -> chunk_count (None: not recorded)
        self._accounted = -1  # records the committed versions account for; -1: not read yet

    # --- model identity -------------------------------------------------------------------
    def stored_model(self) -> str | None:
        """The model the stored vectors were made with (None for an empty library)."""
        if self.chunks.count() == 0 and self.faq.count() == 0:
            return None
        return str((self.chunks.metadata or {}).get("model_id") or "") or None

    def check_model(self) -> None:
        stored = self.stored_model()
        if stored is not None and stored != self._embedder.model_id:
            raise ModelMismatch(
                f"the library was embedded with {stored!r}, the desk is configured with "
                f"{self._embedder.model_id!r}; run `qadesk reindex` to re-embed it",
                stored=stored,
                configured=self._embedder.model_id,
            )

    def mark_model(self) -> None:
        """Record the current model on the collections (after a full re-embed)."""
        for col in (self.chunks, self.faq):
            meta = {k: v for k, v in (col.metadata or {}).items() if not k.startswith("hnsw:")}
            meta["model_id"] = self._embedder.model_id
            col.modify(metadata=meta)

    # --- library version (shared by workers) --------------------------------------------
    def version(self) -> str:
        got = self.state.get(ids=["library"], include=["documents"])
        docs = got.get("documents") or []
        return str(docs[0]) if docs else ""

    def bump_version(self) -> str:
        token = uuid.uuid4().hex
        marker: list[Sequence[float]] = [[1.0, 0.0]]
        self.state.upsert(ids=["library"], documents=[token], embeddings=marker)
        return token

    # --- writes -----------------------------------------------------------------------------
    def upsert(
        self,
        collection: Any,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[Mapping[str, Any]],
        embed_texts: Sequence[str] | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Embed ``embed_texts`` (default: ``texts``) as passages and upsert, in batches;
        ``on_batch(written)`` is called after each one."""
        for start in range(0, len(ids), UPSERT_BATCH):
            end = start + UPSERT_BATCH
            vectors = self._embedder.embed_documents(list((embed_texts or texts)[start:end]))
            self.upsert_vectors(
                collection, ids[start:end], texts[start:end], metadatas[start:end], vectors
            )
            if on_batch is not None:
                on_batch(min(end, len(ids)))

    def upsert_vectors(
        self,
        collection: Any,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[Mapping[str, Any]],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        """Upsert records whose vectors were made by this index's model already."""
        batch = min(5000, int(self._client.get_max_batch_size()))
        for start in range(0, len(ids), batch):
            end = start + batch
            collection.upsert(
                ids=list(ids[start:end]),
                documents=list(texts[start:end]),
                metadatas=[_clean_meta(m) for m in metadatas[start:end]],
                embeddings=list(vectors[start:end]),  # type: ignore[arg-type]
            )

    def delete_where(self, collection: Any, where: Mapping[str, Any]) -> None:
        collection.delete(where=dict(where))

    # --- the library's records, by what they are -------------------------------------------
    def card(self, doc_id: str) -> VectorHit | None:
        """The card (the record describing a document) of ``doc_id``, if stored."""
        got = self.chunks.get(ids=[card_id(doc_id)], include=["documents", "metadatas"])
        metas = got.get("metadatas") or []
        if not metas:
            return None
        return VectorHit(got["ids"][0], 0.0, (got.get("documents") or [""])[0] or "", metas[0])

    def cards(self, file_name: str | None = None) -> list[VectorHit]:
        """Every document card, or those of one file name: the committed versions."""
        where: dict[str, Any] = {"is_card": True}
        if file_name is not None:
            where = {"$and": [where, {"file_name": file_name}]}
        found = self.get_all(self.chunks, where)
        if file_name is None:
            self._remember(found)
        return found

    def document_chunks(self, doc_id: str) -> list[VectorHit]:
        """The passages (not the card) of one document version, committed or not."""
        return self.get_all(self.chunks, {"$and": [{"doc_id": doc_id}, {"is_card": False}]})

    def passage_count(self, doc_id: str) -> int:
        """How many passages of one document version the index holds."""
        where: Any = {"$and": [{"doc_id": doc_id}, {"is_card": False}]}
        return len(self.chunks.get(where=where, include=[])["ids"])

    def delete_document(self, doc_id: str) -> None:
        """Every record of one document version: the card first (the version is invisible
        from then on), then its passages."""
        self.chunks.delete(ids=[card_id(doc_id)])
        self.chunks.delete(where={"doc_id": doc_id})

    def delete_records(self, ids: Iterable[str]) -> None:
        """Records by id (orphaned passages a check found)."""
        wanted = list(ids)
        for start in range(0, len(wanted), 5000):
            self.chunks.delete(ids=wanted[start : start + 5000])

    def set_card_count(self, doc_id: str, count: int) -> None:
        """Record the passage count on a card written before counts were recorded."""
        card = self.card(doc_id)
        if card is not None:
            meta = {**card.metadata, CHUNK_COUNT: count}
            self.chunks.update(ids=[card.item_id], metadatas=[_clean_meta(meta)])
            self._accounted = -1

    def article_chunk_ids(self, number: int, doc_id: str | None, limit: int = 3) -> list[str]:
        """Passages of committed versions holding article ``number`` (of one document, or any)."""
        where: dict[str, Any] = {"article_no": number}
        if doc_id:
            where = {"$and": [where, {"doc_id": doc_id}]}
        got = self.chunks.get(where=where, limit=limit + self._unaccounted(), include=["metadatas"])
        metas: list[Any] = list(got.get("metadatas") or [])
        hits = [VectorHit(i, 0.0, "", m or {}) for i, m in zip(got["ids"], metas, strict=True)]
        return [hit.item_id for hit in self._visible(hits)][:limit]

    def fetch(self, ids: Sequence[str], vector: Sequence[float]) -> list[VectorHit]:
        """Records of committed versions by id, each with its cosine similarity to ``vector``;
        unknown ids are skipped."""
        if not ids:
            return []
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        documents: list[Any] = list(got["documents"] or [])
        metadatas: list[Any] = list(got["metadatas"] or [])
        embeddings: list[Any] = list(got["embeddings"] if got["embeddings"] is not None else [])
        hits = []
        for cid, text, meta, emb in zip(got["ids"], documents, metadatas, embeddings, strict=True):
            sim = float(sum(a * b for a, b in zip(vector, emb, strict=True)))
            hits.append(VectorHit(cid, sim, text or "", meta or {}))
        return self._visible(hits)

    # --- what is committed ------------------------------------------------------------------
    def committed(self) -> dict[str, int | None]:
        """Committed document versions (doc id -> passage count, ``None`` if not recorded)."""
        self.cards()
        return dict(self._committed)

    def _remember(self, cards: Sequence[VectorHit]) -> None:
        counts: dict[str, int | None] = {}
        for hit in cards:
            value = hit.metadata.get(CHUNK_COUNT)
            counts[str(hit.metadata.get("doc_id", ""))] = int(value) if value is not None else None
        self._committed = counts
        self._accounted = sum(1 + (n or 0) for n in counts.values())

    def _unaccounted(self, count: int | None = None) -> int:
        """Records in the chunk collection that no committed card accounts for (passages of
        versions being written or abandoned); the cards are read again when the count moved."""
        count = self.chunks.count() if count is None else count
        if count != self._accounted:
            self.cards()
        return max(0, count - self._accounted)

    def _visible(self, hits: Sequence[VectorHit]) -> list[VectorHit]:
        """The hits that belong to committed versions (the cards are read again, once, when a
        hit names a version not known to be committed)."""
        if any(str(h.metadata.get("doc_id", "")) not in self._committed for h in hits):
            self.cards()
        return [h for h in hits if str(h.metadata.get("doc_id", "")) in self._committed]

    def has_faq(self, faq_id: str) -> bool:
        return bool(self.faq.get(ids=[faq_id])["ids"])

    def delete_faq(self, faq_id: str) -> None:
        self.faq.delete(ids=[faq_id])

    # --- reads ------------------------------------------------------------------------------
    def nearest(self, vector: Sequence[float], k: int) -> list[VectorHit]:
        """The ``k`` committed passages (or cards) nearest to ``vector`` (``core.indexes``)."""
        return self.query(self.chunks, vector, k, None)

    def query(
        self, collection: Any, vector: Sequence[float], k: int, where: Mapping[str, Any] | None
    ) -> list[VectorHit]:
        count = collection.count()
        if count == 0:
            return []
        chunks = collection is self.chunks
        wanted = k + self._unaccounted(count) if chunks else k
        res = collection.query(
            query_embeddings=[list(vector)],
            n_results=min(wanted, count),
            where=dict(where) if where else None,
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        for item_id, text, meta, dist in zip(
            res["ids"][0],
            (res.get("documents") or [[]])[0],
            (res.get("metadatas") or [[]])[0],
            (res.get("distances") or [[]])[0],
            strict=True,
        ):
            hits.append(VectorHit(item_id, 1.0 - float(dist), text or "", meta or {}))
        return self._visible(hits)[:k] if chunks else hits

    def get_all(
        self, collection: Any, where: Mapping[str, Any] | None = None, *, texts: bool = True
    ) -> list[VectorHit]:
        """Every record (text unless ``texts`` is false, and metadata; no vectors), paging
        through large collections."""
        out: list[VectorHit] = []
        page = 5000
        offset = 0
        include = ["documents", "metadatas"] if texts else ["metadatas"]
        while True:
            res = collection.get(
                where=dict(where) if where else None,
                include=include,
                limit=page,
                offset=offset,
            )
            ids = res["ids"]
            documents = res.get("documents") or [""] * len(ids)
            for item_id, text, meta in zip(ids, documents, res.get("metadatas") or [], strict=True):
                out.append(VectorHit(item_id, 0.0, text or "", meta or {}))
            if len(ids) < page:
                return out
            offset += page


def _clean_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Chroma metadata values must be str/int/float/bool: drop None, stringify the rest."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if value is None:
            continue
        out[key] = value if isinstance(value, str | int | float | bool) else str(value)
    return out
