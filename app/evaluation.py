"""`qadesk eval`: run a question file through the desk and measure it.

Both sides are normalised (Simplified, no pinyin annotations, no spaces or punctuation) and the
coverage of an evidence text by another text is the share of its character bigrams found there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from core.answers import Answer, Decision
from knowledge.scoring import percentile
from knowledge.text import bigram_coverage

ANSWERABLE = "answerable"


@dataclass
class Outcome:
    item: dict[str, Any]
    answer: Answer
    latency_ms: float

    @property
    def kind(self) -> str:
        return str(self.item.get("type") or self.item.get("kind") or ANSWERABLE)

    @property
    def answered(self) -> bool:
        return self.answer.decision == Decision.ANSWER

    def doc_at_1(self) -> bool:
        cites = self.answer.citations
        return bool(cites) and cites[0].document == self.item.get("source_doc")

    def hit_at_5(self) -> bool:
        evidence = str(self.item.get("evidence") or "")
        return any(
            c.document == self.item.get("source_doc") and bigram_coverage(evidence, c.text) >= 0.5
            for c in self.answer.citations[:5]
        )

    def evidence_in_answer(self) -> float:
        return bigram_coverage(str(self.item.get("evidence") or ""), self.answer.text)


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def by_kind(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind]

    def summary(self) -> dict[str, Any]:
        ans = self.by_kind(ANSWERABLE)
        n = len(ans) or 1
        out: dict[str, Any] = {
            "questions": len(self.outcomes),
            "answerable": len(ans),
            "answered_rate": sum(o.answered for o in ans) / n,
            "doc_at_1": sum(o.doc_at_1() for o in ans) / n,
            "hit_at_5": sum(o.hit_at_5() for o in ans) / n,
            "correct_answer_rate": sum(o.answered and o.hit_at_5() for o in ans) / n,
            "evidence_in_answer": sum(o.evidence_in_answer() for o in ans if o.answered) / n,
        }
        for kind in sorted({o.kind for o in self.outcomes} - {ANSWERABLE}):
            group = self.by_kind(kind)
            out[f"escalation_rate[{kind}]"] = sum(not o.answered for o in group) / len(group)
            out[f"count[{kind}]"] = len(group)
        latencies = [o.latency_ms for o in self.outcomes]
        out["latency_p50_ms"] = percentile(latencies, 50)
        out["latency_p95_ms"] = percentile(latencies, 95)
        return out

    def failures(self) -> list[dict[str, Any]]:
        rows = []
        for o in self.outcomes:
            ok = (o.answered and o.hit_at_5()) if o.kind == ANSWERABLE else not o.answered
            if not ok:
                first = o.answer.citations[0].document if o.answer.citations else None
                rows.append(
                    {
                        "id": o.item.get("id"),
                        "kind": o.kind,
                        "decision": o.answer.decision.value,
                        "confidence": o.answer.confidence,
                        "first_doc": first,
                        "source_doc": o.item.get("source_doc"),
                        "question": o.item.get("question"),
                        "signals": o.answer.signals,
                    }
                )
        return rows


def read_items(lines: Iterable[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.strip()]


def run(items: list[dict[str, Any]], answer: Callable[[str], Answer]) -> Report:
    report = Report()
    for item in items:
        start = time.perf_counter()
        result = answer(str(item.get("question", "")))
        report.outcomes.append(Outcome(item, result, (time.perf_counter() - start) * 1000))
    return report
