"""`qadesk eval`: run question files through the desk and measure it; `--cv K` cross-validates.

Both sides are normalised (Simplified, no pinyin annotations, no spaces or punctuation) and the
coverage of an evidence text by another text is the share of its character bigrams found there
(``knowledge.fitting.holds_evidence``: the same criterion the ranking is fitted on).

Cross-validation (``cross_validate``): every question is run through retrieval once; the
questions are split into K folds (stratified by type and file); for each fold the answering
model is fitted (``knowledge.fitting.fit``) on the other folds — plus any further fitting
files that are not being scored — and the fold's questions are answered with it. Every
question is scored once, by a model that never saw it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.answers import Answer, Decision
from core.stats import percentile
from knowledge.answering import KnowledgeBase, Prepared
from knowledge.fitting import Example, assign_folds, fit, holds_evidence
from knowledge.followup import complete_turns
from knowledge.models import AnswerModel
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
        return any(holds_evidence(self.item, c.document, c.text) for c in self.answer.citations[:5])

    def quoted_evidence(self) -> bool:
        """The passages the answer quotes (what the asker reads) hold the evidence."""
        return any(
            c.quote and holds_evidence(self.item, c.document, c.text) for c in self.answer.citations
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
            "quoted_correct_rate": sum(o.answered and o.quoted_evidence() for o in ans) / n,
            "evidence_in_answer": sum(o.evidence_in_answer() for o in ans if o.answered) / n,
        }
        for kind in sorted({o.kind for o in self.outcomes} - {ANSWERABLE}):
            group = self.by_kind(kind)
            out[f"escalation_rate[{kind}]"] = sum(not o.answered for o in group) / len(group)
            clarified = sum(o.answer.decision == Decision.CLARIFY for o in group)
            out[f"clarify_rate[{kind}]"] = clarified / len(group)
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


def asked(item: dict[str, Any]) -> str:
    """The item's question, completed from the earlier ``turns`` of the asker when it has any."""
    return complete_turns(item.get("turns") or (), str(item.get("question", "")))


def read_items(lines: Iterable[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.strip()]


def run(items: list[dict[str, Any]], answer: Callable[[str], Answer]) -> Report:
    report = Report()
    for item in items:
        start = time.perf_counter()
        result = answer(asked(item))
        report.outcomes.append(Outcome(item, result, (time.perf_counter() - start) * 1000))
    return report


def by_file(report: Report) -> dict[str, Report]:
    """The outcomes of each source file (items carry ``_file``), in file order."""
    out: dict[str, Report] = {}
    for o in report.outcomes:
        out.setdefault(str(o.item.get("_file", "")), Report()).outcomes.append(o)
    return out


def read_files(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The items of several files, each marked with its file name (``_file``)."""
    items: list[dict[str, Any]] = []
    for path in paths:
        for item in read_items(path.read_text("utf-8").splitlines()):
            item["_file"] = path.name
            items.append(item)
    return items


def prepare_all(kb: KnowledgeBase, items: list[dict[str, Any]]) -> list[tuple[Prepared, float]]:
    """Each item run through retrieval once, with how long that took (ms)."""
    out = []
    for item in items:
        start = time.perf_counter()
        prepared = kb.prepare(asked(item))
        out.append((prepared, (time.perf_counter() - start) * 1000))
    return out


def examples(items: list[dict[str, Any]], prepared: list[tuple[Prepared, float]]) -> list[Example]:
    """What fitting learns from: the labelled items that reached retrieval."""
    return [
        Example(item, p)
        for item, (p, _) in zip(items, prepared, strict=True)
        if p.early is None and item.get("type")
    ]


def cross_validate(
    kb: KnowledgeBase,
    items: list[dict[str, Any]],
    k: int,
    *,
    extra: list[dict[str, Any]] | None = None,
    seed: int = 0,
    progress: Callable[[str], None] = lambda _: None,
    fitter: Callable[[list[Example]], AnswerModel] = fit,
) -> Report:
    """Score ``items`` with models fitted on the other folds (+ ``extra``), see the docstring."""
    return cross_validate_repeated(
        kb, items, k, repeats=1, extra=extra, seed=seed, progress=progress, fitter=fitter
    )[0]


def cross_validate_repeated(
    kb: KnowledgeBase,
    items: list[dict[str, Any]],
    k: int,
    *,
    repeats: int,
    extra: list[dict[str, Any]] | None = None,
    seed: int = 0,
    progress: Callable[[str], None] = lambda _: None,
    fitter: Callable[[list[Example]], AnswerModel] = fit,
) -> list[Report]:
    """``cross_validate`` with ``repeats`` different fold assignments (seeds ``seed``,
    ``seed + 1``…), retrieval run once: one report per assignment. A few hundred questions
    split five ways give figures that move by several points from one split to the next
    (dev.jsonl has 37 answerable questions: one question is 2.7 points); ``spread`` says by how
    much."""
    progress(f"retrieval for {len(items) + len(extra or [])} questions")
    prepared = prepare_all(kb, items)
    extra_examples = examples(extra or [], prepare_all(kb, extra or []))
    reports = []
    for r in range(repeats):
        fold = assign_folds(items, k, seed + r)
        answers: list[tuple[Answer, float] | None] = [None] * len(items)
        for f in range(k):
            progress(f"split {r + 1}/{repeats}, fold {f + 1}/{k}")
            train_items = [it for it, g in zip(items, fold, strict=True) if g != f]
            train_prepared = [p for p, g in zip(prepared, fold, strict=True) if g != f]
            model = fitter(examples(train_items, train_prepared) + extra_examples)
            for i in (i for i, g in enumerate(fold) if g == f):
                p, spent = prepared[i]
                start = time.perf_counter()
                answer = kb.respond(p, model)
                answers[i] = (answer, spent + (time.perf_counter() - start) * 1000)
        report = Report()
        for item, done in zip(items, answers, strict=True):
            assert done is not None
            report.outcomes.append(Outcome(item, done[0], done[1]))
        reports.append(report)
    return reports


def spread(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Several summaries of the same questions as one: each figure's mean, with its lowest and
    highest value (``{"mean": …, "min": …, "max": …}``); counts stay as they are."""
    out: dict[str, Any] = {}
    for key, first in summaries[0].items():
        values = [s[key] for s in summaries]
        if isinstance(first, float):
            out[key] = {"mean": sum(values) / len(values), "min": min(values), "max": max(values)}
        else:
            out[key] = first
    return out
