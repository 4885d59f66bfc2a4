"""Answering benchmark: time from process start to the first answer, warm `ask` latency
p50/p95 over the evaluation questions (or built-in ones), and peak memory.

Run after `qadesk setup` (it uses the configured data dir): `python -m bench.answer_bench [FILE]`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()

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


def main() -> None:
    from app import bootstrap
    from app.settings import Settings
    from knowledge.scoring import percentile

    questions = QUESTIONS
    if len(sys.argv) > 1 and Path(sys.argv[1]).exists():
        lines = Path(sys.argv[1]).read_text("utf-8").splitlines()
        questions = [json.loads(line)["question"] for line in lines if line.strip()]
    kb = bootstrap.build_knowledge(Settings())
    kb.answer(questions[0])
    first = time.perf_counter() - STARTED
    latencies = []
    for _ in range(3):
        for q in questions:
            t = time.perf_counter()
            kb.answer(q)
            latencies.append((time.perf_counter() - t) * 1000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "bench": "answer",
        "questions": len(latencies),
        "start_to_first_answer_s": round(first, 2),
        "warm_p50_ms": round(percentile(latencies, 50) or 0, 1),
        "warm_p95_ms": round(percentile(latencies, 95) or 0, 1),
        "peak_rss_mb": round(peak_mb),
    }
    for key, value in result.items():
        print(f"{key:>26}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
