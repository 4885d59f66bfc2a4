"""Document metadata shown in citations: title, 文号, issuer, dates, source, kind.

Sources, strongest first: labelled header fields (``文 号:``) and front matter, what the file
format says (HTML meta, DOCX properties), the promulgation lines of laws (``2018年12月29日
第十三届全国人民代表大会常务委员会第七次会议…修正``), the signature block of notices, and the
first lines of the text. The title and lines repeating it are taken out of the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.documents import DocumentKind
from core.text import CJK
from ingest.cleaning import fullwidth_punctuation
from ingest.dates import DATE_PATTERN, find_dates, first_date, is_date_line, to_iso
from ingest.kinds import classify, title_base
from ingest.sources import SourceEntry, category_kind, source_url, version_date
from ingest.structure import (
    article_label,
    closing_start,
    enumerated,
    part_heading,
    plain_line,
    signatories,
)

_BRACKETS = "[\\[［(（【〔]"
_CLOSE = "[\\]］)）】〕]"
DOC_NUMBER = re.compile(
    rf"([{CJK}A-Za-z]{{1,12}}?)\s*{_BRACKETS}\s*(\d{{4}})\s*{_CLOSE}\s*第?\s*(\d{{1,4}})\s*号"
)
_ORDER = re.compile(rf"([{CJK}]{{2,30}}?令)\s*(?:[（(]?第\s*(\d{{1,4}})\s*号[）)]?)")
_RED_HEAD = re.compile(rf"^[{CJK}、]{{2,40}}文件$")
_CHANNEL_PREFIX = re.compile(
    rf"^[{CJK}]{{0,4}}(?:快播|快报|快讯|热点|热搜|头条|速递|资讯|焦点|看点|播报|时讯|动态|观察)\s*[:：]\s*"
)
_QUOTED_TITLE = re.compile(r"《([^《》]{6,120})》")
_TITLE_ENDINGS = re.compile(r"(?:通知|意见|办法|规定|决定|方案|条例|细则|公告|通告|批复|函|法)$")
_EVENT = re.compile(r"(公布|发布|通过|批准|修正|修订|修改|施行|实施)")
_EFFECTIVE = re.compile(
    rf"本(?:法|条例|办法|细则|规定|决定|通知|意见|规则|标准|方案)自({DATE_PATTERN}|[发公印][布发]之日)"
    r"起(?:施行|实施|执行|生效)"
)
_ORDINAL = re.compile(r"第[一二三四五六七八九十]+届|第[一二三四五六七八九十百]+次(?:会议)?|会议$")
_HEAD_LINES = 15
_TAKES_EFFECT = frozenset({"施行", "实施"})
_USUAL_ISSUER = {
    DocumentKind.LAW: "全国人民代表大会常务委员会",
    DocumentKind.REGULATION: "国务院",
}


@dataclass(frozen=True, slots=True)
class Metadata:
    title: str
    kind: DocumentKind
    doc_number: str | None = None
    issuer: str | None = None
    date_issued: str | None = None
    date_effective: str | None = None
    source: str | None = None
    source_url: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One dated step in a law's history: ``(2018-12-29, "修正", "第十三届全国人民代表大会…")``."""

    date: str
    verb: str
    actor: str


def normalize_doc_number(text: str) -> str | None:
    """The first 文号 in ``text`` with the year in 〔〕: ``市监质发[2021]34号`` →
    ``市监质发〔2021〕34号``; ``None`` when there is none."""
    match = DOC_NUMBER.search(text)
    if not match:
        return None
    return f"{match.group(1)}〔{match.group(2)}〕{match.group(3)}号"


def order_number(text: str) -> str | None:
    """The first 令号 in ``text``: ``中华人民共和国国务院令第390号``."""
    match = _ORDER.search(text)
    return f"{match.group(1)}第{match.group(2)}号" if match else None


def organ_name(actor: str) -> str | None:
    """The body named in a promulgation phrase: ``第七届全国人民代表大会常务委员会第三十次会议``
    → ``全国人民代表大会常务委员会``; ``中华人民共和国国务院令第390号`` → ``国务院``."""
    actor = re.sub(r"《[^》]*》", "", actor).strip(" 　，,")
    if order := _ORDER.search(actor):
        actor = order.group(1)[:-1]
    actor = _ORDINAL.sub("", actor).strip()
    if actor.startswith("中华人民共和国") and len(actor) > len("中华人民共和国") + 1:
        actor = actor.removeprefix("中华人民共和国")
    return actor or None


