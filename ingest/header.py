"""Labelled metadata lines of web pages and law files: ``文 号: 市监质发〔2021〕34号``,
``来源:中国经济网  发布时间:2021-11-05  阅读次数:``, ``（文章来源：中国市场监管新闻网）``.

Such a line is taken out of the text and its fields kept for the metadata step. Several
fields may share one line; a leading date-time and share buttons around them are ignored.
"""

from __future__ import annotations

import re

from ingest.dates import first_date

# label as written (spaces removed) → canonical field name
LABELS = {
    "标题": "title",
    "文章标题": "title",
    "名称": "title",
    "发布机构": "issuer",
    "发文机关": "issuer",
    "发文机构": "issuer",
    "发布单位": "issuer",
    "制定机关": "issuer",
    "文号": "doc_number",
    "发文字号": "doc_number",
    "发布日期": "date_issued",
    "发布时间": "date_issued",
    "发文日期": "date_issued",
    "公布日期": "date_issued",
    "成文日期": "date_written",
    "日期": "date_issued",
    "时间": "date_issued",
    "施行日期": "date_effective",
    "实施日期": "date_effective",
    "生效日期": "date_effective",
    "来源": "source",
    "文章来源": "source",
    "信息来源": "source",
    "稿件来源": "source",
    "出处": "source",
    "原文链接": "source_url",
    "原文地址": "source_url",
    "分类": "category",
    "主题分类": "category",
    "主题词": "keywords",
    "关键词": "keywords",
    "关键字": "keywords",
    "索引号": "index_no",
    "有效性": "validity",
    "作者": "author",
    "编辑": "editor",
    "责任编辑": "editor",
    "阅读次数": "views",
    "浏览次数": "views",
    "点击数": "views",
}
_LABEL = re.compile(
    "(?<![\u4e00-\u9fff])("
    + "|".join(sorted(("\\s?".join(label) for label in LABELS), key=len, reverse=True))
    + r")\s*[:：]\s*"
)
_BRACKETED = re.compile(r"^[\[【(（](.*)[\]】)）]$")
_DATETIME = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_SHARE = re.compile(r"^(?:分享(?:到\S*)?|收藏|打印|关闭|评论)$")
_MAX_LINE = 400


def parse_field_line(line: str) -> dict[str, str] | None:
    """The fields of a labelled metadata line, or ``None`` when the line is ordinary text.

    ``来源:中国经济网  分享 分享到搜狐微博`` → ``{"source": "中国经济网"}``; a leading
    date-time becomes ``date_issued`` when no dated label is present. A value runs to the next
    label; share buttons after it are dropped; empty values are kept as empty strings.
    """
    if len(line) > _MAX_LINE:
        return None
    inner = line.strip()
    bracketed = _BRACKETED.match(inner)
    if bracketed:
        inner = bracketed.group(1).strip()
    matches = list(_LABEL.finditer(inner))
    if not matches:
        return None
    prefix = inner[: matches[0].start()].strip()
    leading_date = _DATETIME.match(prefix)
    if prefix and not (leading_date and leading_date.end() == len(prefix)):
        return None
    fields: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(inner)
        words = inner[match.end() : end].split(" ")
        while words and _SHARE.match(words[-1]):
            words.pop()
        name = LABELS[re.sub(r"\s", "", match.group(1))]
        value = " ".join(words).strip()
        if not _plausible(name, value):
            return None
        fields.setdefault(name, value)
    if leading_date and "date_issued" not in fields:
        fields["date_issued"] = leading_date.group()
    return fields


def _plausible(name: str, value: str) -> bool:
    """A field value of the kind its label announces (a date for a date, not a paragraph)."""
    if name.startswith("date_") and value:
        return first_date(value) is not None
    limit = 300 if name == "source" else 120
    return len(value) <= limit


def pop_field_lines(lines: list[str]) -> tuple[list[str], dict[str, str]]:
    """Remove labelled metadata lines; return the other lines and the fields (first wins)."""
    kept: list[str] = []
    fields: dict[str, str] = {}
    for line in lines:
        parsed = parse_field_line(line)
        if parsed is None:
            kept.append(line)
            continue
        for name, value in parsed.items():
            if value and name not in fields:
                fields[name] = value
    return kept, fields
