"""Retrieval math as small pure functions: fusion, coverage, the confidence score, the decision.

Signals, per candidate passage:

- ``dense``: cosine similarity of question and passage vectors (multilingual-e5: a passage on
  another subject sits around 0.85–0.88, a passage that answers the question at 0.87–0.94);
- ``bm25``: BM25 score of the question's tokens (with aliases) in the passage;
- ``coverage``: the IDF-weighted share of the question's tokens that occur in the passage —
  an absolute measure of how much of the question the passage speaks about, comparable across
  questions (BM25 scores are not);
- ``rrf``: reciprocal-rank fusion of the two rankings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60) -> dict[str, float]:
    """RRF: each ranking gives an item ``1 / (k + rank)`` (rank from 1); the sum is its score.

    Robust to the different scales of dense and BM25 scores; ``k`` = 60 as in Cormack et al.
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores


def weighted_coverage(
    query_tokens: Iterable[str],
    passage: str,
    idf: Callable[[str], float],
    aliases: Callable[[str], Iterable[str]] = lambda t: (),
) -> float:
    """IDF-weighted share of the distinct query tokens that the passage mentions, in [0, 1].

    A token is mentioned when it, or one of its ``aliases``, occurs in the passage text
    (substring match: Chinese words need no segmentation to be found, and 秤 is found in
    电子秤). ``idf`` should already temper words the library has never seen.
    """
    query = list(dict.fromkeys(query_tokens))
    if not query:
        return 0.0
    total = sum(idf(t) for t in query)
    if total <= 0:
        return 0.0
    covered = sum(idf(t) for t in query if t in passage or any(a in passage for a in aliases(t)))
    return covered / total


def dense_evidence(similarity: float, floor: float = 0.85, ceiling: float = 0.93) -> float:
    """Map a cosine similarity onto [0, 1] linearly between ``floor`` and ``ceiling``."""
    return min(1.0, max(0.0, (similarity - floor) / (ceiling - floor)))


def passage_score(dense: float, coverage: float, rrf: float, rrf_max: float) -> float:
    """Rank candidates by what they say about the question, not just where they ranked.

    A weighted sum of dense evidence, coverage and normalised fused rank, in [0, 1].
    """
    fused = rrf / rrf_max if rrf_max > 0 else 0.0
    return 0.40 * dense_evidence(dense) + 0.40 * coverage + 0.20 * fused


def confidence(dense: float, coverage: float, core_coverage: float) -> float:
    """How sure the desk is that the best passage answers the question, in [0, 1].

    ``core_coverage`` is the coverage of the question's rarest (most telling) tokens: a
    passage that matches the common words of a question but not its subject (CE 认证 vs 3C
    认证) must not look like an answer. The score is a logistic of a weighted sum, calibrated
    so that 0.5 separates answers from escalations on the development questions.
    """
    z = 5.0 * dense_evidence(dense) + 7.0 * coverage + 2.0 * core_coverage - 6.5
    return 1.0 / (1.0 + math.exp(-z))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
