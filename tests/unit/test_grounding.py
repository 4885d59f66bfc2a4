"""The grounding check on hand-made sentences: supported ones pass, each kind of error fails."""

from __future__ import annotations

from knowledge.grounding import COVERAGE_THRESHOLD, Failure, check_sentence, negations, numbers

PASSAGES = {
    1: "第十二条 列入目录的产品，生产者应当委托经指定的认证机构进行认证。"
    "目录共包括26个产品类别，未经认证的，不得出厂、销售、进口。",
    2: "第三十条 计量器具经检定合格的，由检定单位出具检定证书，有效期为1年。",
    3: "个体工商户可以在登记的经营范围内从事经营活动，免收登记费。",
}


def test_a_sentence_drawn_from_its_passage_passes() -> None:
    verdict = check_sentence("未经认证的产品不得出厂、销售、进口。", [1], PASSAGES)
    assert verdict.ok, verdict
    assert verdict.coverage >= COVERAGE_THRESHOLD


def test_a_light_paraphrase_passes() -> None:
    verdict = check_sentence("列入目录的产品，生产者应当委托指定的认证机构认证。", [1], PASSAGES)
    assert verdict.ok, verdict


def test_a_sentence_citing_two_passages_is_covered_by_both() -> None:
    sentence = "未经认证的，不得出厂；计量器具检定合格的，出具检定证书，有效期为1年。"
    assert check_sentence(sentence, [1, 2], PASSAGES).ok
    assert not check_sentence(sentence, [1], PASSAGES).ok


def test_a_swapped_number_fails() -> None:
    verdict = check_sentence("目录共包括28个产品类别。", [1], PASSAGES)
    assert not verdict.ok
    assert verdict.reason == Failure.NUMBER
    assert verdict.detail == "28"


def test_a_number_inside_a_longer_one_is_not_found() -> None:
    assert check_sentence("有效期为1年。", [2], PASSAGES).ok
    assert check_sentence("有效期为10年。", [2], PASSAGES).reason in (
        Failure.NUMBER,
        Failure.LOW_COVERAGE,
    )
    assert check_sentence("目录共包括2个产品类别。", [1], PASSAGES).reason == Failure.NUMBER


def test_a_chinese_numeral_the_passage_lacks_fails() -> None:
    verdict = check_sentence("依据第十三条，生产者应当委托认证机构进行认证。", [1], PASSAGES)
    assert not verdict.ok
    assert verdict.reason == Failure.NUMBER


def test_a_flipped_negation_fails() -> None:
    verdict = check_sentence("列入目录的产品，生产者不应当委托认证机构进行认证。", [1], PASSAGES)
    assert not verdict.ok
    assert verdict.reason == Failure.NEGATION
    assert verdict.detail.startswith("不")


def test_a_negation_the_passage_lacks_fails() -> None:
    verdict = check_sentence("计量器具经检定合格的，无需出具检定证书。", [2], PASSAGES)
    assert not verdict.ok
    assert verdict.reason == Failure.NEGATION


def test_an_off_topic_citation_fails() -> None:
    verdict = check_sentence("未经认证的产品不得出厂、销售、进口。", [3], PASSAGES)
    assert not verdict.ok
    assert verdict.reason == Failure.LOW_COVERAGE


def test_an_unsupported_sentence_fails() -> None:
    verdict = check_sentence("建议您咨询当地税务机关办理退税。", [2], PASSAGES)
    assert verdict.reason == Failure.LOW_COVERAGE


def test_citations_must_exist_and_be_supplied() -> None:
    assert check_sentence("未经认证的不得出厂。", [], PASSAGES).reason == Failure.NO_CITATION
    unknown = check_sentence("未经认证的不得出厂。", [1, 7], PASSAGES)
    assert unknown.reason == Failure.UNKNOWN_CITATION
    assert unknown.detail == "7"
    assert check_sentence("。", [1], PASSAGES).reason == Failure.EMPTY


def test_numbers_and_negations_are_read_from_the_text() -> None:
    assert numbers("包括26个类别，有效期1.5年，第一百二十六条") == ["26", "1.5", "一百二十六"]
    assert negations("不得出厂无需认证") == ["不得出", "无需"]


def test_a_single_numeral_with_its_measure_word_is_a_number() -> None:
    assert numbers("自收到商品之日起七日内，赔偿三倍，有效期一年") == ["七日", "三倍", "一年"]
    assert numbers("统一标准，一律不得，一个经营者，之一") == []


def test_a_swapped_single_numeral_fails() -> None:
    passages = {1: "消费者有权自收到商品之日起七日内退货，且无需说明理由。"}
    assert check_sentence("消费者有权自收到商品之日起七日内退货。", [1], passages).ok
    verdict = check_sentence("消费者有权自收到商品之日起三日内退货。", [1], passages)
    assert verdict.reason == Failure.NUMBER
    assert verdict.detail == "三日"


def test_a_chinese_numeral_inside_a_longer_one_is_not_found() -> None:
    passages = {1: "依照本法第一百二十条的规定，处货值金额十三倍罚款。"}
    assert check_sentence("依照本法第二十条的规定处罚款。", [1], passages).detail == "二十"
    assert check_sentence("处货值金额三倍罚款。", [1], passages).detail == "三倍"
    assert check_sentence("处货值金额十三倍罚款。", [1], passages).ok


def test_a_dropped_negation_fails() -> None:
    verdict = check_sentence("未经认证的，可以出厂、销售、进口。", [1], PASSAGES)
    assert not verdict.ok
    assert verdict.reason == Failure.NEGATION
    assert verdict.detail == "不得出厂"


def test_a_phrase_the_passage_also_writes_plainly_may_stand_without_negation() -> None:
    passages = {1: "检验合格的方可出厂。检验不合格的不得出厂。"}
    assert check_sentence("检验合格的方可出厂。", [1], passages).ok
