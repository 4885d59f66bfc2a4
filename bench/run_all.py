"""`make bench`: every benchmark in turn, each in its own process; numbers to the terminal and
to ``bench/results/``.

    .venv/bin/python -m bench.run_all [--questions FILE] [--only NAME ...]

``--questions`` (an evaluation file, `make bench` passes ``EVAL``) feeds the answering, scale and
side-by-side benchmarks; without it the side-by-side one is skipped.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

QUESTIONS = object()  # placeholder for the question file in an argument list
BENCHES: dict[str, list[object]] = {
    "ingest": ["--embed"],
    "embed": [],
    "answer": ["--questions", QUESTIONS],
    "scale": ["--questions", QUESTIONS],
    "baseline": ["--questions", QUESTIONS],
    "telegram": ["--desk", "real", "--embedder", "e5-small-offline"],
    "wechat": ["--desk", "real", "--embedder", "e5-small-offline"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=Path, help="an evaluation file (JSONL)")
    parser.add_argument("--only", nargs="*", choices=list(BENCHES), help="run only these")
    args = parser.parse_args(argv)
    have_questions = args.questions is not None and args.questions.exists()
    failed = 0
    for name in args.only or list(BENCHES):
        arguments = BENCHES[name]
        if QUESTIONS in arguments and not have_questions:
            if name == "baseline":
                print(f"\n== {name}: skipped, it needs --questions FILE", flush=True)
                continue
            arguments = []
        command = [sys.executable, "-m", f"bench.{name}_bench"]
        command += [str(args.questions) if a is QUESTIONS else str(a) for a in arguments]
        print(f"\n== {name}", flush=True)
        failed += subprocess.call(command) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
