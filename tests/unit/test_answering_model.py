"""The learned answering: question analysis, the fitted model's file, ranking, the decision, fitting."""

from __future__ import annotations

import random

import pytest

from core.answers import EscalationReason
from knowledge import decision
from knowledge.answering import Prepared, worth_quoting_second
from knowledge.fitting import Example, assign_folds, choose_threshold, fit, fit_domain
from knowledge.judgement import Cues, find_cues
from knowledge.models import AnswerModel, Logistic, load_model
from knowledge.question import analyse, answer_kinds, focus_of, has_kind, named_laws, split_options
from knowledge.retrieval import FEATURES, Scored


# --- question analysis -----------------------------------------------------------------------
def test_the_focus_of_a_story_is_the_sentence_that_asks():
    story = (
        "我在商场买了一件衣服，回家试穿后发现尺码偏小，标签和小票都还在，店员说特价商品概不退换，"
        "当时也没有人告诉我这一点。第二天我带着衣服回到店里，店长也是同样的说法。"
        "请问商家可以拒绝退货吗？"
    )
    assert len(story) > 80
    assert focus_of(story) == "请问商家可以拒绝退货吗？"
    assert focus_of("充电宝要3C认证吗") == "充电宝要3C认证吗"


def test_exam_options_are_split_from_the_stem():
    stem, options = split_options(
        "下列说法正确的是？ A. 适用于食品生产 B. 适用于食品添加剂 C. 适用于外包装 D. 以上都是"
    )
    assert stem == "下列说法正确的是？"
    assert options == ("适用于食品生产", "适用于食品添加剂", "适用于外包装", "以上都是")
    assert split_options("我买了A款手机") == ("我买了A款手机", ())
    assert analyse("下列哪项正确 (A)甲 (B)乙 (C)丙").is_exam


def test_what_a_question_asks_for_and_whether_a_passage_holds_it():
    assert answer_kinds("电子秤多久检定一次") == ("period",)
    assert "amount" in answer_kinds("过期食品罚多少")
    assert has_kind("检定周期为一年", "period") and not has_kind("应当检定", "period")
    assert has_kind("处五万元以上十万元以下罚款", "amount")


def test_named_laws():
    assert named_laws("中华人民共和国刑法第一百四十三条的内容是") == ("中华人民共和国刑法",)
    assert named_laws("依《产品质量法》，下列说法") == ("产品质量法",)
    assert named_laws("充电宝要3C认证吗") == ()
    assert named_laws("下列说法中正确的是") == ()
    assert named_laws("这种做法的规定是什么") == ()
    assert named_laws("《侵害消费者权益行为处罚办法》第五条") == ("侵害消费者权益行为处罚办法",)


# --- the model and the decision -------------------------------------------------------------
def _logistic(names, weights, intercept=0.0):
    n = len(names)
    return Logistic(tuple(names), (0.0,) * n, (1.0,) * n, tuple(weights), intercept)


def _model(threshold=0.5, decision_weights=None):
    shipped = load_model()
    ranker = _logistic(FEATURES, [1.0 if f == "coverage" else 0.0 for f in FEATURES])
    weights = decision_weights or [1.0 if f == "top_coverage" else 0.0 for f in decision.FEATURES]
    return AnswerModel(
        ranker, shipped.domain, _logistic(decision.FEATURES, weights, -0.5), threshold, shipped.case
    )


def _candidate(cid, coverage, *, doc="d1", referenced=0.0):
    features = dict.fromkeys(FEATURES, 0.0) | {"coverage": coverage, "referenced": referenced}
    return Scored(cid, f"text {cid}", {"doc_id": doc, "file_name": f"{doc}.md"}, features=features)


NO_CUES = Cues((), (), (), ())
IN_SCOPE = (2.0, 2.0, 1.0, 1.0)


def test_ranking_follows_the_fitted_weights_and_a_named_clause_comes_first():
    model = _model()
    pool = [_candidate("a", 0.2), _candidate("b", 0.9), _candidate("c", 0.5)]
    assert [c.chunk_id for c in decision.rank(pool, model.ranker)] == ["b", "c", "a"]
    pool.append(_candidate("named", 0.0, referenced=1.0))
    assert decision.rank(pool, model.ranker)[0].chunk_id == "named"


