"""The library's documents and expert FAQ entries, kept in step in both indexes.

``KnowledgeStore`` implements ``core.ports.DocumentStore`` (ingestion writes through it) and
keeps approved expert answers. Every worker sharing one Chroma server sees the same library:
writes bump a library version, and a worker whose keyword index is older rebuilds it from
Chroma. Answering lives in ``knowledge.answering``.

Nothing lost, nothing forged: a document version is written as a marker (``knowledge.pending``),
then its passages, then — the commit — its card with the passage count; only then is the
version it replaces deleted and the keyword index updated. A version without a card is never
listed, searched, or taken for "unchanged" by a re-ingest; if the writer dies half-way, the
next store to open the library rolls the version back (``knowledge.recovery``) and the old
version is still there. ``check`` verifies both indexes against the cards.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from core.answers import FaqEntry
from core.documents import Chunk, SourceDocument
from core.errors import DocumentNotFound, KnowledgeError
from core.ports import Embedder
from knowledge import consistency, index_records, recovery
from knowledge.keyword_index import KeywordIndex
from knowledge.pending import STALE_SECONDS
from knowledge.references import short_title
from knowledge.retrieval import FAQ_GROUP
from knowledge.text import bigram_similarity, normalize_question
from knowledge.tokens import tokenize, tokenizer_id
from knowledge.vector_index import CHUNK_COUNT, ChromaIndex, VectorHit

log = logging.getLogger(__name__)


class KnowledgeStore:
    def __init__(
        self,
        embedder: Embedder,
        index: ChromaIndex,
        keywords: KeywordIndex,
        *,
        refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        recover: bool = True,
        stale_seconds: float = STALE_SECONDS,
    ) -> None:
        """``recover``: roll back (or finish) the writes whose writer is gone, on open;
        ``stale_seconds``: how long a writer may make no progress before it is taken for gone.
        """
        self._embedder = embedder
        self._index = index
        self._keywords = keywords
        self._refresh = refresh_seconds
        self._clock = clock
        self._stale = stale_seconds
        self._checked = float("-inf")
        self._lock = threading.RLock()
        self._law_names: dict[str, str] | None = None
        self._by_id: dict[str, SourceDocument] | None = None
        index.check_model()
        self.recovered: list[consistency.Finding] = []
        if recover:
            self.recovered, rebuild = recovery.recover(index, keywords, stale_seconds=stale_seconds)
            if rebuild:
                index.bump_version()  # every worker's keyword index is rebuilt from Chroma

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
            for hit in self._committed_records():
                tokens = tokenize(index_records.context_text(hit.metadata, hit.text))
                items.append((hit.item_id, str(hit.metadata.get("doc_id", "")), tokens))
            for hit in self._index.get_all(self._index.faq):
                items.append((hit.item_id, FAQ_GROUP, tokenize(hit.text)))
            self._keywords.reset(items)
            self._keywords.save(version)
            self._law_names = None
            self._by_id = None
            log.info("keyword index rebuilt items=%d version=%s", len(items), version[:8])

    def _committed_records(self) -> list[VectorHit]:
        """Cards and passages of the committed versions (those with a card)."""
        records = self._index.get_all(self._index.chunks)
        committed = {str(h.metadata.get("doc_id")) for h in records if h.metadata.get("is_card")}
        return [h for h in records if str(h.metadata.get("doc_id")) in committed]

    def _changed(self) -> None:
        self._keywords.save(self._index.bump_version())
        self._law_names = None
        self._by_id = None

    def law_names(self) -> dict[str, str]:
        """Short title (产品质量法) → doc id, for direct article references."""
        if self._law_names is None:
            titles = {
                index_records.document_from_meta(h.metadata).title: str(h.metadata["doc_id"])
                for h in self._index.cards()
            }
            self._law_names = {short_title(t): d for t, d in titles.items()}
        return self._law_names

    def documents_by_id(self) -> dict[str, SourceDocument]:
        """Every committed document version by doc id, as its card says now (read once per
        library version: a status an admin changed shows on this worker's next sync)."""
        if self._by_id is None:
            self._by_id = {
                str(h.metadata["doc_id"]): index_records.document_from_meta(h.metadata)
                for h in self._index.cards()
            }
        return self._by_id

    def set_document(self, doc_id: str, changes: Mapping[str, object]) -> SourceDocument:
        """Change fields of a document's card (its dates, links, source, kind: ``changes``
        maps ``SourceDocument`` field names to values, ``None`` clearing one); the document
        as it is now. One write of the card record, so a crash leaves the old card or the new
        one; the passages are not touched (citations read these fields from the card)."""
        with self._lock:
            card = self._index.card(doc_id)
            if card is None or not card.metadata.get("is_card"):
                raise DocumentNotFound(f"no document {doc_id}", doc_id=doc_id)
            new, meta, text = index_records.edited_card(card.metadata, changes)
            context = index_records.context_text(meta, text)
            self._index.upsert(self._index.chunks, [card.item_id], [text], [meta], [context])
            chunks = [
                (h.item_id, index_records.context_text(h.metadata, h.text))
                for h in self._index.document_chunks(doc_id)
            ]
            self._keywords.replace_group(
                doc_id, [(card.item_id, tokenize(context))] + [(i, tokenize(c)) for i, c in chunks]
            )
            self._changed()
            log.info("document fields set doc_id=%s fields=%s", doc_id, ",".join(sorted(changes)))
            return new

    # --- DocumentStore ----------------------------------------------------------------------
    def get(self, doc_id: str) -> SourceDocument | None:
        card = self._index.card(doc_id)
        return index_records.document_from_meta(card.metadata) if card else None

    def find_by_file(self, file_name: str) -> SourceDocument | None:
        """The committed version of ``file_name`` (the newest, while a replacement finishes)."""
        hits = _newest_first(self._index.cards(file_name))
        return index_records.document_from_meta(hits[0].metadata) if hits else None

    def documents(self) -> list[SourceDocument]:
        """The committed documents, one per file name."""
        newest: dict[str, SourceDocument] = {}
        for hit in _newest_first(self._index.cards()):
            doc = index_records.document_from_meta(hit.metadata)
            newest.setdefault(doc.file_name, doc)
        return sorted(newest.values(), key=lambda d: d.file_name)

    def chunks(self, doc_id: str) -> list[Chunk]:
        if self._index.card(doc_id) is None:
            return []  # not committed: not part of the library
        return sorted(
            (
                index_records.chunk_from_meta(h.item_id, h.text, h.metadata)
                for h in self._index.document_chunks(doc_id)
            ),
            key=lambda c: c.ordinal,
        )

    def put(self, document: SourceDocument, chunks: Sequence[Chunk]) -> None:
        """Store ``document`` with exactly ``chunks``, replacing any version of the same file.

        The new version is committed (its card written) only after all its passages; the older
        versions are deleted after that. If writing fails, what was written of the new version
        is deleted again and the old version stays; if the process dies, the next store to
        open the library does the same.
        """
        if any(chunk.doc_id != document.doc_id for chunk in chunks):
            raise ValueError("chunks of another document")
        with self._lock:
            if not document.ingested_at:
                document = replace(document, ingested_at=datetime.now(UTC).isoformat())
            previous = self.find_by_file(document.file_name)
            if previous is not None and previous.doc_id != document.doc_id:
                document = index_records.carry_status(previous, document)  # an admin's values stay
            doc_id = document.doc_id
            ids = [c.chunk_id for c in chunks]
            metas = [index_records.chunk_metadata(document, c) for c in chunks]
            texts = [c.text for c in chunks]
            contexts = [index_records.context_text(m, t) for m, t in zip(metas, texts, strict=True)]
            card_meta = {**index_records.card_metadata(document), CHUNK_COUNT: len(chunks)}
            card = (index_records.card_id(doc_id), index_records.card_text(document), card_meta)
            card_context = index_records.context_text(card_meta, card[1])
            self._write_version(document, (ids, texts, metas, contexts), card, card_context)
            for hit in self._index.cards(document.file_name):
                if hit.metadata.get("doc_id") != doc_id:  # the versions it replaces
                    old = str(hit.metadata["doc_id"])
                    self._index.delete_document(old)
                    self._keywords.replace_group(old, [])
            self._keywords.replace_group(
                doc_id,
                [(card[0], tokenize(card_context))]
                + [(i, tokenize(c)) for i, c in zip(ids, contexts, strict=True)],
            )
            if not self._index.stored_model():
                self._index.mark_model()
            self._changed()
            self._index.pending.end(doc_id)

    def _write_version(
        self,
        document: SourceDocument,
        passages: tuple[list[str], list[str], list[dict[str, object]], list[str]],
        card: tuple[str, str, dict[str, object]],
        card_context: str,
    ) -> None:
        """Marker, passages, card: the version is committed when this returns."""
        ids, texts, metas, contexts = passages
        doc_id = document.doc_id
        marker = self._index.pending.begin(doc_id, document.file_name, len(ids))

        def progress(written: int) -> None:
            nonlocal marker
            marker = self._index.pending.touch(marker)

        try:
            self._index.delete_document(doc_id)  # leftovers of an earlier attempt
            self._index.upsert(
                self._index.chunks, ids, texts, metas, embed_texts=contexts, on_batch=progress
            )
            stored = self._index.passage_count(doc_id)
            if stored != len(ids):
                raise KnowledgeError(
                    f"{document.file_name}: {stored} of {len(ids)} passages reached the "
                    "vector index; nothing was committed",
                    file=document.file_name,
                )
            self._index.upsert(
                self._index.chunks, [card[0]], [card[1]], [card[2]], embed_texts=[card_context]
            )
        except BaseException:  # a failure, Ctrl-C or SIGTERM: undo before going
            self._roll_back(doc_id)
            raise

    def _roll_back(self, doc_id: str) -> None:
        try:
            self._index.delete_document(doc_id)
            self._index.pending.end(doc_id)
        except Exception:  # the marker stays: the next open rolls the version back
            log.exception(
                "rollback failed doc_id=%s; it is undone when the library is next opened", doc_id
            )

    def remove(self, doc_id: str) -> SourceDocument | None:
        with self._lock:
            doc = self.get(doc_id)
            if doc is None:
                return None
            self._index.delete_document(doc_id)
            self._keywords.replace_group(doc_id, [])
            self._changed()
            return doc

    # --- expert FAQ entries -----------------------------------------------------------------
    def add_faq(self, entry: FaqEntry) -> FaqEntry:
        """Index an approved answer; a near-duplicate of an existing entry updates that one."""
        with self._lock:
            existing = self.similar_faq(entry.question)
            faq_id = existing.faq_id if existing else (entry.faq_id or uuid.uuid4().hex[:12])
            entry = replace(entry, faq_id=faq_id)
            self._index.upsert(
                self._index.faq, [faq_id], [entry.question], [index_records.faq_metadata(entry)]
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
            if not self._index.has_faq(faq_id):
                return False
            self._index.delete_faq(faq_id)
            self._keywords.replace_group(FAQ_GROUP, self._faq_tokens())
            self._changed()
            return True

    def faq_entries(self) -> list[FaqEntry]:
        return [
            index_records.faq_from_meta(h.item_id, h.text, h.metadata)
            for h in self._index.get_all(self._index.faq)
        ]

    def similar_faq(self, question: str) -> FaqEntry | None:
        """The existing entry asking the same thing (a new one would replace it), if any."""
        text = normalize_question(question)
        match = self.best_faq(text, self._embedder.embed_query(text))
        if match is None:
            return None
        entry, sim, overlap = match
        return entry if sim >= 0.95 or overlap >= 0.8 else None

    def best_faq(
        self, question: str, vector: Sequence[float]
    ) -> tuple[FaqEntry, float, float] | None:
        """The nearest entry to a normalised question: (entry, cosine, bigram overlap)."""
        hits = self._index.query(self._index.faq, vector, 1, None)
        if not hits:
            return None
        hit = hits[0]
        entry = index_records.faq_from_meta(hit.item_id, hit.text, hit.metadata)
        return entry, hit.similarity, bigram_similarity(question, hit.text)

    # --- maintenance ------------------------------------------------------------------------
    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Re-embed every chunk and FAQ question with the current model; returns the count."""
        with self._lock:
            chunks = self._committed_records()
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
                    [index_records.context_text(m, t) for m, t in zip(metas, texts, strict=True)]
                    if ctx
                    else None
                )
                self._index.upsert(col, ids, texts, metas, embed_texts=embed)
                if progress:
                    progress(len(ids), len(chunks) + len(faqs))
            self._index.mark_model()
            self.sync(force=True)
            return len(chunks) + len(faqs)

    def check(self, repair: bool = False) -> consistency.LibraryCheck:
        """Verify both indexes against the document cards; ``repair`` fixes what it can (rolls
        back interrupted and incomplete versions, deletes orphaned passages, keeps the newest
        of several versions, rebuilds the keyword index from the vector index) and checks
        again. The result's ``repaired`` says what was done."""
        with self._lock:
            found = consistency.check(self._index, self._keywords, stale_seconds=self._stale)
            if not repair or found.ok:
                return found
            done = recovery.repair(self._index, self._keywords, found, stale_seconds=self._stale)
            self._index.bump_version()
            self.sync(force=True)
            done.append(recovery.keyword_rebuilt(len(self._keywords)))
            again = consistency.check(self._index, self._keywords, stale_seconds=self._stale)
            again.repaired = done
            return again


def _newest_first(cards: Sequence[VectorHit]) -> list[VectorHit]:
    return sorted(cards, key=lambda h: str(h.metadata.get("ingested_at", "")), reverse=True)


def open_store(
    embedder: Embedder,
    index_dir: Path,
    *,
    chroma_host: str | None = None,
    chroma_port: int = 8000,
    recover: bool = True,
) -> KnowledgeStore:
    """The document store of the library in ``index_dir`` (or on a Chroma server), without
    the answering; ``recover=False`` opens it as it is (for ``qadesk docs check``)."""
    index = ChromaIndex(embedder, path=index_dir / "chroma", host=chroma_host, port=chroma_port)
    keywords = KeywordIndex(
        None if chroma_host else index_dir / "keywords", tokenizer_id=tokenizer_id()
    )
    return KnowledgeStore(embedder, index, keywords, recover=recover)
