"""Ingestion throughput: parse the whole library (read, clean, metadata, chunk), and with
``--embed`` ingest it for real into a fresh knowledge base (embedding on every core, Chroma,
the keyword index), as `qadesk setup` does.

    .venv/bin/python -m bench.ingest_bench [--rounds N] [--embed] [--library DIR] [--out FILE]

Prints a short table and one JSON line (see ``bench.common``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, emit, measuring_embedder
from ingest.parsing import parse_file
from ingest.pipeline import expand_paths


def run(library: Path, rounds: int) -> dict[str, Any]:
    """Parse every supported file under ``library`` ``rounds`` times; return the rates."""
    files = [path for path, error in expand_paths([library]) if error is None]
    if not files:
        raise SystemExit(f"no documents under {library}")
    started = time.perf_counter()
    for path in files:  # the first pass pays for imports and the Traditional→Simplified table
        parse_file(path)
    warmup = time.perf_counter() - started
    documents = chunks = chars = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for path in files:
            parsed = parse_file(path)
            documents += 1
            chunks += len(parsed.chunks)
            chars += len(parsed.text)
    seconds = time.perf_counter() - started
    return {
        "bench": "ingest",
        "files": len(files),
        "rounds": rounds,
        "documents": documents,
        "chunks": chunks,
        "chars": chars,
        "seconds": round(seconds, 3),
        "warmup_seconds": round(warmup, 3),
        "documents_per_s": round(documents / seconds, 1),
        "chunks_per_s": round(chunks / seconds, 1),
        "chars_per_s": round(chars / seconds),
        "python": platform.python_version(),
    }


def run_with_embedding(library: Path) -> dict[str, Any]:
    """Ingest ``library`` into an empty knowledge base; chunks/s including embedding."""
    from app.settings import Settings
    from ingest.pipeline import IngestPipeline
    from knowledge.answering import open_knowledge_base

    embedder = measuring_embedder(Settings(), threads=None)
    with tempfile.TemporaryDirectory() as scratch:
        kb = open_knowledge_base(embedder, Path(scratch))
        started = time.perf_counter()
        report = IngestPipeline(kb).ingest_paths([library])
        seconds = time.perf_counter() - started
        chunks = sum(len(kb.chunks(d.doc_id)) for d in kb.documents())
    return {
        "embedded_documents": len(report.results),
        "embedded_chunks": chunks,
        "embedded_seconds": round(seconds, 1),
        "embedded_chunks_per_s": round(chunks / seconds, 1),
    }


def rows(result: dict[str, Any]) -> list[tuple[str, Any]]:
    out = [
        ("files × rounds", f"{result['files']} × {result['rounds']}"),
        ("seconds", f"{result['seconds']:.2f} (first pass {result['warmup_seconds']:.2f})"),
        ("documents/s", f"{result['documents_per_s']:,.1f}"),
        ("chunks/s", f"{result['chunks_per_s']:,.1f}"),
        ("chars/s", f"{result['chars_per_s']:,}"),
    ]
    if "embedded_chunks" in result:
        out.append(
            (
                "with embedding",
                f"{result['embedded_chunks_per_s']} chunks/s ({result['embedded_chunks']} chunks "
                f"of {result['embedded_documents']} documents in {result['embedded_seconds']} s)",
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="times to parse the library")
    parser.add_argument("--embed", action="store_true", help="also ingest it with embedding")
    parser.add_argument("--library", type=Path, default=ROOT / "library")
    parser.add_argument("--out", type=Path, help="write the JSON result here")
    args = parser.parse_args(argv)
    result = run(args.library, max(args.rounds, 1))
    if args.embed:
        result.update(run_with_embedding(args.library))
    emit(result, rows(result), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