def test_the_decision_answers_above_the_threshold_and_names_why_it_does_not():
    model = _model()
    parts = analyse("电子秤多久检定一次")
    good = decision.rank([_candidate("a", 3.0), _candidate("b", 0.1)], model.ranker)
    weak = decision.rank([_candidate("a", 0.0)], model.ranker)
    assert decision.decide(parts, good, NO_CUES, IN_SCOPE, model).answer
    verdict = decision.decide(parts, weak, NO_CUES, IN_SCOPE, model)
    assert not verdict.answer and verdict.reason == EscalationReason.LOW_CONFIDENCE
    outside = decision.decide(parts, weak, NO_CUES, (-1.0, -2.0, 0.0, 0.0), model)
    assert outside.reason == EscalationReason.NO_MATCH
    case = find_cues("我们这批货已经被抽检不合格了，怎么办")
    assert decision.decide(parts, weak, case, IN_SCOPE, model).reason == (
        EscalationReason.NEEDS_EXPERT
    )
    answered_case = decision.decide(parts, good, case, IN_SCOPE, model)
    assert answered_case.answer and answered_case.case  # the rule, with an expert on offer


def test_a_request_to_recommend_a_company_is_never_answered():
    model = _model()
    ranked = decision.rank([_candidate("a", 5.0)], model.ranker)
    cues = find_cues("推荐一家认证公司")
    assert not decision.decide(analyse("推荐一家认证公司"), ranked, cues, IN_SCOPE, model).answer


def test_a_question_about_laws_the_library_does_not_hold_is_out_of_its_subjects():
    model = _model(threshold=0.0)  # would answer anything
    ranked = decision.rank([_candidate("a", 5.0)], model.ranker)
    parts = analyse("刑法第一百四十三条的内容是什么")
    other = decision.decide(parts, ranked, NO_CUES, IN_SCOPE, model, laws=(0, 1))
    assert not other.answer and other.reason == EscalationReason.NO_MATCH
    # naming one of the library's laws beside it keeps the question in scope
    assert decision.decide(parts, ranked, NO_CUES, IN_SCOPE, model, laws=(1, 1)).answer


def test_the_model_file_round_trips_and_the_shipped_one_loads():
    shipped = load_model()
    again = AnswerModel.from_json(shipped.to_json())
    assert again == shipped
    assert 0.0 < shipped.threshold < 1.0
    assert shipped.ranker.names == FEATURES and shipped.decision.names == decision.FEATURES
    # the n-gram model scores a text as scikit-learn's vectoriser would
    assert isinstance(shipped.domain.ngram_logit("充电宝3C认证"), float)


def test_choose_threshold_weighs_a_wrong_answer_above_a_right_one():
    probabilities = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    correct = [True, True, False, True, False, False]
    # answering the top two gains 2; adding 0.7 (wrong, −WRONG_COST = −2) and 0.6 (+1) loses
    assert 0.7 < choose_threshold(probabilities, correct) < 0.8
    assert choose_threshold([0.3, 0.2], [False, False]) == 1.0  # answer nothing


def test_folds_are_stratified_by_type_and_file():
    items = [{"type": t, "_file": f} for t in ("answerable", "out_of_scope") for f in "ab"] * 10
    fold = assign_folds(items, 5, seed=1)
    for f in range(5):
        members = [items[i] for i, g in enumerate(fold) if g == f]
        assert len(members) == 8
        assert sum(m["type"] == "answerable" for m in members) == 4


def test_a_second_clause_is_quoted_when_the_ranking_cannot_tell_them_apart():
    def passage(article, score, coverage):
        meta = {"doc_id": "d1", "article": article}
        return Scored(article, "text", meta, features={"coverage": coverage}, score=score)

    best = passage("第五条", 3.0, 0.9)
    assert worth_quoting_second(best, passage("第九条", 2.2, 0.6))
    assert not worth_quoting_second(best, passage("第九条", 1.5, 0.9))  # clearly behind
    assert not worth_quoting_second(best, passage("第九条", 2.9, 0.3))  # about something else
    assert not worth_quoting_second(best, passage("第五条", 3.0, 0.9))  # the same clause


