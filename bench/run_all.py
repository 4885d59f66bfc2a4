"""`make bench`: every benchmark in turn, each in its own process; numbers to the terminal and
to ``bench/results/``.

    .venv/bin/python -m bench.run_all [--questions FILE] [--only NAME ...] [--llm]

``--questions`` (an evaluation file, `make bench` passes ``EVAL``) feeds the answering, scale,
side-by-side and grounding benchmarks; without it the side-by-side and grounding ones are skipped. ``--llm`` adds the LLM
composer with the local model on ``--questions`` and ``--train`` (`make bench` passes it when
`make setup-llm` has prepared the model).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

QUESTIONS = object()  # placeholder for the question file in an argument list
TRAIN = object()  # placeholder for the real-question file (--train)
BENCHES: dict[str, list[object]] = {
    "ingest": ["--embed"],
    "embed": [],
    "answer": ["--questions", QUESTIONS],
    "scale": ["--questions", QUESTIONS],
    "baseline": ["--questions", QUESTIONS],
    "baseline_train": ["--questions", TRAIN, "--tune-on", QUESTIONS],
    "telegram": ["--desk", "real", "--embedder", "e5-small-offline"],
    "wechat": ["--desk", "real", "--embedder", "e5-small-offline"],
    "console": [],
    "grounding": ["--questions", QUESTIONS, TRAIN],
    # the README's composer figures: the first 30 answered questions of each file (all of them
    # take about 40 minutes on two cores)
    "llm": ["--questions", QUESTIONS, TRAIN, "--limit", "30"],
}
OPTIONAL = {"llm"}  # run only when asked for (--llm, or --only llm)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=Path, help="an evaluation file (JSONL)")
    parser.add_argument(
        "--train", type=Path, help="real questions: the side by side on them, tuned on --questions"
    )
    parser.add_argument("--only", nargs="*", choices=list(BENCHES), help="run only these")
    parser.add_argument("--llm", action="store_true", help="also the LLM composer benchmark")
    args = parser.parse_args(argv)
    have_questions = args.questions is not None and args.questions.exists()
    have_train = args.train is not None and args.train.exists()
    failed = 0
    for name in args.only or [n for n in BENCHES if n not in OPTIONAL or args.llm]:
        arguments = BENCHES[name]
        if name in ("llm", "grounding") and not have_train:
            arguments = [a for a in arguments if a is not TRAIN]
        if (TRAIN in arguments and not (have_train and have_questions)) or (
            QUESTIONS in arguments
            and not have_questions
            and (name.startswith("baseline") or name == "grounding")
        ):
            print(f"\n== {name}: skipped, it needs --questions FILE (and --train)", flush=True)
            continue
        if QUESTIONS in arguments and not have_questions:
            arguments = []
        module = name.removesuffix("_train")
        command = [sys.executable, "-m", f"bench.{module}_bench"]
        paths = {id(QUESTIONS): str(args.questions), id(TRAIN): str(args.train)}
        command += [paths.get(id(a), str(a)) for a in arguments]
        print(f"\n== {name}", flush=True)
        failed += subprocess.call(command) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
