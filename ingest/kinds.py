"""What kind of document a text is (法律, 行政法规, 部门规章, 通知, 标准, 新闻…), from its title,
issuer, 文号 and a few tell-tale signs in the text."""

from __future__ import annotations

import re

from core.documents import DocumentKind

_TRAILING_NOTE = re.compile(r"[（(][^（()）]*[）)]\s*$")
_STANDARD_CODE = re.compile(r"\b(?:GB|GB/T|GB/Z|DB\d{2}(?:/T)?|[A-Z]{2}/T|T/[A-Z]+)\s*\d", re.I)
_STANDARD_TITLE = re.compile(r"(?:国家|行业|地方|团体|企业)标准$|^(?:GB|DB\d{2})")
_LAW = re.compile(r"(?<!办)法$")
_REGULATION = re.compile(r"(?:条例|实施细则)$")
_RULE = re.compile(r"(?:办法|规定|规则|细则)$")
_NOTICE = re.compile(
    r"(?:通知|意见|指导意见|方案|决定|公告|通告|通报|批复|函|纲要|规划|指南|要点|计划|实施方案)$"
)
_FAQ = re.compile(r"问答|答问|答疑|问题解答|你问我答|常见问题")
_NEWS_SIGNS = re.compile(
    r"记者|新闻网|新闻中心|文章来源|核心阅读|延伸阅读|通讯员|日电|日讯|\d+日讯|报道|消费视窗"
)
_NPC = "全国人民代表大会"


def title_base(title: str) -> str:
    """A title without its trailing note: ``中华人民共和国产品质量法（2018年修正）`` →
    ``中华人民共和国产品质量法``."""
    base = title.strip()
    while _TRAILING_NOTE.search(base):
        base = _TRAILING_NOTE.sub("", base).strip()
    return base


def classify(
    title: str,
    *,
    issuer: str | None = None,
    doc_number: str | None = None,
    text: str = "",
    category: str | None = None,
    is_post: bool = False,
) -> DocumentKind:
    """The kind of a document.

    ``category`` is a hint from its source (``regulation`` for 行政法规, ``rule`` for 部门规章);
    ``is_post`` says the file is a blog/news post (it had front matter).
    """
    base = title_base(title)
    if _STANDARD_CODE.search(doc_number or "") or _STANDARD_CODE.match(base):
        return DocumentKind.STANDARD
    if _STANDARD_TITLE.search(base):
        return DocumentKind.STANDARD
    if _FAQ.search(base):
        return DocumentKind.FAQ
    if _LAW.search(base) and (base.startswith("中华人民共和国") or _NPC in (issuer or "")):
        return DocumentKind.LAW
    if _REGULATION.search(base):
        return DocumentKind.REGULATION
    if _RULE.search(base):
        if category == DocumentKind.REGULATION.value or issuer == "国务院":
            return DocumentKind.REGULATION
        return DocumentKind.RULE
    if _NOTICE.search(base):
        return DocumentKind.NOTICE
    if is_post or _NEWS_SIGNS.search(text[:5000]):
        return DocumentKind.NEWS
    return DocumentKind.OTHER