def strip_channel_prefix(headline: str) -> str:
    """Drop a mirror site's channel tag before a headline: ``天天快播:精准帮扶…`` → ``精准帮扶…``."""
    return _CHANNEL_PREFIX.sub("", headline).strip()


def comparable(text: str) -> str:
    """A line reduced for comparison with the title (no spaces, quotes or book-title marks)."""
    return re.sub(r"[\s《》“”\"'#*]", "", text)


def promulgation_events(lines: list[str], title: str) -> list[Event]:
    """The dated promulgation steps written under a law's title, in order."""
    base = comparable(title_base(title))
    events: list[Event] = []
    for line in lines[:_HEAD_LINES]:
        if part_heading(line) or article_label(line):
            break
        flat = comparable(line)
        if flat.startswith(base) and base:
            flat = flat[len(base) :]
        flat = flat.lstrip("（(")
        if not re.match(r"\d{4}年|[〇零一二三四五六七八九]{4}年", flat):
            continue
        dates = find_dates(flat)
        for index, (_, end, iso) in enumerate(dates):
            stop = dates[index + 1][0] if index + 1 < len(dates) else len(flat)
            segment = flat[end:stop]
            verbs = _EVENT.findall(segment)
            if verbs:
                actor = segment[: segment.find(verbs[0])]
                events.append(Event(iso, verbs[0], actor))
    return events


def effective_date(text: str, date_issued: str | None) -> str | None:
    """The date a ``本法自…起施行`` sentence names (``发布之日`` → the issue date)."""
    match = _EFFECTIVE.search(text)
    if not match:
        return None
    return to_iso(match.group(1)) or date_issued


def choose_title(
    lines: list[str], fields: dict[str, str], hints: dict[str, str], file_name: str
) -> tuple[str, list[str]]:
    """The document title, and the lines left once the title lines are taken out."""
    title = fields.get("title") or _usable_hint(hints.get("title"))
    head = 0
    if not title:
        head = _skip_red_head(lines)
        if head < len(lines) and _looks_like_title(plain_line(lines[head])):
            title = plain_line(lines[head])
            follow = plain_line(lines[head + 1]) if head + 1 < len(lines) else ""
            if (
                not _TITLE_ENDINGS.search(title_base(title))
                and title[-1] not in "）)"
                and _TITLE_ENDINGS.search(follow)
                and len(title + follow) <= 100
            ):
                title += follow
                head += 1
            head += 1
    if not title:
        title = file_name.rsplit(".", 1)[0]
    title = fullwidth_punctuation(strip_channel_prefix(" ".join(title.split())))
    for quoted in _QUOTED_TITLE.findall(title):
        if any(comparable(line) == comparable(quoted) for line in lines[:_HEAD_LINES]):
            title = quoted
            break
    return title, _drop_title_lines(lines, title, head)


def _usable_hint(hint: str | None) -> str | None:
    if not hint or not re.search(f"[{CJK}]", hint) or hint.lower().startswith("microsoft"):
        return None
    return hint


def _skip_red_head(lines: list[str]) -> int:
    index = 0
    while index < min(len(lines), 4) and (
        _RED_HEAD.match(lines[index]) or DOC_NUMBER.fullmatch(lines[index].strip())
    ):
        index += 1
    return index


def _looks_like_title(line: str) -> bool:
    return (
        4 <= len(line) <= 100
        and line[-1] not in "。；，：:,"
        and not article_label(line)
        and not part_heading(line)
        and not enumerated(line)
    )


def _drop_title_lines(lines: list[str], title: str, head: int) -> list[str]:
    """Lines without the title's own lines: the first ``head`` lines and, near the top, any
    line repeating the title (with or without its trailing note)."""
    targets = {comparable(title), comparable(title_base(title))} - {""}
    kept: list[str] = []
    for index, line in enumerate(lines[head:], start=head):
        flat = comparable(strip_channel_prefix(plain_line(line)))
        if index < _HEAD_LINES and (
            flat in targets or _names_quoted(flat, targets) or DOC_NUMBER.fullmatch(flat)
        ):
            continue
        kept.append(line)
    return kept


def _names_quoted(flat: str, targets: set[str]) -> bool:
    """A headline announcing the document: ``市场监管总局等六部门联合发布《X》`` for title X."""
    return any(target and target in flat and len(flat) - len(target) <= 20 for target in targets)


