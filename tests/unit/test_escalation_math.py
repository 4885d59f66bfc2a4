"""The small pure functions of escalation: backoff, percentiles, topics, question similarity,
domain inference, settings entries."""

from __future__ import annotations

import pytest

from core.answers import Citation
from core.errors import ConfigurationError
from core.people import Channel, Domain, UserRef
from core.stats import percentile
from escalation.backoff import Backoff
from escalation.domains import infer_domain
from escalation.figures import cluster_topics
from escalation.records import (
    citations_from_json,
    citations_to_json,
    domains_from_text,
    domains_to_text,
    parse_person_spec,
)
from escalation.similarity import dice, normalise, same_question


# --- backoff ----------------------------------------------------------------------------------
def test_backoff_doubles_until_the_cap() -> None:
    plain = Backoff(base=5, factor=2, cap=60, jitter=0)
    assert [plain.delay(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert plain.delay(0) == 0
    assert plain.delay(10_000) == 60


def test_backoff_jitter_is_deterministic_bounded_and_spread() -> None:
    jittered = Backoff(base=10, factor=2, cap=600, jitter=0.2)
    delays = [jittered.delay(3, key=str(i)) for i in range(50)]
    assert all(32 <= d <= 40 for d in delays)
    assert len(set(delays)) > 40
    assert jittered.delay(3, key="7") == jittered.delay(3, key="7")


# --- percentiles and topics -----------------------------------------------------------------------
def test_percentile_interpolates_linearly() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([4, 1, 3, 2], 90) == pytest.approx(3.7)
    assert percentile([7], 90) == 7
    assert percentile([10, 20], 0) == 10 and percentile([10, 20], 100) == 20
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_alike_questions_form_one_topic_most_frequent_first() -> None:
    questions = [
        "出口玩具要做什么认证",
        "电子秤需要强制检定吗",
        "电子秤要不要强制检定",
        "电子秤是否需要强制检定？",
        "出口的玩具要做什么认证？",
        "食品标签怎么写",
    ]
    assert cluster_topics(questions) == [
        ("电子秤需要强制检定吗", 3),
        ("出口玩具要做什么认证", 2),
        ("食品标签怎么写", 1),
    ]
    assert cluster_topics(questions, limit=1) == [("电子秤需要强制检定吗", 3)]
    assert cluster_topics([]) == []


# --- similarity -------------------------------------------------------------------------------
def test_normalising_ignores_width_case_spaces_and_punctuation() -> None:
    assert normalise("ＧＢ／Ｔ 19001？ 认证！") == "gbt19001认证"


def test_the_same_question_reworded_slightly_is_recognised() -> None:
    assert same_question("电子秤需要强制检定吗？", "电子秤需要强制检定吗")
    assert same_question("我们厂的电子秤需要强制检定吗", "我们厂电子秤需要强制检定吗？")
    assert not same_question("电子秤需要强制检定吗", "食品标签上要写什么")
    assert dice("", "电子秤") == 0.0
    assert dice("秤", "秤") == 1.0


def test_a_question_asked_again_in_traditional_script_is_the_same_question() -> None:
    assert normalise("電子秤需要強制檢定嗎？") == normalise("电子秤需要强制检定吗")
    assert same_question("電子秤需要強制檢定嗎", "电子秤需要强制检定吗？")
    assert normalise("貿(mào)易") == "贸易"  # a pinyin annotation is not part of the question


# --- domains ----------------------------------------------------------------------------------
def _cite(document: str, title: str) -> Citation:
    return Citation(document, title, "c", "text", 0.3)


@pytest.mark.parametrize(
    ("question", "domain"),
    [
        ("加油机需要强制检定吗？", Domain.METROLOGY),
        ("企业标准需要备案吗？", Domain.STANDARDS),
        ("哪些产品要做3C认证？", Domain.CERTIFICATION),
        ("检测报告上没有CMA章有效吗？", Domain.TESTING),
        ("散装白酒的保质期怎么标？", Domain.FOOD),
        ("产品出现缺陷要召回吗？", Domain.QUALITY),
        ("你好", Domain.OTHER),
    ],
)
def test_the_wording_points_at_a_domain(question: str, domain: Domain) -> None:
    assert infer_domain(question) is domain


def test_the_sources_decide_when_the_wording_does_not() -> None:
    sources = [
        _cite("L04_认证认可条例_2023.md", "中华人民共和国认证认可条例"),
        _cite("L03_计量法_2018.md", "中华人民共和国计量法"),
    ]
    assert infer_domain("这个怎么办？", sources) is Domain.CERTIFICATION
    assert infer_domain("这个怎么办？", sources[::-1]) is Domain.METROLOGY
    assert infer_domain("电子秤要检定吗？", sources) is Domain.METROLOGY


# --- settings entries and stored values ---------------------------------------------------------
def test_a_settings_entry_names_the_user_and_their_domains() -> None:
    user, domains = parse_person_spec("telegram:123=metrology|food")
    assert user == UserRef(Channel.TELEGRAM, "123")
    assert domains == (Domain.METROLOGY, Domain.FOOD)
    assert parse_person_spec(" WeChat:o-AbC ") == (UserRef(Channel.WECHAT, "o-AbC"), ())
    for bad in ("123", "telegram:", "sms:1", "telegram:1=chemistry"):
        with pytest.raises(ConfigurationError):
            parse_person_spec(bad)


def test_domains_and_citations_survive_storage() -> None:
    domains = (Domain.FOOD, Domain.METROLOGY, Domain.FOOD)
    assert domains_to_text(domains) == "metrology|food"
    assert domains_from_text("metrology|food") == (Domain.METROLOGY, Domain.FOOD)
    cite = Citation("a.md", "甲", "a:1", "正文", 0.5, article="第一条", faq_id=None)
    stored = citations_to_json([cite])
    stored[0]["added_later"] = "ignored"
    assert citations_from_json(stored) == (cite,)
    assert citations_from_json(None) == ()
