"""The retrieval math and text functions of the knowledge base."""

from __future__ import annotations

import pytest

from core.stats import percentile
from core.text import compact
from knowledge.judgement import find_cues, small_talk
from knowledge.references import (
    doc_number_matches,
    find_article_refs,
    find_doc_number_refs,
    short_title,
)
from knowledge.scoring import weighted_coverage
from knowledge.text import bigram_coverage, normalize_question, split_sentences
from knowledge.tokens import expand_query, tokenize


def test_weighted_coverage_weights_rare_tokens():
    idf = {"秤": 3.0, "检定": 2.0, "要": 0.1}.get
    assert weighted_coverage(["秤", "检定"], "电子秤须强制检定", lambda t: idf(t) or 1) == 1
    half = weighted_coverage(["秤", "要"], "要求", lambda t: idf(t) or 1)
    assert half == pytest.approx(0.1 / 3.1)
    assert weighted_coverage([], "x", lambda t: 1.0) == 0.0
    # an alias of a question word counts as the word
    aliases = {"3c": ("强制性产品认证",)}.get
    assert (
        weighted_coverage(["3c"], "实行强制性产品认证", lambda t: 1.0, lambda t: aliases(t) or ())
        == 1.0
    )


def test_percentile_interpolates():
    assert percentile([], 50) is None
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 90) == 5


def test_normalisation_simplifies_and_strips_pinyin():
    assert normalize_question("質(zhì)量認(rèn)證") == "质量认证"
    assert normalize_question("ＧＢ／Ｔ　１９００１") == "GB/T 19001"
    assert compact("文 号: 市监质发〔2021〕34号") == "文号市监质发202134号"
    assert bigram_coverage("实现利润增长", "平均实现利润增长18563元") == 1.0
    assert bigram_coverage("完全无关", "质量基础设施") == 0.0


def test_sentences_split_after_chinese_stops():
    assert split_sentences("甲。乙；丙！丁") == ["甲。", "乙；", "丙！", "丁"]


def test_tokens_keep_domain_terms_and_expand_aliases():
    tokens = tokenize("我卖的充电宝要不要3C认证？")
    assert "3c" in tokens and "认证" in tokens
    assert "我" not in tokens and "要不要" not in tokens
    expanded = expand_query(tokens)
    assert "强制性产品认证" in expanded and "ccc" in expanded
    assert "市监质发〔2021〕34号" in tokenize("市监质发〔2021〕34号文")
    assert "质量基础设施" in tokenize("质量基础设施一站式服务")


@pytest.mark.parametrize(
    ("question", "legal_term"),
    [
        ("顾客七天内能退货吗", "消费者"),
        ("顾客七天内能退货吗", "七日"),
        ("开认证公司要谁批准", "认证机构"),
        ("检测公司出假报告", "检验检测机构"),
        ("超市卖过期的酸奶", "食品"),
    ],
)
def test_everyday_words_reach_the_words_of_the_law(question, legal_term):
    assert legal_term in expand_query(tokenize(question))


def test_a_thing_reaches_its_class_and_the_class_not_its_things():
    assert "食品" in expand_query(tokenize("月饼抽检不合格怎么办"))
    assert "计量器具" in expand_query(tokenize("加油机要定期检定吗"))
    expanded = expand_query(tokenize("食品抽检不合格怎么办"))
    assert "月饼" not in expanded and "啤酒" not in expanded


def test_article_and_doc_number_references():
    refs = find_article_refs("产品质量法第26条说的啥", ["产品质量法", "计量法"])
    assert [(r.number, r.law) for r in refs] == [(26, "产品质量法")]
    assert find_article_refs("认证认可条例第二十八条", ["认证认可条例"])[0].number == 28
    assert find_article_refs("这三条规定", ["计量法"]) == []
    ref = find_doc_number_refs("市监质发34号文讲了什么")[0]
    assert doc_number_matches(ref, "市监质发〔2021〕34号")
    assert not doc_number_matches(ref, "市监质发〔2021〕35号")
    assert find_article_refs("计量法第一百零五条", ["计量法"])[0].number == 105
    assert short_title("中华人民共和国产品质量法（2018年修正）") == "产品质量法"


