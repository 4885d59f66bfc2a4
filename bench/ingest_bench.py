"""Ingestion throughput: parse the whole library (read, clean, metadata, chunk; no embedding).

    .venv/bin/python -m bench.ingest_bench [--rounds N] [--library DIR] [--out FILE]

Prints a short table and one JSON line; ``--out`` also writes the JSON to a file.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from ingest.parsing import parse_file
from ingest.pipeline import expand_paths

ROOT = Path(__file__).resolve().parent.parent


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


def table(result: dict[str, Any]) -> str:
    rows = [
        ("files × rounds", f"{result['files']} × {result['rounds']}"),
        ("seconds", f"{result['seconds']:.2f} (first pass {result['warmup_seconds']:.2f})"),
        ("documents/s", f"{result['documents_per_s']:,.1f}"),
        ("chunks/s", f"{result['chunks_per_s']:,.1f}"),
        ("chars/s", f"{result['chars_per_s']:,}"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="times to parse the library")
    parser.add_argument("--library", type=Path, default=ROOT / "library")
    parser.add_argument("--out", type=Path, help="also write the JSON result here")
    args = parser.parse_args(argv)
    result = run(args.library, max(args.rounds, 1))
    print(table(result))
    line = json.dumps(result, ensure_ascii=False)
    print(line)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(line + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
