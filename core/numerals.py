"""Chinese numerals as they appear in article labels and dates (第一百二十六条, 二〇二一年)."""

from __future__ import annotations

import re

_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "Ｏ": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}

NUMERAL_CHARS = "零〇○一二两三四五六七八九十百千"
"""Characters a Chinese numeral may be written with (for building patterns)."""

_ARABIC = re.compile(r"\d+")


def chinese_to_int(text: str) -> int | None:
    """The value of a Chinese or arabic numeral: 二十六 → 26, 一百零五 → 105, 26 → 26.

    Digit strings written without units (二〇二一 → 2021) read digit by digit. Anything else
    gives ``None``.
    """
    text = text.strip()
    if not text:
        return None
    if _ARABIC.fullmatch(text):
        return int(text)
    if any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        return None
    if not any(ch in _UNITS for ch in text):
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        else:
            total += (current or 1) * _UNITS[ch]
            current = 0
    return total + current
