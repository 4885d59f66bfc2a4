"""Answers that know what is in force: the real embedder, Chroma and keyword index over four
documents of the shipped library (the 2017 standardisation law and its 1990 regulation, the
metrology law and the 1987 compulsory-verification measures)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from core.answers import Decision, EscalationReason
from core.document_status import DocumentStatus
from core.errors import DocumentNotFound
from ingest.pipeline import IngestPipeline
from knowledge.answering import open_knowledge_base

pytestmark = pytest.mark.integration

LAWS = Path(__file__).resolve().parents[2] / "library" / "laws"
SLICE = [
    LAWS / "L02_标准化法_2017.md",
    LAWS / "L09_标准化法实施条例_1990.md",
    LAWS / "L03_计量法_2018.md",
    LAWS / "L13_强制检定的工作计量器具检定管理办法_1987.md",
]
STANDARDS = "企业标准要不要备案"
METROLOGY = "个体户可以自己修秤吗"


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5_embedder):
    root = tmp_path_factory.mktemp("status-kb")
    kb = open_knowledge_base(e5_embedder, root)
    assert not IngestPipeline(kb).ingest_paths(SLICE).errors
    return root


@pytest.fixture
def root(built, tmp_path):
    shutil.copytree(built, tmp_path / "kb")
    return tmp_path / "kb"


@pytest.fixture
def kb(root, e5_embedder):
    return open_knowledge_base(e5_embedder, root)


def doc_id(kb, prefix: str) -> str:
    return next(d.doc_id for d in kb.documents() if d.file_name.startswith(prefix))


def test_every_citation_shows_its_status_and_an_older_text_says_the_newer_prevails(kb) -> None:
    answer = kb.answer(STANDARDS)
    assert answer.decision is Decision.ANSWER
    assert all(c.status == DocumentStatus.IN_FORCE for c in answer.citations)
    assert "（现行有效）" in answer.text
    if answer.citations[0].document.startswith("L09"):
        assert "早于《标准化法》（2017年），两者规定不一致的，以后者为准" in answer.text


def test_a_pending_document_is_cited_with_the_day_it_takes_effect(kb) -> None:
    kb.set_document(doc_id(kb, "L03"), {"date_effective": f"{date.today().year + 2}-01-01"})
    answer = kb.answer(METROLOGY)
    pending = [c for c in answer.citations if c.document.startswith("L03")]
    assert pending and pending[0].status == DocumentStatus.PENDING
    label = f"尚未生效，自{date.today().year + 2}年1月1日起施行"
    assert pending[0].status_label == label
    assert label in answer.text


def test_a_superseded_best_source_without_successor_is_escalated_with_the_reason(kb) -> None:
    l13 = doc_id(kb, "L13")
    kb.set_document(l13, {"superseded_by": ("市场监管总局公告第99号",)})
    answer = kb.answer("哪些计量器具要强制检定")
    if answer.decision is Decision.ESCALATE:
        assert answer.reason is EscalationReason.OUTDATED
        assert "《强制检定的工作计量器具检定管理办法》已被市场监管总局公告第99号代替" in answer.text
        assert "库中没有代替它的现行文件" in answer.text
    else:  # answered from a document in force instead
        assert not answer.citations[0].document.startswith("L13")
    # with its successor in the library the answer goes on, saying so
    kb.set_document(l13, {"superseded_by": ("L03_计量法_2018.md",)})
    answer = kb.answer("哪些计量器具要强制检定")
    assert answer.decision is Decision.ANSWER
    assert "已被《计量法》代替" in answer.text


def test_fields_persist_for_another_worker_and_passages_are_untouched(kb, root, e5_embedder):
    l09 = doc_id(kb, "L09")
    chunks = kb.chunks(l09)
    kb.set_document(l09, {"date_repealed": "2020-01-01", "status_note": "测试"})
    other = open_knowledge_base(e5_embedder, root)
    doc = other.documents_by_id()[l09]
    assert (doc.date_repealed, doc.status_note) == ("2020-01-01", "测试")
    assert other.chunks(l09) == chunks
    assert not other.check().problems
    kb.set_document(l09, {"date_repealed": None})
    assert open_knowledge_base(e5_embedder, root).get(l09).date_repealed is None
    with pytest.raises(DocumentNotFound):
        kb.set_document("0123456789abcdef", {"date_repealed": "2020-01-01"})


def test_a_new_version_of_the_file_keeps_the_status_an_admin_set(kb, tmp_path) -> None:
    l09 = doc_id(kb, "L09")
    kb.set_document(l09, {"superseded_by": ("L02_标准化法_2017.md",), "checked_on": "2026-06-01"})
    copy = tmp_path / "L09_标准化法实施条例_1990.md"
    copy.write_text(SLICE[1].read_text("utf-8") + "\n（校对稿）\n", encoding="utf-8")
    result = IngestPipeline(kb).ingest_file(copy)
    assert result.status == "replaced"
    doc = kb.find_by_file("L09_标准化法实施条例_1990.md")
    assert doc.doc_id != l09
    assert (doc.superseded_by, doc.checked_on) == (("L02_标准化法_2017.md",), "2026-06-01")
