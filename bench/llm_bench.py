"""The optional LLM composer with the local model: how often it composes, how grounded, how fast.

    .venv/bin/python -m bench.llm_bench [--questions FILE ...] [--limit N] [--max-tokens N]

Needs ``qadesk setup`` and ``qadesk setup-llm`` (Qwen2.5-Coder-0.5B in the data dir), served by
xllamacpp on 127.0.0.1 (two threads, ``OMP_WAIT_POLICY=PASSIVE``) and reached through the
production ``ChatOpenAI`` path. For each file: of the answerable questions the desk answers
from the library (the first ``--limit``, default all), the share composed / fallen back (by
reason) / escalated by the model, evidence-in-answer (``app.evaluation``: bigram coverage of
the reference evidence by the answer text) of the extractive answers and of the answers as
sent with the composer on, and the composer's latency p50/p95 (the model call and the check).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

DEFAULT_FILES = [Path("../shared/eval/dev.jsonl"), Path("../shared/eval/train.jsonl")]


def serve(gguf: Path) -> Any:
    """xllamacpp's OpenAI-compatible server on a free port of 127.0.0.1 (stops when dropped)."""
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.n_ctx = 2048
    params.n_parallel = 1
    params.port = 0
    params.verbosity = 0
    return xllamacpp.Server(params)


def run_file(kb: Any, composer: Any, path: Path, limit: int | None) -> dict[str, Any]:
    from app.evaluation import read_items
    from core.answers import Decision
    from knowledge.text import bigram_coverage

    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    composed_latencies: list[float] = []
    extractive_evidence: list[float] = []
    sent_evidence: list[float] = []
    composed_pairs: list[tuple[float, float]] = []
    asked = 0
    for item in read_items(path.read_text("utf-8").splitlines()):
        if limit is not None and asked >= limit:
            break
        if item.get("type") != "answerable":
            continue
        answer = kb.answer(str(item["question"]))
        if answer.decision is not Decision.ANSWER or answer.from_expert:
            continue
        asked += 1
        started = time.perf_counter()
        final = composer.compose(answer)
        elapsed = time.perf_counter() - started
        latencies.append(elapsed)
        evidence = str(item.get("evidence") or "")
        before = bigram_coverage(evidence, answer.text)
        extractive_evidence.append(before)
        if final.decision is not Decision.ANSWER:
            outcomes["escalated"] += 1
            sent_evidence.append(0.0)
            continue
        after = bigram_coverage(evidence, final.text)
        sent_evidence.append(after)
        if final.composer == "llm":
            outcomes["composed"] += 1
            composed_latencies.append(elapsed)
            composed_pairs.append((before, after))
        else:
            outcomes[f"fallback_{final.fallback}"] += 1
    return summary(
        path.name,
        asked,
        outcomes,
        latencies,
        composed_latencies,
        extractive_evidence,
        sent_evidence,
        composed_pairs,
    )


def summary(
    name: str,
    asked: int,
    outcomes: Counter[str],
    latencies: list[float],
    composed_latencies: list[float],
    extractive_evidence: list[float],
    sent_evidence: list[float],
    composed_pairs: list[tuple[float, float]],
) -> dict[str, Any]:
    from bench.common import ms_percentiles

    def share(count: int) -> float:
        return round(count / asked, 3) if asked else 0.0

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 3) if values else None

    fallen = sum(v for k, v in outcomes.items() if k.startswith("fallback_"))
    return {
        "file": name,
        "answered_by_desk": asked,
        "composed_share": share(outcomes["composed"]),
        "fallback_share": share(fallen),
        "escalated_by_model_share": share(outcomes["escalated"]),
        "fallbacks": {
            k.removeprefix("fallback_"): v
            for k, v in sorted(outcomes.items())
            if k.startswith("fallback_")
        },
        "evidence_in_answer_extractive": mean(extractive_evidence),
        "evidence_in_answer_with_composer": mean(sent_evidence),
        "evidence_in_composed_answers": mean([a for _, a in composed_pairs]),
        "evidence_in_their_extractive_answers": mean([b for b, _ in composed_pairs]),
        **ms_percentiles(latencies, "compose_"),
        **ms_percentiles(composed_latencies, "composed_"),
    }


def main(argv: list[str] | None = None) -> int:
    from app import bootstrap
    from app.llm_setup import LlmSetupError, gguf_path, is_prepared
    from app.settings import Settings
    from bench.common import emit, require_library
    from knowledge.llm_composer import LlmComposer, build_chat_model

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=Path, nargs="*", default=DEFAULT_FILES)
    parser.add_argument("--limit", type=int, help="at most this many answered questions a file")
    parser.add_argument("--max-tokens", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per composition")
    parser.add_argument("--out", type=Path, help="write the JSON result here")
    args = parser.parse_args(argv)
    settings = Settings()
    gguf = gguf_path(settings.data_dir)
    if not is_prepared(gguf):
        raise LlmSetupError(f"no local model at {gguf}: run `make setup-llm` first")
    server = serve(gguf)
    kb = require_library(bootstrap.build_knowledge(settings))
    model = build_chat_model(
        f"{server.listening_address}/v1",
        "local",
        None,
        timeout_s=args.timeout,
        max_tokens=args.max_tokens,
    )
    composer = LlmComposer(model, timeout_s=args.timeout)
    try:
        files = [run_file(kb, composer, p, args.limit) for p in args.questions if p.exists()]
    finally:
        composer.close()
        del server
    result = {
        "bench": "llm",
        "model": gguf.name,
        "limit": args.limit,
        "max_tokens": args.max_tokens,
        "files": files,
    }
    rows: list[tuple[str, Any]] = []
    for f in files:
        for key, value in f.items():
            if key != "file":
                rows.append((f"{f['file']} {key.replace('_', ' ')}", value))
    emit(result, rows, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
