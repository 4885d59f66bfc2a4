"""Whether a document is in force, derived when asked from its dates and links (never stored).

The statuses follow the sources' own vocabulary: 国家法律法规数据库 (现行有效, 已废止, 尚未生效)
and 国家标准全文公开系统 (现行, 即将实施, 废止, 被代替), plus 已失效 for a notice whose period of
validity has ended. Precedence between documents follows the usual rule: 上位法优于下位法,
新法优于旧法.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from core.documents import DocumentKind, SourceDocument


class DocumentStatus(StrEnum):
    PENDING = "pending"  # 尚未生效
    IN_FORCE = "in_force"  # 现行有效
    EXPIRED = "expired"  # 已失效 (its period of validity ended)
    REPEALED = "repealed"  # 已废止
    SUPERSEDED = "superseded"  # 已被代替


OUTDATED = frozenset({DocumentStatus.EXPIRED, DocumentStatus.REPEALED, DocumentStatus.SUPERSEDED})
"""Statuses of a document no answer should rest on alone."""

_AUTHORITY = {
    DocumentKind.LAW: 4,
    DocumentKind.REGULATION: 3,
    DocumentKind.RULE: 2,
    DocumentKind.STANDARD: 2,
    DocumentKind.NOTICE: 1,
}

_DATE = re.compile(r"^\s*(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?\s*$")


def status_of(doc: SourceDocument, today: date) -> DocumentStatus:
    """The status of ``doc`` on ``today``: repealed, superseded, expired, pending, else in force.

    A repeal or period of validity dated after ``today`` has not happened yet; a document
    named as replaced by another is superseded whatever its dates say.
    """
    if doc.date_repealed and _day(doc.date_repealed) <= today:
        return DocumentStatus.REPEALED
    if doc.superseded_by:
        return DocumentStatus.SUPERSEDED
    if doc.date_until and _day(doc.date_until) < today:
        return DocumentStatus.EXPIRED
    if doc.date_effective and _day(doc.date_effective) > today:
        return DocumentStatus.PENDING
    return DocumentStatus.IN_FORCE


def authority(kind: DocumentKind | str) -> int:
    """How high a kind of document ranks: 法律 4, 行政法规 3, 规章 and 标准 2, 规范性文件 1,
    anything else (news, FAQ entries) 0."""
    try:
        return _AUTHORITY.get(DocumentKind(kind), 0)
    except ValueError:
        return 0


def prevails(newer: PrecedenceKey, older: PrecedenceKey) -> bool:
    """Whether the first document prevails over the second where both speak to a point:
    higher-ranking and not older, or as high and issued later (上位法优于下位法, 新法优于旧法)."""
    if not newer.issued:
        return False
    if newer.authority != older.authority:
        return newer.authority > older.authority and newer.issued >= (older.issued or "")
    return bool(older.issued) and newer.issued > (older.issued or "")


@dataclass(frozen=True, slots=True)
class PrecedenceKey:
    """What precedence reads of a document: its rank and the day it was issued (ISO)."""

    authority: int
    issued: str | None


def precedence_key(doc: SourceDocument) -> PrecedenceKey:
    return PrecedenceKey(authority(doc.kind), doc.date_issued or doc.date_effective)


def parse_date(value: str) -> str:
    """An admin's date as ISO ``YYYY-MM-DD``: ``2024-07-01``, ``2024/7/1``, ``2024.7.1`` or
    ``2024年7月1日``; ``ValueError`` naming the value otherwise."""
    match = _DATE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD, e.g. 2024-07-01)")
    year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a date of the calendar") from None


def _day(iso: str) -> date:
    try:
        return date.fromisoformat(iso)
    except ValueError:  # a stored value that is not a full date (e.g. a year): its first day
        digits = re.findall(r"\d+", iso)
        return date(int(digits[0]), 1, 1) if digits else date.min
