"""How alike two questions are, by normalised character bigrams (pure functions).

Chinese questions have no word boundaries and vary in particles and punctuation; overlapping
character pairs are a cheap, dependable way to notice "the same question, asked again".
"""

from __future__ import annotations

from core.text import char_bigrams, compact
from core.text import dice as bigram_dice

SAME_QUESTION = 0.8  # Dice coefficient at or above which two questions are the same request


def normalise(text: str) -> str:
    """``core.text.compact``: Simplified, no pinyin annotations, NFKC width, lower case, no
    spaces or punctuation — the same comparison form the library uses, so a question asked
    again in Traditional script is the same question."""
    return compact(text)


def dice(a: str, b: str) -> float:
    """Dice coefficient of the normalised texts' bigram multisets (``core.text.dice``), in
    [0, 1]: 1.0 for texts equal after normalisation, 0.0 when they share no bigram."""
    return bigram_dice(char_bigrams(normalise(a)), char_bigrams(normalise(b)))


def same_question(a: str, b: str, threshold: float = SAME_QUESTION) -> bool:
    """Whether ``b`` repeats ``a``: equal after normalisation, or bigram Dice ≥ threshold."""
    if normalise(a) == normalise(b):
        return True
    return dice(a, b) >= threshold
