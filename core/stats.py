"""The desk's figures for a period: what the escalation store counts and the desk reports,
and the percentile every figure of times and latencies is taken with."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) of ``values`` by linear interpolation; None when empty.

    With the values sorted as ``v[0] ≤ … ≤ v[n-1]``, the rank is ``r = q/100 · (n-1)`` and the
    result ``v[⌊r⌋] + (r-⌊r⌋) · (v[⌈r⌉] - v[⌊r⌋])`` — the median of [1, 2, 3, 4] is 2.5, its
    90th percentile 3.7 (the "linear" method of numpy).
    """
    if not values:
        return None
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} outside 0..100")
    ordered = sorted(values)
    rank = q / 100.0 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


@dataclass(frozen=True, slots=True)
class Stats:
    """Figures for ``[since, until)`` (open ends mean "from the start" / "up to now")."""

    since: datetime | None
    until: datetime | None
    askers: int
    questions: int
    answered_by_desk: int
    escalated: int
    answered_by_experts: int
    claim_p50_s: float | None
    claim_p90_s: float | None
    answer_p50_s: float | None
    answer_p90_s: float | None
    helpful: int
    not_helpful: int
    backlog_by_domain: dict[str, int] = field(default_factory=dict)
    top_unanswered: list[tuple[str, int]] = field(default_factory=list)
    composed_by: dict[str, int] = field(default_factory=dict)  # desk answers: extractive, llm
    composer_fallbacks: dict[str, int] = field(default_factory=dict)  # LLM not used: why
    clarified: int = 0  # questions the desk asked back about instead of answering or escalating

    @property
    def helpful_ratio(self) -> float | None:
        total = self.helpful + self.not_helpful
        return self.helpful / total if total else None
