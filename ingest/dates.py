"""Dates as Chinese documents write them, turned into ISO ``YYYY-MM-DD``."""

from __future__ import annotations

import re
from datetime import date

from core.numerals import NUMERAL_CHARS, chinese_to_int

_N = f"[{NUMERAL_CHARS}]"
DATE_PATTERN = (
    r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{4}/\d{1,2}/\d{1,2}"
    r"|\d{4}\.\d{1,2}\.\d{1,2}"
    rf"|{_N}{{4}}年{_N}{{1,3}}月{_N}{{1,3}}日)"
)
"""A regular expression (no groups) matching one full date in any of the usual forms."""

_DATE = re.compile(DATE_PATTERN)
_PARTS = re.compile(rf"(\d{{4}}|{_N}{{4}})\D*?(\d{{1,2}}|{_N}{{1,3}})\D*?(\d{{1,2}}|{_N}{{1,3}})")


def to_iso(text: str) -> str | None:
    """The ISO form of one date: ``2021年05月24日``, ``2021-5-24``, ``二〇二一年五月二十四日``.

    Returns ``None`` when ``text`` is not a valid calendar date.
    """
    match = _PARTS.search(text)
    if not match:
        return None
    year, month, day = (chinese_to_int(part) for part in match.groups())
    if year is None or month is None or day is None:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def find_dates(text: str) -> list[tuple[int, int, str]]:
    """Every valid date in ``text`` as ``(start, end, iso)``, in order."""
    found = []
    for match in _DATE.finditer(text):
        iso = to_iso(match.group())
        if iso:
            found.append((match.start(), match.end(), iso))
    return found


def first_date(text: str) -> str | None:
    """The first valid date in ``text`` (ISO), or ``None``."""
    dates = find_dates(text)
    return dates[0][2] if dates else None


def is_date_line(line: str) -> bool:
    """True when the line is nothing but a date (the dating line under a signature)."""
    stripped = line.strip()
    match = _DATE.fullmatch(stripped)
    return bool(match and to_iso(stripped))
