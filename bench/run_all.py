"""`make bench`: every benchmark in turn, each in its own process, numbers to the terminal."""

from __future__ import annotations

import subprocess
import sys

BENCHES = [
    "bench.ingest_bench",
    "bench.embed_bench",
    "bench.answer_bench",
    "bench.telegram_bench",
    "bench.wechat_bench",
]


def main() -> int:
    failed = 0
    for module in BENCHES:
        print(f"\n== {module}", flush=True)
        failed += subprocess.call([sys.executable, "-m", module, *sys.argv[1:2]]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
