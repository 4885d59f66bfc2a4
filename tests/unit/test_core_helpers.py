"""The small helpers of core that every layer shares: percentile, bigrams and Dice, clip."""

from __future__ import annotations

import pytest

from core.stats import percentile
from core.text import char_bigrams, clip, dice
from escalation.similarity import dice as question_dice
from knowledge.text import bigram_similarity


def test_percentile_interpolates_linearly_and_refuses_a_rank_outside_0_to_100() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([4, 1, 3, 2], 90) == pytest.approx(3.7)
    assert percentile([], 95) is None
    with pytest.raises(ValueError):
        percentile([1, 2], -1)


def test_char_bigrams_overlap_and_a_single_character_is_its_own_gram() -> None:
    assert char_bigrams("电子秤") == ["电子", "子秤"]
    assert char_bigrams("秤") == ["秤"]
    assert char_bigrams("") == []


def test_dice_counts_repeats_in_lists_and_not_in_sets() -> None:
    assert dice(["ab", "ab"], ["ab"]) == pytest.approx(2 / 3)
    assert dice({"ab"}, {"ab"}) == 1.0
    assert dice([], ["ab"]) == 0.0 and dice([], []) == 0.0
    # each layer normalises in its own way, then takes the same coefficient
    assert question_dice("电子秤，检定？", "电子秤检定") == 1.0
    assert bigram_similarity("哈哈哈哈", "哈哈") == 1.0  # sets: the repeats do not count
    assert question_dice("哈哈哈哈", "哈哈") == pytest.approx(0.5)


def test_clip_strips_and_cuts_with_an_ellipsis() -> None:
    assert clip("  短问题 ", 10) == "短问题"
    assert clip("一二三四五六", 4) == "一二三…"
    assert clip("ab cd", 4) == "ab…"  # no space left before the ellipsis
