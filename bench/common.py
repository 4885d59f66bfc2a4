"""What the benchmarks share: the embedder they measure with, and what they do with their
numbers — a short table, one JSON line on stdout, and the same JSON in
``bench/results/<bench>.json`` (and ``--out`` when given), so README figures trace to a file."""

from __future__ import annotations

import json
import platform
import resource
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.stats import percentile

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def measuring_embedder(settings: Any, *, threads: int | None = 1) -> Any:
    """The configured model without the query cache: a benchmark that asks a question twice
    must pay for embedding it twice, as a new asker would. ``threads=None``: every core."""
    from app.bootstrap import offline_environment
    from knowledge.embedder import SentenceTransformerEmbedder, resolve_model

    offline_environment()
    embedder = SentenceTransformerEmbedder(
        resolve_model(settings.embedding_model, settings.models_dir),
        device=settings.embedding_device,
        query_prompt=settings.embedding_query_prompt,
        document_prompt=settings.embedding_document_prompt,
        num_threads=threads,
        query_cache_size=0,
    )
    embedder.load()
    return embedder


def require_library(kb: Any) -> Any:
    """``kb``, refusing to measure an empty library (``make setup`` ingests the bundled one;
    ``make bench`` runs it first)."""
    if not kb.documents():
        raise SystemExit("the library is empty: run `make setup` (or `qadesk setup`) first")
    return kb


def ms_percentiles(seconds: Sequence[float], prefix: str = "") -> dict[str, float | None]:
    """p50/p95/max in milliseconds of durations given in seconds."""
    ms = [s * 1000 for s in seconds]
    return {
        f"{prefix}p50_ms": _round(percentile(ms, 50)),
        f"{prefix}p95_ms": _round(percentile(ms, 95)),
        f"{prefix}max_ms": _round(max(ms) if ms else None),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def peak_rss_mb() -> int:
    """The process's peak resident memory so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count()}


@contextmanager
def stopwatch(into: dict[str, float], key: str) -> Any:
    """``with stopwatch(times, "build"):`` stores the block's wall time in seconds."""
    started = time.perf_counter()
    try:
        yield
    finally:
        into[key] = round(time.perf_counter() - started, 3)


def table(rows: Sequence[tuple[str, Any]]) -> str:
    width = max((len(name) for name, _ in rows), default=0)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def emit(result: dict[str, Any], rows: Sequence[tuple[str, Any]], out: Path | None = None) -> str:
    """Print the table and the JSON line; write the JSON to ``out``, by default
    ``bench/results/<bench>.json``."""
    print(table(rows))
    line = json.dumps(result, ensure_ascii=False)
    print(line, flush=True)
    target = out or RESULTS / f"{result['bench']}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(line + "\n", encoding="utf-8")
    return line
