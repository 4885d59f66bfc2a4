"""Tuning the grounding check's coverage threshold on the evaluation files.

    .venv/bin/python -m bench.grounding_bench [--questions FILE ...] [--out FILE]

For every answerable question the desk answers from the library with the reference evidence
among the passages it quotes, the reference answer's sentences are scored (character-bigram
coverage, ``knowledge.grounding``) against those passages ("right") and against the passages
the desk quotes for another question from another document ("wrong"). For each threshold the
share of right sentences kept and of wrong ones let through is printed; the chosen value is
``knowledge.grounding.COVERAGE_THRESHOLD``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_FILES = [Path("../shared/eval/dev.jsonl"), Path("../shared/eval/train.jsonl")]
THRESHOLDS = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8]


def collect(files: list[Path]) -> list[tuple[str, list[str], list[str]]]:
    """(source document, reference sentences, quoted passage texts) per answered question."""
    from app import bootstrap
    from app.evaluation import read_items
    from app.settings import Settings
    from bench.common import require_library
    from core.answers import Decision
    from knowledge.text import bigram_coverage, split_sentences

    kb = require_library(bootstrap.build_knowledge(Settings()))
    out = []
    for path in files:
        for item in read_items(path.read_text("utf-8").splitlines()):
            if item.get("type") != "answerable" or not item.get("answer"):
                continue
            answer = kb.answer(str(item["question"]))
            if answer.decision is not Decision.ANSWER or answer.from_expert:
                continue
            passages = [c.text for c in answer.citations if c.quote]
            evidence = str(item.get("evidence") or "")
            if not evidence or max(bigram_coverage(evidence, p) for p in passages) < 0.8:
                continue  # the desk answered from another passage: not a "right" pair
            sentences = split_sentences(str(item["answer"]))
            out.append((str(item.get("source_doc", "")), sentences, passages))
    return out


def measure(pairs: list[tuple[str, list[str], list[str]]]) -> dict[str, Any]:
    from knowledge.text import bigram_coverage

    right: list[float] = []
    wrong: list[float] = []
    for i, (doc, sentences, passages) in enumerate(pairs):
        other = next(
            (p for d, _, p in pairs[i + 1 :] + pairs[:i] if d != doc),
            None,
        )
        for sentence in sentences:
            right.append(bigram_coverage(sentence, "\n".join(passages)))
            if other is not None:
                wrong.append(bigram_coverage(sentence, "\n".join(other)))
    table = {
        str(t): {
            "right_kept": round(sum(c >= t for c in right) / max(1, len(right)), 3),
            "wrong_kept": round(sum(c >= t for c in wrong) / max(1, len(wrong)), 3),
        }
        for t in THRESHOLDS
    }
    return {
        "bench": "grounding",
        "questions": len(pairs),
        "right_sentences": len(right),
        "wrong_sentences": len(wrong),
        "thresholds": table,
    }


def main(argv: list[str] | None = None) -> int:
    from bench.common import emit

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=Path, nargs="*", default=DEFAULT_FILES)
    parser.add_argument("--out", type=Path, help="write the JSON result here")
    args = parser.parse_args(argv)
    result = measure(collect([p for p in args.questions if p.exists()]))
    rows: list[tuple[str, Any]] = [
        ("questions", result["questions"]),
        ("right sentences", result["right_sentences"]),
        ("wrong sentences", result["wrong_sentences"]),
    ]
    for t, shares in result["thresholds"].items():
        rows.append(
            (
                f"threshold {t}: right kept / wrong kept",
                f"{shares['right_kept']} / {shares['wrong_kept']}",
            )
        )
    emit(result, rows, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
