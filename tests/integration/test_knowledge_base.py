"""The knowledge base with the real embedder, real Chroma and the real keyword index, over a
slice of the shipped library (three documents, so it stays quick)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import prompts
from core.answers import Decision, EscalationReason, FaqEntry
from core.errors import ModelMismatch
from ingest.pipeline import IngestPipeline, parse_file
from knowledge.answering import open_knowledge_base
from knowledge.text import normalize_question

pytestmark = pytest.mark.integration

LIBRARY = Path(__file__).resolve().parents[2] / "library"
SLICE = [
    LIBRARY / "laws" / "L03_计量法_2018.md",
    LIBRARY / "laws" / "L13_强制检定的工作计量器具检定管理办法_1987.md",
    LIBRARY / "seeds" / "001_56e88020fa1795a7.txt",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5_embedder):
    """An index of the slice, built once for the module; tests copy it before writing."""
    root = tmp_path_factory.mktemp("kb")
    kb = open_knowledge_base(e5_embedder, root)
    report = IngestPipeline(kb).ingest_paths(SLICE)
    assert not report.errors
    return root


@pytest.fixture
def kb(built, tmp_path, e5_embedder):
    shutil.copytree(built, tmp_path / "kb")
    return open_knowledge_base(e5_embedder, tmp_path / "kb")


def test_answers_with_the_clause_and_its_source(kb):
    answer = kb.answer("个体户可以自己修秤吗")
    assert answer.decision == Decision.ANSWER
    first = answer.citations[0]
    assert first.document == "L03_计量法_2018.md"
    assert "个体工商户可以制造、修理简易的计量器具" in first.text
    assert first.article and first.article.startswith("第")
    assert "《" in answer.text and "个体工商户" in answer.text
    assert 0.5 <= answer.confidence <= 1.0


def test_traditional_question_is_answered_in_simplified(kb):
    answer = kb.answer("個體戶可以自己修秤嗎")
    assert answer.decision == Decision.ANSWER
    assert "个体工商户" in answer.text and "個" not in answer.text


def test_document_number_finds_the_notice(kb):
    answer = kb.answer("市监质发34号文的发布日期是哪天")
    assert answer.decision == Decision.ANSWER
    assert answer.citations[0].document == "001_56e88020fa1795a7.txt"
    assert "2021年5月24日" in answer.citations[0].text


def test_article_reference_hits_the_article(kb):
    answer = kb.answer("计量法第九条讲的是什么")
    assert answer.citations[0].article == "第九条"


@pytest.mark.parametrize(
    "question",
    [
        "明天北京会下雨吗？",
        "感冒发烧了吃什么药好得快",
        "小规模纳税人增值税税率是多少",
        "公司不给缴社保还拖欠工资，我能申请劳动仲裁吗",
    ],
)
def test_the_domain_model_escalates_what_is_outside_the_library(kb, e5_embedder, question):
    """Weather, medicine, tax and labour: out of the library's subjects by the fitted domain
    model (character n-grams and the embedding), with no word list involved."""
    text = normalize_question(question)
    domain = kb.model.domain
    views = domain.ngram_logit(text), domain.vector_logit(e5_embedder.embed_query(text))
    assert min(views) < 0  # one of the two views at least says it is outside
    answer = kb.answer(question)
    assert answer.decision == Decision.ESCALATE
    assert answer.reason == EscalationReason.NO_MATCH
    assert answer.text == prompts.text("answer.escalate_no_match")  # the reason, no ticket claimed


@pytest.mark.parametrize("question", ["我卖的充电宝要不要3C认证？", "店里的电子秤多久检定一次"])
def test_the_domain_model_keeps_the_library_s_subjects(kb, e5_embedder, question):
    text = normalize_question(question)
    domain = kb.model.domain
    assert max(domain.ngram_logit(text), domain.vector_logit(e5_embedder.embed_query(text))) > 0


@pytest.mark.parametrize("question", ["小规模纳税人增值税税率是多少", "明天深圳会下雨吗"])
def test_out_of_scope_is_escalated(kb, question):
    answer = kb.answer(question)
    assert answer.decision == Decision.ESCALATE
    assert answer.reason in {EscalationReason.NO_MATCH, EscalationReason.LOW_CONFIDENCE}
    assert answer.text == prompts.text(f"answer.escalate_{answer.reason.value}")  # the reason only


def test_own_case_is_escalated_with_related_documents(kb):
    answer = kb.answer("我们店的一批电子秤被查出来没检定，已经罚了，现在怎么办")
    assert answer.decision == Decision.ESCALATE
    assert answer.reason == EscalationReason.NEEDS_EXPERT
    assert answer.citations, "the reply still names the documents that look relevant"


def test_empty_question_is_refused(kb):
    assert kb.answer(" ？？ ").reason == EscalationReason.INVALID


@pytest.mark.parametrize(("message", "word"), [("你好！", "您好"), ("谢谢老师", "不客气")])
def test_a_greeting_or_thanks_gets_a_friendly_word_not_an_expert(kb, message, word):
    answer = kb.answer(message)
    assert answer.decision == Decision.ESCALATE and answer.reason == EscalationReason.INVALID
    assert word in answer.text and not answer.citations


def test_replacing_a_file_swaps_its_chunks(kb, tmp_path):
    original = kb.find_by_file("L13_强制检定的工作计量器具检定管理办法_1987.md")
    changed = tmp_path / original.file_name
    changed.write_text(
        SLICE[1].read_text("utf-8") + "\n第十九条 本办法自公布之日起施行。\n", "utf-8"
    )
    parsed = parse_file(changed)
    kb.put(parsed.document, parsed.chunks)
    assert kb.get(original.doc_id) is None and kb.chunks(original.doc_id) == []
    now = kb.find_by_file(original.file_name)
    assert now.doc_id == parsed.document.doc_id
    assert len(kb.chunks(now.doc_id)) == len(parsed.chunks)
    assert len(kb.documents()) == 3


def test_remove_deletes_every_chunk_and_keyword(kb):
    doc = kb.find_by_file("L03_计量法_2018.md")
    assert kb.remove(doc.doc_id) == doc
    assert kb.get(doc.doc_id) is None and kb.chunks(doc.doc_id) == []
    answer = kb.answer("个体户可以自己修秤吗")
    assert all(c.document != doc.file_name for c in answer.citations)


def test_expert_faq_is_served_to_a_reworded_question_and_deduplicated(kb):
    entry = FaqEntry(
        "",
        "充电宝需要做3C认证吗",
        "需要。移动电源已列入强制性产品认证目录。",
        ("L04_认证认可条例_2023.md",),
        "expert:1",
        "2026-11-01T00:00:00",
    )
    stored = kb.add_faq(entry)
    answer = kb.answer("我卖充电宝，要不要做3C认证？")
    assert answer.decision == Decision.ANSWER and answer.from_expert
    assert answer.faq_id == stored.faq_id and "专家" in answer.text
    again = kb.add_faq(replace(entry, question="充电宝要做3C认证吗", answer="需要（更新）"))
    assert again.faq_id == stored.faq_id and len(kb.faq_entries()) == 1
    assert kb.remove_faq(stored.faq_id) and not kb.answer("充电宝要做3C认证吗").from_expert


def test_search_finds_clauses_whatever_the_answer_would_be(kb):
    question = "个体户可以自己修秤吗"
    kb.add_faq(
        FaqEntry("", question, "可以，限于简易计量器具。", (), "expert:1", "2026-11-01T00:00:00")
    )
    assert kb.answer(question).from_expert  # the asker would get the expert's entry…
    found = kb.search(question, limit=3)  # …the expert looking for the clause gets clauses
    assert 1 <= len(found) <= 3 and not any(c.faq_id for c in found)
    assert found[0].document == "L03_计量法_2018.md"
    assert "个体工商户可以制造、修理简易的计量器具" in found[0].text
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert kb.search("计量", limit=2)  # one word: no clarifying round here
    assert kb.search("？？") == []


def test_an_approved_answer_outside_the_library_is_served_but_not_to_an_own_case(kb):
    tax = FaqEntry(
        "", "小规模纳税人增值税税率是多少", "按3%征收率（现行优惠为1%）。", (), "e:1", ""
    )
    kb.add_faq(tax)
    answer = kb.answer("请问小规模纳税人的增值税税率是多少？")
    assert answer.decision == Decision.ANSWER and answer.from_expert
    own_case = FaqEntry("", "我这批秤已经卖出去500台了怎么办", "先停售并召回。", (), "e:1", "")
    kb.add_faq(own_case)
    answer = kb.answer("我这批秤已经卖出去500台了，怎么办")
    assert answer.decision == Decision.ESCALATE
    assert answer.reason == EscalationReason.NEEDS_EXPERT


def test_a_second_worker_sees_writes_of_the_first(kb, tmp_path, e5_embedder):
    other = open_knowledge_base(e5_embedder, tmp_path / "kb")
    doc = kb.find_by_file("L03_计量法_2018.md")
    kb.remove(doc.doc_id)
    other.sync(force=True)
    assert all(c.document != doc.file_name for c in other.answer("个体户修秤").citations)


def test_another_model_refuses_to_mix_vectors(kb, tmp_path):
    class OtherModel:
        model_id = "another-model"

        def embed_documents(self, texts):
            return [[1.0] + [0.0] * 383 for _ in texts]

        def embed_query(self, text):
            return [1.0] + [0.0] * 383

    with pytest.raises(ModelMismatch):
        open_knowledge_base(OtherModel(), tmp_path / "kb")
