"""`qadesk docs check [--repair] [--json]` on a library damaged by hand: passages lost from a
document, orphaned passages, keyword items missing or pointing nowhere, a write whose process
died. The check names each, exits 1; ``--repair`` fixes them, says what it did and which file
to ingest again; afterwards the library is consistent and the file comes back whole. A
document an older desk left half written (its card first, no passage count) is rolled back
when the library is opened."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from core.answers import Decision
from ingest.pipeline import IngestPipeline, IngestStatus
from knowledge.answering import open_knowledge_base
from knowledge.index_records import card_id
from knowledge.keyword_index import KeywordIndex
from knowledge.pending import PendingWrite, this_writer
from knowledge.tokens import tokenizer_id
from knowledge.vector_index import CHUNK_COUNT, ChromaIndex

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
L03 = REPO / "library" / "laws" / "L03_计量法_2018.md"
L13 = REPO / "library" / "laws" / "L13_强制检定的工作计量器具检定管理办法_1987.md"
NOTICE = REPO / "library" / "seeds" / "001_56e88020fa1795a7.txt"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, e5_embedder: Any) -> Path:
    data = tmp_path_factory.mktemp("check") / "data"
    kb = open_knowledge_base(e5_embedder, data / "index")
    assert not IngestPipeline(kb).ingest_paths([L03, L13, NOTICE]).errors
    return data


@pytest.fixture
def data_dir(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, e5_model_dir: Path
) -> Path:
    data = tmp_path / "data"
    shutil.copytree(base, data)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QADESK_DATA_DIR", str(data))
    monkeypatch.setenv("QADESK_EMBEDDING_MODEL", str(e5_model_dir))
    monkeypatch.setenv("QADESK_LOG_LEVEL", "WARNING")
    return data


def indexes(embedder: Any, data: Path) -> tuple[ChromaIndex, KeywordIndex]:
    index = ChromaIndex(embedder, path=data / "index" / "chroma")
    return index, KeywordIndex(data / "index" / "keywords", tokenizer_id=tokenizer_id())


def doc_id_of(index: ChromaIndex, path: Path) -> str:
    return str(index.cards(path.name)[0].metadata["doc_id"])


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def docs_check(*options: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["docs", "check", *options])
    return result.exit_code, result.stdout


def damage(embedder: Any, data: Path) -> dict[str, str]:
    """Break the library in five ways, as a crash or a careless hand would."""
    index, keywords = indexes(embedder, data)
    law, rule, notice = (doc_id_of(index, p) for p in (L03, L13, NOTICE))
    lost = [h.item_id for h in index.document_chunks(law)][-3:]
    index.chunks.delete(ids=lost)  # 1. three passages of the metrology law lost
    vector = embedder.embed_documents(["无主的段落"])[0]
    orphan_meta = {"doc_id": "0rphan0000000000", "file_name": "gone.md", "is_card": False}
    index.upsert_vectors(  # 2. passages of a version nobody committed
        index.chunks, ["0rphan0000000000:0000"], ["无主的段落"], [orphan_meta], [vector]
    )
    half = "5ca1ab1e00000000"  # 3. a write whose process died after one passage
    index.upsert_vectors(
        index.chunks,
        [f"{half}:0000"],
        ["写了一半的段落"],
        [{"doc_id": half, "file_name": "half.md", "is_card": False, "ordinal": 0}],
        [vector],
    )
    host, _ = this_writer()
    now = time.time()
    index.pending.record(PendingWrite(half, "half.md", 40, host, dead_pid(), now, now))
    version = keywords.version
    keywords.replace_group(rule, [])  # 4. the keyword items of one document lost
    keywords.replace_group("ghost00000000000", [("ghost00000000000:0000", ["质量"])])  # 5.
    keywords.save(version)
    return {"law": law, "rule": rule, "notice": notice, "half": half}


def test_check_reports_each_damage_and_repair_fixes_it(data_dir: Path, e5_embedder: Any) -> None:
    assert docs_check() == (0, docs_check()[1])
    assert "the library is consistent" in docs_check()[1]
    ids = damage(e5_embedder, data_dir)

    code, out = docs_check()
    assert code == 1
    assert f"problem [incomplete] L03_计量法_2018.md ({ids['law']})" in out
    assert "32 of its 35 passages are in the vector index" in out
    assert "--repair will remove this version; then ingest L03_计量法_2018.md again" in out
    assert "problem [orphan_passages]" in out and "0rphan0000000000" in out
    assert "problem [interrupted_write] half.md" in out and "stopped after 1 of 40" in out
    assert (
        f"problem [keyword_missing] L13_强制检定的工作计量器具检定管理办法_1987.md ({ids['rule']})"
        in out
    )
    assert "problem [keyword_orphan]" in out and "ghost00000000000" in out
    assert "3 keyword items of L03_计量法_2018.md with no committed record" in out
    assert "6 problems; run `qadesk docs check --repair`" in out

    code, out = docs_check("--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert sorted(p["code"] for p in report["problems"]) == [
        "incomplete",
        "interrupted_write",
        "keyword_missing",
        "keyword_orphan",
        "keyword_orphan",
        "orphan_passages",
    ]

    code, out = docs_check("--repair")
    assert code == 0, out
    assert "repaired: removed the incomplete version of L03_计量法_2018.md" in out
    assert "repaired: an ingest of half.md stopped after 1 of 40 passages; rolled that" in out
    assert "repaired: deleted 1 passage of version 0rphan0000000000" in out
    assert "repaired: rebuilt the keyword index from the vector index" in out
    assert "the library is consistent" in out and "ingest again: L03_计量法_2018.md" in out
    assert docs_check()[0] == 0

    kb = open_knowledge_base(e5_embedder, data_dir / "index")
    assert [d.file_name for d in kb.documents()] == [NOTICE.name, L13.name]
    result = IngestPipeline(kb).ingest_file(L03)
    assert result.status is IngestStatus.ADDED and len(kb.chunks(ids["law"])) == 35
    answer = kb.answer("个体户可以自己修秤吗")
    assert answer.decision == Decision.ANSWER and answer.citations[0].document == L03.name
    assert kb.check().ok


def strip_count(index: ChromaIndex, doc_id: str) -> None:
    """Rewrite a card as a desk without passage counts wrote it."""
    got: Any = index.chunks.get(
        ids=[card_id(doc_id)], include=["documents", "metadatas", "embeddings"]
    )
    meta = {k: v for k, v in got["metadatas"][0].items() if k != CHUNK_COUNT}
    index.chunks.delete(ids=[card_id(doc_id)])
    index.upsert_vectors(
        index.chunks, [card_id(doc_id)], got["documents"], [meta], [list(got["embeddings"][0])]
    )


def test_a_document_an_older_desk_left_half_written_is_rolled_back_on_open(
    data_dir: Path, e5_embedder: Any
) -> None:
    index, keywords = indexes(e5_embedder, data_dir)
    law, rule = doc_id_of(index, L03), doc_id_of(index, L13)
    strip_count(index, law)
    strip_count(index, rule)  # intact: it is kept, and its count recorded
    index.chunks.delete(ids=[h.item_id for h in index.document_chunks(law)][20:])
    version = keywords.version
    keywords.replace_group(law, [])  # the old desk wrote the keywords after every passage
    keywords.save(version)
    code, out = docs_check()
    assert code == 1 and "keyword_missing" in out
    assert "note [no_chunk_count] L13_强制检定的工作计量器具检定管理办法_1987.md" in out

    kb = open_knowledge_base(e5_embedder, data_dir / "index")
    assert [d.file_name for d in kb.documents()] == [NOTICE.name, L13.name]
    card = kb._index.card(rule)
    assert card is not None and card.metadata[CHUNK_COUNT] == len(kb.chunks(rule)) == 20
    assert any(f.code == "incomplete" and f.file_name == L03.name for f in kb.recovered)
    assert kb.check().ok
    result = IngestPipeline(kb).ingest_file(L03)
    assert result.status is IngestStatus.ADDED and result.chunk_count == 35