def extract(
    lines: list[str],
    fields: dict[str, str],
    hints: dict[str, str],
    *,
    file_name: str,
    urls: list[str],
    entry: SourceEntry | None,
    is_post: bool,
) -> tuple[Metadata, list[str]]:
    """Metadata of a document and its body lines (title lines removed).

    ``fields`` are labelled header fields and front matter, ``hints`` what the file format
    said, ``urls`` bare links found on the page, ``entry`` the row of a source table naming it.
    """
    title, body = choose_title(lines, fields, hints, file_name)
    events = promulgation_events(body, title)
    text = "\n".join(body)
    doc_number = _doc_number(fields, lines, events)
    source = entry.source if entry else fields.get("source") or hints.get("source")
    kind = classify(
        title,
        issuer=fields.get("issuer"),
        doc_number=doc_number,
        text=text,
        category=category_kind(source or ""),
        is_post=is_post,
    )
    date_issued = _date_issued(title, fields, hints, events, source, body)
    return (
        Metadata(
            title=title,
            kind=kind,
            doc_number=doc_number,
            issuer=_issuer(kind, fields, hints, events, lines, body),
            date_issued=date_issued,
            date_effective=_date_effective(fields, events, text, date_issued),
            source=source,
            source_url=fields.get("source_url")
            or (urls[0] if urls else None)
            or source_url(source or ""),
        ),
        body,
    )


def _doc_number(fields: dict[str, str], lines: list[str], events: list[Event]) -> str | None:
    """文号 from the header field, a 文号 line under the title, or a law's 令号."""
    if labelled := fields.get("doc_number"):
        return normalize_doc_number(labelled) or labelled
    for line in lines[:_HEAD_LINES]:
        if DOC_NUMBER.fullmatch(line.strip()):
            return normalize_doc_number(line)
    return order_number("".join(event.actor for event in events)) if events else None


def _issuer(
    kind: DocumentKind,
    fields: dict[str, str],
    hints: dict[str, str],
    events: list[Event],
    lines: list[str],
    body: list[str],
) -> str | None:
    """发布机构: the header field, the body that promulgated a law, the signatories of a
    notice, a red-head title, the outlet of a news story, or the usual body for the kind."""
    issuer = fields.get("issuer") or _issuer_from_events(events)
    if not issuer and kind is DocumentKind.NOTICE:
        issuer = "、".join(signatories(body)) or None
    issuer = issuer or _red_head_issuer(lines)
    if not issuer and kind is DocumentKind.NEWS:
        issuer = fields.get("source") or hints.get("source")
    return issuer or _USUAL_ISSUER.get(kind)


def _date_issued(
    title: str,
    fields: dict[str, str],
    hints: dict[str, str],
    events: list[Event],
    source: str | None,
    body: list[str],
) -> str | None:
    """The date of the version in hand: the header field, the latest promulgation step (or
    the version date of the source when later and of the title's year), the dating line."""
    issued = _first_iso(fields.get("date_issued"), hints.get("date"))
    if not issued:
        steps = [event.date for event in events if event.verb not in _TAKES_EFFECT]
        issued = max(steps) if steps else None
    if source and (version := version_date(source)):
        year = re.search(r"(\d{4})年", title)
        if (not issued or version > issued) and (not year or year.group(1) == version[:4]):
            issued = version
    if not issued:
        dating = [line for line in body[closing_start(body) :] if is_date_line(line)]
        issued = first_date(dating[0]) if dating else None
    return issued


def _date_effective(
    fields: dict[str, str], events: list[Event], text: str, date_issued: str | None
) -> str | None:
    """施行日期: the header field, a dated 施行 step, or the ``本法自…起施行`` sentence."""
    if labelled := _first_iso(fields.get("date_effective")):
        return labelled
    started = [event.date for event in events if event.verb in _TAKES_EFFECT]
    if started:
        return started[0]
    published = [event.date for event in events if event.verb in {"公布", "发布"}]
    return effective_date(text, min(published) if published else date_issued)


def _red_head_issuer(lines: list[str]) -> str | None:
    """``国家市场监督管理总局文件`` at the top of an official document → its issuer."""
    for line in lines[:3]:
        if _RED_HEAD.match(line):
            return line.removesuffix("文件")
    return None


def _issuer_from_events(events: list[Event]) -> str | None:
    for verbs in ({"公布", "发布"}, {"通过", "批准"}):
        for event in events:
            if event.verb in verbs and (name := organ_name(event.actor)):
                return name
    return None


def _first_iso(*values: str | None) -> str | None:
    for value in values:
        if value and (iso := first_date(value)):
            return iso
    return None
