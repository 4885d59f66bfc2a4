"""The LLM benchmark's figures from counted outcomes (the model run itself is in the bench)."""

from __future__ import annotations

from collections import Counter

from bench.llm_bench import summary


def test_shares_evidence_and_latencies() -> None:
    outcomes = Counter({"composed": 2, "fallback_nothing_left": 1, "escalated": 1})
    result = summary(
        "dev.jsonl",
        4,
        outcomes,
        latencies=[1.0, 2.0, 3.0, 4.0],
        composed_latencies=[1.0, 3.0],
        extractive_evidence=[1.0, 0.5, 0.5, 1.0],
        sent_evidence=[0.5, 0.5, 0.5, 0.0],
        composed_pairs=[(1.0, 0.5), (0.5, 0.5)],
    )
    assert result["composed_share"] == 0.5
    assert result["fallback_share"] == 0.25 and result["escalated_by_model_share"] == 0.25
    assert result["fallbacks"] == {"nothing_left": 1}
    assert result["evidence_in_answer_extractive"] == 0.75
    assert result["evidence_in_answer_with_composer"] == 0.375
    assert result["evidence_in_composed_answers"] == 0.5
    assert result["evidence_in_their_extractive_answers"] == 0.75
    assert result["composed_max_ms"] == 3000.0


def test_nothing_answered_gives_empty_figures() -> None:
    result = summary("train.jsonl", 0, Counter(), [], [], [], [], [])
    assert result["composed_share"] == 0.0 and result["evidence_in_composed_answers"] is None