# --- fitting on synthetic data ----------------------------------------------------------------
def _synthetic_examples(n=80, seed=3):
    """Questions whose right passage has high coverage; out-of-scope ones talk of weather; cases
    of the asker's own ask what to do about a lot that failed."""
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        inside = i % 2 == 0
        case = i % 6 == 5
        text = (
            "电子秤检定周期多久"
            if inside
            else "我们那批货被抽检不合格怎么办"
            if case
            else "明天会不会下雨要带伞吗"
        )
        pool = [_candidate(f"{i}-{j}", rng.random() * 0.5, doc=f"d{j}") for j in range(6)]
        if inside:
            pool[rng.randrange(6)] = Scored(
                f"{i}-gold",
                "计量器具检定周期为一年",
                {"doc_id": "law", "file_name": "law.md"},
                features=dict.fromkeys(FEATURES, 0.0) | {"coverage": 0.8 + rng.random() * 0.2},
            )
        item = {
            "question": text,
            "type": "answerable"
            if inside
            else "ambiguous_or_needs_expert"
            if case
            else "out_of_scope",
            "source_doc": "law.md" if inside else None,
            "evidence": "计量器具检定周期为一年" if inside else "",
        }
        vector = [1.0, 0.0] if inside else [0.5, 0.5] if case else [0.0, 1.0]
        prepared = Prepared(text, text, analyse(text), vector, pool, NO_CUES, ())
        examples.append(Example(item, prepared))
    return examples


def test_fitting_learns_the_ranking_the_domain_and_the_decision():
    examples = _synthetic_examples()
    model = fit(examples, folds=4)
    assert model.ranker.weights()["coverage"] > 0
    inside, outside = examples[0].prepared, examples[1].prepared
    assert outside.text.startswith("明天")
    assert model.domain.ngram_logit(inside.text) > 0 > model.domain.ngram_logit(outside.text)
    assert model.domain.vector_logit(inside.vector) > 0 > model.domain.vector_logit(outside.vector)
    for ex in examples[:10]:
        ranked = decision.rank(ex.prepared.pool, model.ranker)
        logits = model.domain.logits(ex.prepared.text, ex.prepared.vector) + model.case.logits(
            ex.prepared.text, ex.prepared.vector
        )
        verdict = decision.decide(ex.prepared.parts, ranked, NO_CUES, logits, model)
        assert verdict.answer == (ex.kind == "answerable")
        if verdict.answer:
            assert ranked[0].chunk_id.endswith("gold")


def test_the_domain_model_needs_both_kinds_of_question():
    examples = [ex for ex in _synthetic_examples() if ex.kind == "answerable"]
    with pytest.raises(ValueError, match="both kinds"):
        fit_domain(examples)


def test_an_embedding_of_another_size_falls_back_to_the_ngram_view():
    domain = load_model().domain
    text = "充电宝要3C认证吗"
    assert domain.logits(text, [0.1] * 7) == (domain.ngram_logit(text),) * 2


def test_a_long_question_is_embedded_by_its_opening_and_what_it_asks():
    from knowledge.question import embedding_text

    short = analyse("充电宝要3C认证吗")
    assert embedding_text(short) == short.text
    story = analyse(
        "我在县城开了一家小超市。" + "平时进货很多，盘点也不及时。" * 10 + "请问卖过期食品怎么罚？"
    )
    text = embedding_text(story, max_chars=60)
    assert len(text) == 60
    assert text.startswith("我在县城开了一家小超市") and text.endswith("请问卖过期食品怎么罚？")


def test_the_same_questions_fit_the_same_domain_model():
    """Words that always come together give n-gram columns an L1 fit can pick among; the fit
    must pick the same ones every time (``qadesk fit`` twice on the same files, the same file)."""
    inside = ["计量", "检定", "认证", "标签", "抽检", "召回"]
    outside = ["天气", "医院", "税务", "工资", "商标", "离婚"]
    rng = random.Random(7)
    examples = []
    for i in range(80):
        ours = i % 2 == 0
        text = "".join(
            rng.choice(inside if (rng.random() < 0.7) == ours else outside) for _ in range(4)
        )
        vector = [rng.random(), rng.random()]
        prepared = Prepared(text, text, analyse(text), vector, [], NO_CUES, ())
        examples.append(Example({"type": "answerable" if ours else "out_of_scope"}, prepared))
    first = fit_domain(examples)
    assert all(fit_domain(examples) == first for _ in range(4))
