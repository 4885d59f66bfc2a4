"""The desk's figures for a period: what the escalation store counts and the desk reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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

    @property
    def helpful_ratio(self) -> float | None:
        total = self.helpful + self.not_helpful
        return self.helpful / total if total else None
