"""Small pure text functions for questions and passages: normalisation, sentences, coverage."""

from __future__ import annotations

import re
import unicodedata

from core.text import char_bigrams, compact, dice, remove_pinyin, strip_invisible, to_simplified

_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n+")


def normalize_question(text: str) -> str:
    """What the desk searches with: Simplified, no pinyin annotations, NFKC width, one space.

    Control, bidi-control, zero-width and lone-surrogate characters are dropped first. NFKC
    turns full-width letters and digits into ASCII (Ｇ Ｂ／Ｔ → GB/T) but would also
    turn Chinese punctuation into ASCII, which is harmless for search.
    """
    text = remove_pinyin(strip_invisible(text))
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    return _SPACES.sub(" ", text).strip()


def bigram_coverage(needle: str, haystack: str) -> float:
    """Share of ``needle``'s character bigrams (after ``compact``) found in ``haystack``.

    1.0 means every bigram of the needle occurs somewhere in the haystack. An empty needle
    is covered by anything.
    """
    grams = char_bigrams(compact(needle))
    if not grams:
        return 1.0
    present = set(char_bigrams(compact(haystack)))
    return sum(1 for g in grams if g in present) / len(grams)


def bigram_similarity(a: str, b: str) -> float:
    """Dice coefficient of the bigram sets of two texts (after ``compact``), in [0, 1]."""
    return dice(set(char_bigrams(compact(a))), set(char_bigrams(compact(b))))


def split_sentences(text: str) -> list[str]:
    """Split Chinese text after 。！？； and at line breaks, keeping the punctuation."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
