"""Nothing lost, nothing forged: a real ``qadesk ingest`` killed in the middle of a document
(SIGKILL after its first batch of passages, after its second; SIGTERM) leaves a library that
does not list the half-written document, does not return its passages, takes a re-ingest for
what it is (the whole document added) and answers from it afterwards; a replacement killed
half-way leaves the old version answering.

The subprocess is killed when the vector index holds some but not all of the document's
passages, watched from here with a deadline; nothing in the desk knows it is being tested.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.answers import Decision
from ingest.parsing import parse_file
from ingest.pipeline import IngestPipeline, IngestStatus
from knowledge.answering import open_knowledge_base
from knowledge.keyword_index import KeywordIndex
from knowledge.store import KnowledgeStore
from knowledge.tokens import tokenize, tokenizer_id
from knowledge.vector_index import UPSERT_BATCH, ChromaIndex
from tests.fixtures.ingest.long_law import (
    FIRST_QUESTION,
    LAST_QUESTION,
    write_long_law,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SHORT = [
    REPO / "library" / "laws" / "L03_计量法_2018.md",
    REPO / "library" / "laws" / "L13_强制检定的工作计量器具检定管理办法_1987.md",
]
LONG = "G01_冷链质量管理规范_2024.md"
ARTICLES = 160  # 161 passages: three batches of writes
OLD_LAST = "蓝鲸牌恒温展示柜的温度探头校准周期为六个月，校准记录保存一年。"
DEADLINE_S = 600.0


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, e5_embedder: object) -> Path:
    """A data dir holding two short laws, built once; each test copies it."""
    data = tmp_path_factory.mktemp("durable") / "data"
    kb = open_knowledge_base(e5_embedder, data / "index")  # type: ignore[arg-type]
    assert not IngestPipeline(kb).ingest_paths(SHORT).errors
    return data


@pytest.fixture
def data_dir(base: Path, tmp_path: Path) -> Path:
    shutil.copytree(base, tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def long_law(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    path = write_long_law(tmp_path / "docs" / LONG, ARTICLES)
    assert len(parse_file(path).chunks) > 2 * UPSERT_BATCH  # more than two batches
    return path


_views = itertools.count()


def view(data_dir: Path) -> Path:
    """``data_dir`` under a path of its own. An embedded Chroma is cached per path in a process
    and does not see the vectors another process writes after it was opened; each phase of a
    test (before, during, after the killed ingest) opens the library under a fresh path."""
    link = data_dir.parent / f"view-{next(_views)}"
    link.symlink_to(data_dir, target_is_directory=True)
    return link


def ingest_killed(
    data_dir: Path,
    model_dir: Path,
    embedder: Any,
    path: Path,
    reached: Callable[[int], bool],
    sig: signal.Signals = signal.SIGKILL,
) -> tuple[str, int, int]:
    """Run ``qadesk ingest path`` on ``data_dir`` and send ``sig`` as soon as the vector index
    holds a number of the document's passages for which ``reached`` is true (and fewer than
    all). Returns the document id, its passage count and the exit code."""
    parsed = parse_file(path)
    doc_id, total = parsed.document.doc_id, len(parsed.chunks)
    index = ChromaIndex(embedder, path=view(data_dir) / "index" / "chroma")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "QADESK_DATA_DIR": str(data_dir),
        "QADESK_EMBEDDING_MODEL": str(model_dir),
        "QADESK_LOG_LEVEL": "WARNING",
    }
    qadesk = Path(sys.executable).parent / "qadesk"
    log = (data_dir / "ingest.log").open("w")
    proc = subprocess.Popen(
        [str(qadesk), "ingest", str(path)], cwd=data_dir, env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + DEADLINE_S
    try:
        while True:
            stored = index.passage_count(doc_id)
            if reached(stored) and stored < total:
                proc.send_signal(sig)
                break
            if proc.poll() is not None:
                pytest.fail(f"ingest ended before the kill point: {_tail(data_dir)}")
            if time.monotonic() > deadline:
                pytest.fail(f"no kill point within {DEADLINE_S:.0f}s: {_tail(data_dir)}")
            time.sleep(0.02)  # polling the index, not waiting for an event
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    return doc_id, total, code


def _tail(data_dir: Path) -> str:
    return (data_dir / "ingest.log").read_text(errors="replace")[-2000:]


def raw_library(embedder: Any, data_dir: Path) -> tuple[ChromaIndex, KeywordIndex, KnowledgeStore]:
    """The library as the killed process left it: nothing repaired on open."""
    root = view(data_dir) / "index"
    index = ChromaIndex(embedder, path=root / "chroma")
    keywords = KeywordIndex(root / "keywords", tokenizer_id=tokenizer_id())
    return index, keywords, KnowledgeStore(embedder, index, keywords, recover=False)


def assert_half_written_is_invisible(
    embedder: Any, data_dir: Path, doc_id: str, total: int
) -> None:
    index, keywords, store = raw_library(embedder, data_dir)
    written = [h.item_id for h in index.document_chunks(doc_id)]
    assert 0 < len(written) < total, "the document really was half written"
    assert index.card(doc_id) is None
    assert LONG not in [d.file_name for d in store.documents()]
    assert store.find_by_file(LONG) is None and store.chunks(doc_id) == []
    stored: Any = index.chunks.get(ids=[written[1]], include=["embeddings"])["embeddings"]
    vector = [float(x) for x in stored[0]]  # the first article's own vector
    chroma: Any = index.chunks
    unfiltered = chroma.query(query_embeddings=[vector], n_results=1)
    assert unfiltered["ids"][0] == [written[1]]  # Chroma itself returns the passage
    hits = index.query(index.chunks, vector, 10, None)
    assert hits and all(h.metadata["doc_id"] != doc_id for h in hits)
    assert index.fetch(written, vector) == []
    store.sync(force=True)  # the keyword index rebuilt from the vector index as it is
    assert not set(written) & set(keywords.entries())
    assert all(item not in written for item, _ in keywords.search(tokenize(FIRST_QUESTION), 20))


def assert_comes_back_whole(
    embedder: Any, data_dir: Path, path: Path, doc_id: str, total: int, status: IngestStatus
) -> None:
    kb = open_knowledge_base(embedder, view(data_dir) / "index")
    assert kb.check().ok
    assert kb._index.passage_count(doc_id) == 0  # rolled back on open
    assert all(not c.chunk_id.startswith(doc_id) for c in kb.answer(FIRST_QUESTION).citations)
    result = IngestPipeline(kb).ingest_file(path)
    assert result.status is status and result.chunk_count == total
    assert len(kb.chunks(doc_id)) == total
    assert [d.file_name for d in kb.documents()].count(LONG) == 1
    answer = kb.answer(LAST_QUESTION)
    assert answer.decision == Decision.ANSWER
    assert answer.citations[0].document == LONG and "十一个月" in answer.citations[0].text
    assert kb.check().ok


@pytest.mark.parametrize("batches", [1, 2], ids=["after-one-batch", "after-two-batches"])
def test_a_document_killed_mid_write_is_not_listed_not_searched_and_comes_back_whole(
    data_dir: Path, long_law: Path, e5_embedder: object, e5_model_dir: Path, batches: int
) -> None:
    doc_id, total, code = ingest_killed(
        data_dir, e5_model_dir, e5_embedder, long_law, lambda n: n >= batches * UPSERT_BATCH
    )
    assert code == -signal.SIGKILL
    assert_half_written_is_invisible(e5_embedder, data_dir, doc_id, total)
    assert_comes_back_whole(e5_embedder, data_dir, long_law, doc_id, total, IngestStatus.ADDED)


def test_sigterm_mid_write_undoes_the_version_before_the_process_exits(
    data_dir: Path, long_law: Path, e5_embedder: object, e5_model_dir: Path
) -> None:
    doc_id, total, code = ingest_killed(
        data_dir, e5_model_dir, e5_embedder, long_law, lambda n: n > 0, signal.SIGTERM
    )
    assert code == 128 + signal.SIGTERM
    index, _, store = raw_library(e5_embedder, data_dir)
    assert index.passage_count(doc_id) == 0 and index.pending.all() == []
    assert store.check().ok
    assert_comes_back_whole(e5_embedder, data_dir, long_law, doc_id, total, IngestStatus.ADDED)


def test_a_replacement_killed_mid_write_leaves_the_old_version_answering(
    data_dir: Path, long_law: Path, e5_embedder: object, e5_model_dir: Path
) -> None:
    old_path = write_long_law(data_dir.parent / LONG, 12, last=OLD_LAST)
    kb = open_knowledge_base(e5_embedder, view(data_dir) / "index")  # type: ignore[arg-type]
    old = IngestPipeline(kb).ingest_file(old_path).document
    del kb
    doc_id, total, code = ingest_killed(
        data_dir, e5_model_dir, e5_embedder, long_law, lambda n: n > 0
    )
    assert code == -signal.SIGKILL
    _, _, store = raw_library(e5_embedder, data_dir)
    before = store.find_by_file(LONG)  # even before the library is repaired
    assert before is not None and before.doc_id == old.doc_id
    kb = open_knowledge_base(e5_embedder, view(data_dir) / "index")  # type: ignore[arg-type]
    assert kb.find_by_file(LONG).doc_id == old.doc_id  # type: ignore[union-attr]
    assert len(kb.chunks(old.doc_id)) == len(parse_file(old_path).chunks)
    answer = kb.answer(LAST_QUESTION)
    assert answer.citations[0].document == LONG and "六个月" in answer.citations[0].text
    del kb
    assert_comes_back_whole(e5_embedder, data_dir, long_law, doc_id, total, IngestStatus.REPLACED)
