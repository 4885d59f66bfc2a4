"""The outline of a Chinese official text: headings, articles and the paragraphs under them.

Headings, from the outside in: appendices (附件), markdown ``#`` headings, 第X编, 第X章, 第X节,
then the numbered headings of notices (一、 → （一） → 1. → （1）) and short standalone or bold
lines. Articles (第X条) are units of their own: every paragraph after an article label belongs to
that article (its 款 and list items) until the next article or heading. Inside an article a
numbered line is a list item, never a heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.numerals import NUMERAL_CHARS, chinese_to_int
from ingest.dates import find_dates, is_date_line

_N = f"[{NUMERAL_CHARS}\\d]"
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_BOLD_LINE = re.compile(r"^(?:\*\*|__)(.+?)(?:\*\*|__)$")
_PART = re.compile(rf"^(第{_N}+)\s*([编章节])(?:\s+|(?=\S))(.*)$")
_ARTICLE = re.compile(
    rf"^(第{_N}+条(?:之[一二三四五六七八九十]+)?)(?:[ 　]+|(?![的规款中所、，。之]))"
)
_APPENDIX = re.compile(r"^(附件\s*\d*|附录\s*\d*|附表\s*\d*|附)\s*(?:[:：]\s*(.*)|$)")
_ENUMERATED = (  # (pattern, rank); rank orders the heading levels
    (re.compile(r"^([一二三四五六七八九十]+)\s*[、.．]\s*"), 40),
    (re.compile(r"^[（(]\s*([一二三四五六七八九十]+)\s*[）)]\s*"), 41),
    (re.compile(r"^(\d{1,2})\s*[.．、](?!\d)\s*"), 42),
    (re.compile(r"^[（(]\s*(\d{1,2})\s*[）)]\s*"), 43),
)
_ENUM_LABEL = {40: "{}、", 41: "（{}）", 42: "{}.", 43: "（{}）"}
_PART_RANK = {"编": 20, "章": 21, "节": 22}
_APPENDIX_RANK = 1
_MD_RANK_BASE = 1  # markdown levels 1-6 → ranks 2-7
_STANDALONE_RANK = 50
_MAX_HEADING = 40  # a heading line is at most this long
_MAX_STANDALONE = 24  # an unnumbered heading line is at most this long
_MAX_LEAD = 40  # an inline heading (（一）加强组织领导。…) is at most this long
_STOPS = "。！？；"
_NOT_HEADING = re.compile(r"[。！？；，,：:、]")
_NOT_LEAD = re.compile(r"[！？；，,：:]")


@dataclass(slots=True)
class Block:
    """Consecutive paragraphs under one heading path, inside one article or none."""

    section: tuple[str, ...]
    article: str | None = None
    article_no: int | None = None
    paragraphs: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Outline:
    """A document cut into blocks; ``lines`` is the clean text, headings as plain lines."""

    blocks: tuple[Block, ...]
    lines: tuple[str, ...]


def article_label(line: str) -> tuple[str, int | None] | None:
    """``第二十六条 生产者…`` → ``("第二十六条", 26)``; ``None`` when the line starts no article."""
    match = _ARTICLE.match(line)
    if not match:
        return None
    label = match.group(1)
    number = chinese_to_int(label[1 : label.index("条")])
    return label, number


def part_heading(line: str) -> tuple[str, int] | None:
    """``第五章 罚则`` / ``第一章 总 则`` → ``("第五章 罚则", rank)`` (spaces inside the name go)."""
    match = _PART.match(line)
    if not match or len(line) > _MAX_HEADING or any(stop in line for stop in _STOPS):
        return None
    name = re.sub(r"\s+", "", match.group(3))
    label = f"{match.group(1)}{match.group(2)}"
    return (f"{label} {name}" if name else label), _PART_RANK[match.group(2)]


def enumerated(line: str) -> tuple[str, str, int] | None:
    """Split a numbered line into ``(normalised label, rest, rank)``: ``(二) 探索…`` →
    ``("（二）", "探索…", rank)``."""
    for pattern, rank in _ENUMERATED:
        match = pattern.match(line)
        if match:
            return _ENUM_LABEL[rank].format(match.group(1)), line[match.end() :], rank
    return None


def inline_heading(rest: str) -> tuple[str, str] | None:
    """``加强组织领导。要精心组织…`` → ``("加强组织领导", "要精心组织…")``: a short lead phrase
    ending at the first 。 with more text after it."""
    stop = rest.find("。")
    if stop <= 0 or stop > _MAX_LEAD or _NOT_LEAD.search(rest[:stop]):
        return None
    body = rest[stop + 1 :].strip()
    return (rest[:stop], body) if body else None


def is_body_line(line: str) -> bool:
    """A line of running text (long, or ending a sentence), as opposed to a title-like line."""
    return len(line) > _MAX_STANDALONE or line[-1] in _STOPS or line[-1] == "："


def is_standalone_heading(line: str, following: str | None) -> bool:
    """A short unpunctuated line followed by running text: ``核心阅读``, ``严标准——`` (not
    a dated line such as ``1987年2月1日 国家计量局发布``)."""
    return (
        following is not None
        and len(line) <= _MAX_STANDALONE
        and not _NOT_HEADING.search(line.rstrip("—-"))
        and not any(start == 0 for start, _, _ in find_dates(line))
        and is_body_line(following)
    )


def closing_start(lines: list[str]) -> int:
    """Index where the signature block (issuing bodies and the dating line) begins, or
    ``len(lines)`` when the document has none near its end."""
    tail = max(len(lines) - 12, 0)
    for index in range(len(lines) - 1, tail - 1, -1):
        if is_date_line(lines[index]):
            start = index
            while (
                start - 1 >= tail
                and len(lines[start - 1]) <= _MAX_STANDALONE
                and not _NOT_HEADING.search(lines[start - 1])
                and not article_label(lines[start - 1])
            ):
                start -= 1
            return start
    return len(lines)


def signatories(lines: list[str]) -> list[str]:
    """The issuing bodies named in the signature block (the lines above the dating line)."""
    start = closing_start(lines)
    block = lines[start:]
    names = []
    for line in block:
        if is_date_line(line):
            break
        names.append(line)
    return names


class _Builder:
    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []
        self.blocks: list[Block] = []
        self.article: tuple[str, int | None] | None = None

    def heading(self, label: str, rank: int) -> None:
        while self.stack and self.stack[-1][0] >= rank:
            self.stack.pop()
        self.stack.append((rank, label))
        self.article = None

    def paragraph(self, text: str) -> None:
        section = tuple(label for _, label in self.stack)
        article, number = self.article or (None, None)
        last = self.blocks[-1] if self.blocks else None
        if last and last.section == section and last.article == article:
            last.paragraphs.append(text)
        else:
            self.blocks.append(Block(section, article, number, [text]))


def plain_line(line: str) -> str:
    """A line without markdown heading or bold markers (``## 第一章 总则`` → ``第一章 总则``)."""
    if md := _MD_HEADING.match(line):
        return md.group(2).strip()
    if bold := _BOLD_LINE.match(line):
        return bold.group(1).strip()
    return line.strip()


def outline(lines: list[str]) -> Outline:
    """Cut clean lines into blocks with their heading path and article; the signature block
    at the end (issuing bodies, date, attachments list) sits under no heading."""
    built = _Builder()
    closing = closing_start(lines)
    for index, line in enumerate(lines):
        if index == closing:
            built.stack.clear()
            built.article = None
        if index >= closing:
            built.paragraph(plain_line(line))
        else:
            following = lines[index + 1] if index + 1 < len(lines) else None
            _place(built, line, following)
    return Outline(tuple(built.blocks), tuple(plain_line(line) for line in lines))


def _place(built: _Builder, line: str, following: str | None) -> None:
    """Add one line to the outline as a heading, an article start or a paragraph."""
    text = plain_line(line)
    if part := part_heading(text):
        built.heading(*part)
    elif md := _MD_HEADING.match(line):
        built.heading(text, _MD_RANK_BASE + len(md.group(1)))
    elif _BOLD_LINE.match(line) and len(text) <= _MAX_HEADING:
        numbered = enumerated(text)
        built.heading(text, numbered[2] if numbered else _STANDALONE_RANK)
    elif appendix := _APPENDIX.match(text):
        built.heading(re.sub(r"\s+", "", appendix.group(1)), _APPENDIX_RANK)
        if appendix.group(2):
            built.paragraph(appendix.group(2))
    elif article := article_label(text):
        built.article = article
        built.paragraph(text)
    elif built.article is None and (numbered := enumerated(text)):
        _place_numbered(built, text, numbered, following)
    elif built.article is None and is_standalone_heading(text, following):
        built.heading(text.rstrip("—-").strip(), _STANDALONE_RANK)
    else:
        built.paragraph(text)


def _place_numbered(
    built: _Builder, text: str, numbered: tuple[str, str, int], following: str | None
) -> None:
    """A numbered line outside an article: a heading line (``二、重点任务``), a paragraph with
    an inline heading (``（三）深入开展…服务。推广…``), or a plain list item."""
    label, rest, rank = numbered
    if rest and following and len(text) <= _MAX_HEADING and not _NOT_HEADING.search(rest):
        follow = enumerated(plain_line(following))
        if is_body_line(following) or (follow is not None and follow[2] != rank):
            built.heading(label + rest, rank)
            return
    if lead := inline_heading(rest):
        built.heading(label + lead[0], rank)
        built.paragraph(lead[1])
        return
    built.paragraph(text)
