"""Which expert domain a question belongs to (a pure function over its wording and sources)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.answers import Citation
from core.people import Domain

# Words that point at a domain when they appear in the question (or in a source's title).
# Order matters only to break ties: the more specific domains come first.
# fmt: off
KEYWORDS: dict[Domain, tuple[str, ...]] = {
    Domain.FOOD: (
        "食品", "食用", "保质期", "添加剂", "餐饮", "农产品", "保健食品", "白酒", "酒类",
        "饮料", "乳制品", "婴幼儿配方", "食品经营", "食品生产", "SC证", "标签",
    ),
    Domain.METROLOGY: (
        "计量", "检定", "校准", "衡器", "电子秤", "计量器具", "加油机", "量值", "法定计量单位",
        "强制检定", "计价秤", "缺斤短两", "定量包装",
    ),
    Domain.TESTING: (
        "检验检测", "检测机构", "检验机构", "检测报告", "检验报告", "资质认定", "CMA", "实验室",
        "送检", "抽检", "检测", "检验",
    ),
    Domain.CERTIFICATION: (
        "认证", "认可", "3C", "CCC", "ISO", "体系认证", "认证证书", "认证机构", "CNAS", "自愿性认证",
    ),
    Domain.STANDARDS: (
        "标准", "国标", "行标", "团体标准", "企业标准", "地方标准", "GB/T", "GB", "标准化",
        "执行标准", "标准号", "备案",
    ),
    Domain.QUALITY: (
        "质量", "产品质量", "质量管理", "缺陷", "召回", "生产许可", "许可证", "假冒", "伪劣",
        "三包", "售后", "投诉", "质量问题", "消费者",
    ),
}
# fmt: on

QUESTION_WEIGHT = 2.0  # a word in the question counts this much
SOURCE_WEIGHT = 1.0  # a word in a cited document's title counts this much, scaled by rank


def keyword_score(text: str, words: Iterable[str]) -> int:
    """How many of ``words`` occur in ``text`` (case-insensitive for Latin letters)."""
    haystack = text.upper()
    return sum(1 for word in words if word.upper() in haystack)


def infer_domain(question: str, sources: Sequence[Citation] = ()) -> Domain:
    """The most likely expert domain for ``question`` retrieved with ``sources``.

    Each domain scores ``QUESTION_WEIGHT`` per keyword found in the question, plus, for the
    i-th cited source (best first), ``SOURCE_WEIGHT / (i+1)`` per keyword in its title and file
    name. The highest score wins; ties go to the earlier domain in :data:`KEYWORDS`; no keyword
    at all gives ``Domain.OTHER``.
    """
    best, best_score = Domain.OTHER, 0.0
    for domain, words in KEYWORDS.items():
        score = QUESTION_WEIGHT * keyword_score(question, words)
        for rank, source in enumerate(sources):
            label = f"{source.title} {source.document}"
            score += SOURCE_WEIGHT / (rank + 1) * keyword_score(label, words)
        if score > best_score:
            best, best_score = domain, score
    return best
