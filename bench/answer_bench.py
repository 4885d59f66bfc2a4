"""Answering benchmark on the shipped library: time from process start to the first answer,
warm `ask` latency p50/p95 (the query cache off, so every ask embeds its question), peak memory.

    .venv/bin/python -m bench.answer_bench [--questions FILE] [--rounds N] [--out FILE]

Run after `qadesk setup` (it uses the configured data dir). Questions come from an evaluation
file or the built-in list below.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402  (the clock above starts before any import)
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

QUESTIONS = [
    "个体户可以自己修秤吗",
    "检测机构资质认定证书几年有效",
    "没拿生产许可证就生产会怎么罚",
    "在网上开个小店卖东西要办营业执照吗",
    "汽车召回计划要不要报备",
    "企标能不能比国标低",
    "小规模纳税人增值税税率是多少",
    "一站式服务行动的通知文号是多少",
]


def questions_from(path: Path | None) -> tuple[list[str], list[dict[str, Any]]]:
    """The questions of an evaluation file and its items, or the built-in questions."""
    if path is None or not path.exists():
        return list(QUESTIONS), []
    from app.evaluation import read_items

    items = read_items(path.read_text("utf-8").splitlines())
    return [str(item["question"]) for item in items], items


def run(questions: list[str], rounds: int) -> dict[str, Any]:
    from app import bootstrap
    from app.settings import Settings
    from bench.common import measuring_embedder, ms_percentiles, peak_rss_mb

    settings = Settings()
    kb = bootstrap.build_knowledge(settings, measuring_embedder(settings))
    kb.answer(questions[0])
    first = time.perf_counter() - STARTED
    for question in questions:  # warm: each question once before timing
        kb.answer(question)
    latencies = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            kb.answer(question)
            latencies.append(time.perf_counter() - started)
    return {
        "bench": "answer",
        "documents": len(kb.documents()),
        "asks": len(latencies),
        "start_to_first_answer_s": round(first, 2),
        **ms_percentiles(latencies, "warm_"),
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    from bench.common import emit

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=Path, help="an evaluation file (JSONL)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the JSON result here")
    args = parser.parse_args(argv)
    result = run(questions_from(args.questions)[0], max(1, args.rounds))
    emit(result, [(k.replace("_", " "), v) for k, v in result.items() if k != "bench"], args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
