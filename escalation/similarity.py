"""How alike two questions are, by normalised character bigrams (pure functions).

Chinese questions have no word boundaries and vary in particles and punctuation; overlapping
character pairs are a cheap, dependable way to notice "the same question, asked again".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_NOISE = re.compile(r"[\W_]+", re.UNICODE)

SAME_QUESTION = 0.8  # Dice coefficient at or above which two questions are the same request


def normalise(text: str) -> str:
    """NFKC width, lower case, no spaces or punctuation (full-width included)."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def bigrams(text: str) -> Counter[str]:
    """Character bigrams of the normalised text, counted; a single character is its own gram."""
    norm = normalise(text)
    if len(norm) < 2:
        return Counter([norm]) if norm else Counter()
    return Counter(norm[i : i + 2] for i in range(len(norm) - 1))


def dice(a: str, b: str) -> float:
    """Dice coefficient of the bigram multisets: 2·|A∩B| / (|A|+|B|), in [0, 1].

    1.0 for texts equal after normalisation, 0.0 when they share no bigram (or one is empty).
    """
    grams_a, grams_b = bigrams(a), bigrams(b)
    total = sum(grams_a.values()) + sum(grams_b.values())
    if total == 0:
        return 0.0
    shared = sum((grams_a & grams_b).values())
    return 2.0 * shared / total


def same_question(a: str, b: str, threshold: float = SAME_QUESTION) -> bool:
    """Whether ``b`` repeats ``a``: equal after normalisation, or bigram Dice ≥ threshold."""
    if normalise(a) == normalise(b):
        return True
    return dice(a, b) >= threshold
