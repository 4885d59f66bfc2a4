"""Small pure text functions every layer may use: text that came from outside made safe to
store, search and show; character bigrams and their Dice coefficient; clipping for display."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

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
