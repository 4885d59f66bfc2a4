"""Small pure text functions every layer may use: text that came from outside made safe to
store, search and show; Traditional → Simplified and pinyin annotations removed (documents when
ingested, questions when asked: one normaliser, so both read alike); character bigrams and their
Dice coefficient; one comparison form (``compact``); clipping for display.

The Traditional → Simplified table is OpenCC's (``opencc-python-reimplemented``): a pure
offline conversion table, no service, no I/O beyond its package data, imported on first use —
so ``core`` stays cheap to import and free of anything with state.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
"""Character class body for CJK ideographs (for use inside ``[...]``)."""

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PLAIN = "aaaaeeeeiiiioooouuuuüüüünnnm"
_UNTONE = str.maketrans(_TONED, _PLAIN)
_PINYIN_GROUP = re.compile(rf"(?<=[{CJK}])\(([a-zü{_TONED}]{{1,6}})\)")
_SYLLABLE = re.compile(
    r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|uai|iao|ian|uan|üan|van|"
    r"ai|ei|ao|ou|an|en|er|ia|ie|iu|in|ua|uo|ui|un|ue|üe|ve|ün|a|o|e|i|u|ü|v)"
    r"|hng|ng|hm|m|n"
)

# C0/C1 controls but tab and line breaks; bidirectional embeddings, overrides and isolates;
# zero-width characters and the BOM; lone UTF-16 surrogates (not valid text, cannot be encoded).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def strip_invisible(text: str) -> str:
    """``text`` without control, bidi-control, zero-width and lone-surrogate characters.

    They change nothing a reader sees but can change what the desk searches with, spoof the
    order of what an expert reads, or make a line impossible to encode (``\\ud800``).
    """
    return _INVISIBLE.sub("", text)


def char_bigrams(text: str) -> list[str]:
    """Overlapping character pairs of ``text`` as given (a single character is its own gram).

    Callers normalise first (each has its own idea of which differences do not count).
    """
    if len(text) < 2:
        return [text] if text else []
    return [text[i : i + 2] for i in range(len(text) - 1)]


def dice(a: Iterable[str], b: Iterable[str]) -> float:
    """Dice coefficient of two multisets of grams, ``2·|A∩B| / (|A|+|B|)``, in [0, 1].

    Pass sets to compare which grams occur, lists to count repeats; 0.0 when either is empty.
    """
    grams_a, grams_b = Counter(a), Counter(b)
    total = grams_a.total() + grams_b.total()
    if not grams_a or not grams_b:
        return 0.0
    return 2.0 * (grams_a & grams_b).total() / total


def clip(text: str, limit: int) -> str:
    """``text`` without outer whitespace, cut to ``limit`` characters with an ellipsis when
    longer (no space left before the ellipsis)."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def is_pinyin_syllable(word: str) -> bool:
    """True for one Hanyu Pinyin syllable, with or without tone mark (``zhì``, ``lüè``, ``de``)."""
    return bool(_SYLLABLE.fullmatch(word.translate(_UNTONE)))


def remove_pinyin(text: str) -> str:
    """Remove pinyin annotations written after a character: ``貿(mào)易`` → ``貿易``.

    Only a parenthesised single pinyin syllable (lower case, 1–6 letters) right after a CJK
    character goes; ``(NQI)``, ``中國(云南)``, ``(一)``, ``(区、市)`` and English words stay.
    """
    return _PINYIN_GROUP.sub(lambda m: "" if is_pinyin_syllable(m.group(1)) else m.group(), text)


@cache
def _converter() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


@cache
def _traditional_chars() -> frozenset[str]:
    """Characters OpenCC's t2s table maps to something else (a fast 'anything to do?' check)."""
    try:
        table = resources.files("opencc").joinpath("dictionary/TSCharacters.txt")
        rows = table.read_text(encoding="utf-8").splitlines()
    except (OSError, ModuleNotFoundError):
        return frozenset()
    chars = set()
    for row in rows:
        parts = row.split()
        if len(parts) >= 2 and len(parts[0]) == 1 and parts[1] != parts[0]:
            chars.add(parts[0])
    return frozenset(chars)


def to_simplified(text: str) -> str:
    """Traditional → Simplified (OpenCC ``t2s``); text with no Traditional character is
    returned as is without running the (slow) converter."""
    known = _traditional_chars()
    if known and not any(ch in known for ch in text):
        return text
    return str(_converter().convert(text))


def compact(text: str) -> str:
    """Simplified, no pinyin annotations, NFKC width, no spaces or punctuation, lower case.

    The one way texts are compared regardless of how they were typed: evaluation coverage,
    FAQ duplicates, a question asked again (in Traditional or Simplified, with or without
    punctuation).
    """
    text = unicodedata.normalize("NFKC", remove_pinyin(text))
    return _PUNCT.sub("", to_simplified(text)).lower()
