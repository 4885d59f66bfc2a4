"""Writes in progress and what is visible, on a real embedded Chroma with the fake embedder:
who counts as gone, an in-process failure that undoes itself, and passages without a card that
no read returns."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from core.documents import Chunk, DocumentKind, SourceDocument
from knowledge import index_records
from knowledge.keyword_index import KeywordIndex
from knowledge.pending import PendingWrite, is_abandoned, process_alive, this_writer
from knowledge.store import KnowledgeStore
from knowledge.vector_index import CHUNK_COUNT, UPSERT_BATCH, ChromaIndex
from tests.fakes.embedder import FakeEmbedder


def document(doc_id: str, n: int, name: str = "law.md") -> tuple[SourceDocument, list[Chunk]]:
    doc = SourceDocument(doc_id, name, "示例法", DocumentKind.LAW, doc_id * 4)
    chunks = [
        Chunk(f"{doc_id}:{i:04d}", doc_id, i, f"第{i + 1}条 示例条款{doc_id}第{i}项。", "总则",
              f"第{i + 1}条", i + 1)
        for i in range(n)
    ]  # fmt: skip
    return doc, chunks


class FailingEmbedder(FakeEmbedder):
    """Fails on the ``fail_at``-th call to ``embed_documents`` (a crash mid-write)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.fail_at = 0

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == self.fail_at:
            raise OSError("disk full")
        return super().embed_documents(texts)


def open_store(tmp_path: Path, embedder: FakeEmbedder) -> KnowledgeStore:
    index = ChromaIndex(embedder, path=tmp_path / "chroma")
    return KnowledgeStore(embedder, index, KeywordIndex(tmp_path / "keywords"))


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_writer_is_gone_when_its_process_is_dead_or_it_is_silent_too_long() -> None:
    host, pid = this_writer()
    write = PendingWrite("d", "a.md", 10, host, pid, 1000.0, 1000.0)
    assert not is_abandoned(write, now=1010.0, stale_seconds=60)
    assert is_abandoned(write, now=1061.0, stale_seconds=60)
    assert is_abandoned(replace(write, pid=dead_pid()), now=1010.0, stale_seconds=60)
    elsewhere = replace(write, host="other-host", pid=dead_pid())
    assert not is_abandoned(elsewhere, now=1010.0, stale_seconds=60)  # trusted until stale


def test_a_zombie_is_not_alive() -> None:
    process = subprocess.Popen(["true"])
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped
    assert not process_alive(process.pid)
    process.wait()
    assert process_alive(os.getpid())


def test_a_failure_mid_write_keeps_the_old_version_and_leaves_nothing(tmp_path: Path) -> None:
    embedder = FailingEmbedder()
    store = open_store(tmp_path, embedder)
    old, old_chunks = document("a" * 16, 3)
    store.put(old, old_chunks)
    new, chunks = document("b" * 16, 3 * UPSERT_BATCH)
    embedder.fail_at = embedder.calls + 2  # the first batch is written, the second fails
    with pytest.raises(OSError, match="disk full"):
        store.put(new, chunks)
    index = store._index
    assert index.passage_count(new.doc_id) == 0 and index.pending.all() == []
    assert store.find_by_file("law.md").doc_id == old.doc_id  # type: ignore[union-attr]
    assert len(store.chunks(old.doc_id)) == 3 and store.check().ok


def test_passages_without_a_card_are_never_returned(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    store = open_store(tmp_path, embedder)
    done, done_chunks = document("c" * 16, 2, "done.md")
    store.put(done, done_chunks)
    half, chunks = document("d" * 16, 5, "half.md")
    index = store._index
    metas = [index_records.chunk_metadata(half, c) for c in chunks[:3]]
    texts = [c.text for c in chunks[:3]]
    index.upsert(index.chunks, [c.chunk_id for c in chunks[:3]], texts, metas)
    vector = embedder.embed_query(chunks[0].text)
    hits = index.query(index.chunks, vector, 3, None)
    assert len(hits) == 3 and all(h.metadata["doc_id"] == done.doc_id for h in hits)
    assert index.fetch([chunks[0].chunk_id], vector) == []
    assert index.article_chunk_ids(1, None) == [done_chunks[0].chunk_id]
    assert [d.file_name for d in store.documents()] == ["done.md"]
    assert store.find_by_file("half.md") is None and store.chunks(half.doc_id) == []
    store.sync(force=True)
    assert set(store._keywords.entries()) == {index_records.card_id(done.doc_id)} | {
        c.chunk_id for c in done_chunks
    }
    assert index.card(done.doc_id).metadata[CHUNK_COUNT] == 2  # type: ignore[union-attr]
    found = store.check()
    assert [f.code for f in found.problems] == ["orphan_passages"]