@pytest.mark.parametrize(
    "question",
    [
        "我们这批奶粉已经卖出去3000罐了，检测说不合格，现在怎么办",
        "客户说我们的插座烧坏了他家电视，要我们赔2万，该不该赔",
        "我们厂的产品被抽检不合格了，是不是一定要召回，还是整改就行",
        "我们出的检测报告和客户送检的结果对不上，客户要退货，谁说了算",
    ],
)
def test_case_specific_questions_show_incident_and_decision_cues(question):
    cues = find_cues(normalize_question(question))
    assert cues.incident and cues.decision


@pytest.mark.parametrize(
    "question",
    [
        "菜市场卖菜用的电子秤要不要送去检定？",
        "进货要不要查生产许可证",
        "产品要召回 顾客寄回来的运费谁出",
        "我们小厂检测设备太贵买不起 政策上有啥办法没",
        "食品上市销售前要检验吗",
    ],
)
def test_general_questions_show_no_case(question):
    cues = find_cues(normalize_question(question))
    assert not (cues.incident and cues.decision) and not cues.dispute


def test_a_request_to_recommend_a_company_is_a_cue():
    assert find_cues("帮我推荐一家靠谱的咨询公司").recommend
    assert not find_cues("咨询公司能代办认证吗").recommend


def test_an_exam_items_options_are_not_the_askers_words():
    item = "店铺提供预制食品时，可以采取以下哪些方案？ A: 提供配料表。 B: 提供生产者的联系方式。"
    assert not find_cues(item).all()
    assert find_cues("请提供生产者的联系方式").recommend


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("你好", "greeting"),
        ("您好！在吗？", "greeting"),
        ("hello", "greeting"),
        ("谢谢老师", "thanks"),
        ("好的，谢谢！", "thanks"),
        ("嗯嗯", "thanks"),
        ("你好，充电宝要做3C认证吗", None),
        ("谢谢，那电子秤多久检定一次", None),
        ("3C", None),
        ("好", None),
    ],
)
def test_small_talk_is_only_a_whole_message_of_greeting_or_thanks(message, kind):
    assert small_talk(normalize_question(message)) == kind


def test_what_the_asker_reads_before_the_sources_stays_within_the_budget():
    import prompts
    from core.answers import Citation
    from knowledge.composer import Candidate, compose

    sentence = (
        "生产者应当对其生产的产品质量负责，产品质量应当检验合格，不得以不合格产品冒充合格产品。"
    )
    passages = [
        Citation(
            document=f"L0{i}.md",
            title=f"中华人民共和国产品质量法（2018年修正）第{i}部分",
            chunk_id=f"c{i}",
            text=sentence * 8,
            score=1.0,
            article=f"第{i}条",
        )
        for i in (1, 2)
    ]
    chosen = [Candidate(c, 1.0) for c in passages]
    text, cited = compose(chosen, passages, ["产品质量", "合格"], lambda _: 1.0, budget=300)
    body = text.split(prompts.text("answer.sources_title"))[0].strip()
    assert len(body) <= 300
    assert cited[0].quote and cited[0].quote in body


def test_an_article_stored_as_several_passages_is_listed_as_one_source():
    import prompts
    from core.answers import Citation
    from knowledge.composer import Candidate, compose

    def passage(chunk: str, article: str) -> Citation:
        return Citation(
            document="L10.md",
            title="中华人民共和国食品安全法",
            chunk_id=chunk,
            text=f"{article} 经营超过保质期的食品的，没收违法所得。",
            score=1.0,
            article=article,
        )

    parts = [passage("a", "第一百二十四条"), passage("b", "第一百二十四条")]
    sources = [*parts, passage("c", "第三十四条")]
    text, cited = compose([Candidate(parts[0], 1.0)], sources, ["保质期"], lambda _: 1.0)
    listed = text.split(prompts.text("answer.sources_title"))[1].strip().splitlines()
    assert listed == [
        "1. 《中华人民共和国食品安全法》第一百二十四条",
        "2. 《中华人民共和国食品安全法》第三十四条",
    ]
    assert [c.chunk_id for c in cited] == ["a", "b", "c"]  # every passage is still cited
