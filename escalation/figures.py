"""The arithmetic behind service statistics (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence

from escalation.similarity import dice

TOPIC_THRESHOLD = 0.5  # questions at least this alike (bigram Dice) count as one topic


def cluster_topics(
    questions: Sequence[str], threshold: float = TOPIC_THRESHOLD, limit: int = 10
) -> list[tuple[str, int]]:
    """Group alike questions into topics: ``(representative question, count)``, most first.

    Greedy, in the order given: a question joins the first topic whose representative (its
    first question) it resembles with bigram Dice ≥ ``threshold``, else starts a new topic.
    Ties in count keep the order in which topics first appeared.
    """
    topics: list[list[str | int]] = []  # [representative, count]
    for question in questions:
        for topic in topics:
            if dice(str(topic[0]), question) >= threshold:
                topic[1] = int(topic[1]) + 1
                break
        else:
            topics.append([question, 1])
    ranked = sorted(enumerate(topics), key=lambda item: (-int(item[1][1]), item[0]))
    return [(str(topic[0]), int(topic[1])) for _, topic in ranked[:limit]]
