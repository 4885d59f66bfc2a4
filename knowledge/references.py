"""Explicit references in a question: an article of a named law, or a document number (文号).

"产品质量法第26条", "认证认可条例第二十八条", "市监质发34号文", "市监质发〔2021〕34号" point at one
clause or one document; the desk looks them up directly instead of searching for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.numerals import chinese_to_int

_ARTICLE = re.compile(r"第?\s*([0-9]{1,3}|[零〇一二两三四五六七八九十百千]{1,6})\s*条")
_DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fff]{2,8}?[发函字办令])\s*[〔\[(（【]?\s*(\d{4})?\s*[〕\])）】]?\s*第?\s*(\d{1,4})\s*号"
)
_TITLE_NOISE = re.compile(r"^中华人民共和国|[（(][^）)]*[）)]$")


def short_title(title: str) -> str:
    """产品质量法 from 中华人民共和国产品质量法（2018年修正）: what people call a law."""
    previous = None
    while previous != title:
        previous = title
        title = _TITLE_NOISE.sub("", title).strip()
    return title


@dataclass(frozen=True, slots=True)
class ArticleRef:
    number: int
    law: str | None  # the short title named in the question, if any


@dataclass(frozen=True, slots=True)
class DocNumberRef:
    prefix: str  # 市监质发
    year: str | None
    number: str


def find_article_refs(question: str, law_names: list[str]) -> list[ArticleRef]:
    """Article numbers in the question, each with the law named just before it (if any)."""
    refs = []
    for match in _ARTICLE.finditer(question):
        raw = match.group(0)
        if not raw.startswith("第") and not match.group(1).isdigit():
            continue  # "三条" alone is too ambiguous ("这三条规定")
        number = chinese_to_int(match.group(1))
        if number is None:
            continue
        before = question[: match.start()]
        named = [name for name in law_names if name and name in before]
        law = max(named, key=lambda n: (before.rfind(n), len(n))) if named else None
        refs.append(ArticleRef(number, law))
    return refs


def find_doc_number_refs(question: str) -> list[DocNumberRef]:
    return [
        DocNumberRef(m.group(1), m.group(2), m.group(3)) for m in _DOC_NUMBER.finditer(question)
    ]


def doc_number_matches(ref: DocNumberRef, doc_number: str | None) -> bool:
    """Whether a document's 文号 is the one referred to (the year may be left out)."""
    if not doc_number:
        return False
    found = find_doc_number_refs(doc_number)
    return any(
        f.prefix.endswith(ref.prefix[-4:])
        and f.number == ref.number
        and (ref.year is None or f.year == ref.year)
        for f in found
    )
