"""Retrieval math as small pure functions: fusion, coverage.

``coverage`` (the IDF-weighted share of the question's tokens that occur in a passage) is an
absolute measure of how much of the question the passage speaks about, comparable across
questions (BM25 scores are not); it is one of the features ``knowledge.retrieval`` gives the
fitted ranking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


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
