"""Retrieval and the decision over in-memory indexes and the fake embedder: the candidate
pool, its features, and the path from a question to a verdict."""

from __future__ import annotations

import pytest

from knowledge import decision
from knowledge.index_records import context_text
from knowledge.judgement import find_cues
from knowledge.models import load_model
from knowledge.question import analyse
from knowledge.retrieval import FEATURES, Retriever
from knowledge.tokens import tokenize
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.indexes import MemoryKeywordIndex, MemoryVectorIndex

PASSAGES = [
    ("jl-9", "第九条 县级以上人民政府计量行政部门对用于贸易结算的计量器具实行强制检定。", 9),
    ("jl-17", "第十七条 个体工商户可以制造、修理简易的计量器具。", 17),
    ("sp-34", "第三十四条 禁止生产经营超过保质期的食品、食品添加剂。", 34),
    ("sp-124", "第一百二十四条 生产经营超过保质期的食品，处五万元以上十万元以下罚款。", 124),
]


@pytest.fixture
def retriever():
    embedder = FakeEmbedder()
    vectors, keywords = MemoryVectorIndex(), MemoryKeywordIndex()
    for cid, text, number in PASSAGES:
        doc = "jl" if cid.startswith("jl") else "sp"
        meta = {
            "doc_id": doc,
            "file_name": f"{doc}.md",
            "title": doc,
            "article_no": number,
            "article": text.split(" ")[0],
        }
        context = context_text(meta, text)
        vectors.add(cid, text, meta, embedder.embed_documents([context])[0])
        keywords.add(cid, doc, tokenize(context))
    return embedder, Retriever(vectors, keywords)


def _pool(embedder, retriever, question, laws=None):
    q = retriever.query(analyse(question), embedder.embed_query(question))
    return q, retriever.candidates(q, laws or {})


def test_every_candidate_carries_every_feature(retriever):
    embedder, r = retriever
    _, pool = _pool(embedder, r, "超过保质期的食品罚多少")
    assert pool and all(set(c.features) == set(FEATURES) for c in pool)
    by_id = {c.chunk_id: c for c in pool}
    assert by_id["sp-124"].features["kind_match"] == 1.0  # holds an amount
    assert by_id["sp-34"].features["kind_match"] == 0.0
    assert max(c.features["bm25_full"] for c in pool) == 1.0
    assert all(c.features["dense_gap"] <= 0 for c in pool)


def test_an_exam_item_is_searched_option_by_option(retriever):
    embedder, r = retriever
    _, pool = _pool(
        embedder,
        r,
        "下列说法正确的是？ A. 个体工商户可以修理简易计量器具 B. 超过保质期的食品可以打折销售",
    )
    options = {c.chunk_id: c.features["bm25_option"] for c in pool}
    assert options["jl-17"] > 0 and options["sp-34"] > 0


def test_a_named_article_is_found_and_ranked_first(retriever):
    embedder, r = retriever
    _, pool = _pool(embedder, r, "计量法第十七条讲的是什么", {"计量法": "jl"})
    ranked = decision.rank(pool, load_model().ranker)
    assert ranked[0].chunk_id == "jl-17" and ranked[0].features["referenced"] == 1.0


def test_from_question_to_verdict_with_the_shipped_model(retriever):
    embedder, r = retriever
    model = load_model()
    q, pool = _pool(embedder, r, "超市卖过期食品怎么罚")
    ranked = decision.rank(pool, model.ranker)
    logits = (1.0, 1.0, 1.0, 1.0)
    verdict = decision.decide(q.parts, ranked, find_cues(q.text), logits, model)
    assert 0.0 <= verdict.probability <= 1.0
    assert set(verdict.signals) == set(decision.FEATURES)
    assert verdict.answer == (verdict.probability >= model.threshold)
