"""WeChat channel under load: many users ask at once through the stand-in WeChat platform.

    .venv/bin/python -m bench.wechat_bench [--users 50] [--median-s 2.0] [--sigma 0.6]
                                           [--budget-s 4.0] [--timeout-s 5.0] [--seed 7]
                                           [--threads N] [--desk fake|service|real]
                                           [--embedder fake|MODEL] [--out FILE]

The channel runs on uvicorn on 127.0.0.1 exactly as in production (4 s budget, WeChat's 5 s
timeout and three deliveries), pushing slow answers to the stand-in API server. The desk is the
in-memory fake (``--desk fake``) or the desk service with its SQLite store and the desk tests'
knowledge base (``--desk service``); either way each question takes a blocking think time drawn
from a log-normal distribution (median ``--median-s``, shape ``--sigma``, seeded), standing in
for retrieval and composition. ``--desk real`` is the real desk over SQLite, Chroma and BM25
with the bundled library (``--embedder fake``, or a model name as ``qadesk serve`` loads it),
thinking for itself. Desk work runs on asyncio's default thread pool, or ``--threads`` of
them.

Reports the share of questions answered on the fast path (a passive reply inside WeChat's
window), and for the others the end-to-end latency from the question to the customer-service
message. Prints a short table and one JSON line; ``--out`` also writes the JSON to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import emit
from bench.common import table as format_table
from core.answers import Answer
from core.people import UserRef
from core.stats import percentile
from desk.api import Reply
from tests.fakes.desk import FakeDesk
from tests.fakes.knowledge import FakeKnowledge
from tests.fakes.wechat_platform import new_openid, wechat_rig

QUESTIONS = {
    "fake": "3C认证需要哪些材料？编号{i}",
    "service": "用于贸易结算的电子秤需要强制检定吗？编号{i}",
    "real": "电子秤需要强制检定吗？（{i}号）",
}


class Think:
    """Per-question think time, blocking the calling thread as real retrieval does, and when
    each question reached the desk."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.started: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, question: str) -> None:
        with self._lock:
            self.started[question] = time.time()
        time.sleep(self.seconds.get(question, 0.0))


class ThinkingDesk(FakeDesk):
    """The in-memory fake desk, thinking before it answers."""

    def __init__(self, think: Think) -> None:
        super().__init__()
        self.think = think

    def ask(self, user: UserRef, text: str) -> Reply:
        self.think(text)
        return super().ask(user, text)


class ThinkingKnowledge(FakeKnowledge):
    """The desk tests' knowledge base, thinking before it answers."""

    def __init__(self, think: Think) -> None:
        super().__init__()
        self.think = think

    def answer(self, question: str) -> Answer:
        self.think(question)
        return super().answer(question)


class TimedDesk:
    """The real desk, noting when each question reached it (its think time is its own)."""

    def __init__(self, desk: Any, think: Think) -> None:
        self._desk = desk
        self._think = think
        self.asked = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._desk, name)

    def ask(self, user: UserRef, text: str) -> Reply:
        self._think(text)
        self.asked += 1
        return self._desk.ask(user, text)  # type: ignore[no-any-return]


@contextmanager
def open_desk(
    kind: str, think: Think, embedder: str = "fake"
) -> Iterator[tuple[Any, Callable[[], int]]]:
    """The desk to measure and a count of the questions it answered: the in-memory fake; the
    desk service on a SQLite file (every question, reply and channel state written) with the
    desk tests' knowledge base; or the real desk over SQLite, Chroma and BM25 with the bundled
    library (``embedder``: ``fake``, or a model name as ``qadesk serve`` loads it)."""
    if kind == "fake":
        desk = ThinkingDesk(think)
        yield desk, lambda: len(desk.asked)
        return
    from desk.service import Desk
    from escalation.store import EscalationStore

    with tempfile.TemporaryDirectory(prefix="qadesk-bench-") as tmp:
        if kind == "real":
            from bench.telegram_bench import real_desk

            real = TimedDesk(real_desk(Path(tmp), embedder), think)
            try:
                yield real, lambda: real.asked
            finally:
                real.store.close()
            return
        store = EscalationStore.open(f"sqlite:///{Path(tmp) / 'desk.sqlite3'}")
        knowledge = ThinkingKnowledge(think)
        try:
            yield Desk(knowledge, store), lambda: len(knowledge.questions)
        finally:
            store.close()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


async def run(
    users: int,
    median_s: float,
    sigma: float,
    budget_s: float,
    timeout_s: float,
    seed: int,
    threads: int | None = None,
    desk_kind: str = "fake",
    embedder: str = "fake",
) -> dict[str, Any]:
    pool_size = threads or min(32, (os.cpu_count() or 1) + 4)  # asyncio's default pool
    if threads:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(threads))
    rng = random.Random(seed)
    template = QUESTIONS[desk_kind]  # a question each desk answers from its library
    questions = [template.format(i=i) for i in range(users)]
    real = desk_kind == "real"  # the real desk thinks for itself
    think = Think(
        {q: 0.0 if real else rng.lognormvariate(math.log(median_s), sigma) for q in questions}
    )
    openids = [new_openid() for _ in range(users)]
    with open_desk(desk_kind, think, embedder) as (desk, answered):
        result = await _measure(desk, questions, openids, budget_s, timeout_s)
        desk_calls = answered()
    queued = [
        think.started[q] - result["sent_at"][o] for o, q in zip(openids, questions, strict=True)
    ]
    exchanges, slow_latency = result["exchanges"], result["slow_latency"]
    fast = [e for e in exchanges if e.reply is not None and not e.violations]
    fast_latency = [e.elapsed for e in fast]
    slow = [e for e in exchanges if e.accepted and e.reply is None]
    return {
        "bench": "wechat",
        "desk": desk_kind if desk_kind != "real" else f"real(embedder={embedder})",
        "users": users,
        "budget_s": budget_s,
        "wechat_timeout_s": timeout_s,
        "think_median_s": None if real else median_s,
        "think_sigma": None if real else sigma,
        "think_over_budget": None if real else sum(t > budget_s for t in think.seconds.values()),
        "seed": seed,
        "fast": len(fast),
        "fast_share": round(len(fast) / users, 3),
        "fast_p50_s": _round(percentile(fast_latency, 50)),
        "fast_p95_s": _round(percentile(fast_latency, 95)),
        "slow": len(slow),
        "slow_e2e_p50_s": _round(percentile(slow_latency, 50)),
        "slow_e2e_p95_s": _round(percentile(slow_latency, 95)),
        "slow_e2e_max_s": _round(max(slow_latency, default=None)),
        "deliveries": sum(e.deliveries for e in exchanges),
        "gave_up": sum(e.gave_up for e in exchanges),
        "violations": sum(len(e.violations) for e in exchanges),
        "desk_calls": desk_calls,
        "desk_queue_p95_s": _round(percentile(queued, 95)),
        "desk_threads": pool_size,
        "python": platform.python_version(),
    }


async def _measure(
    desk: Any, questions: list[str], openids: list[str], budget_s: float, timeout_s: float
) -> dict[str, Any]:
    """Everyone asks at once; returns the exchanges, when each was sent, and the slow path's
    end-to-end latencies (question to customer-service message)."""
    async with wechat_rig(desk, budget_s=budget_s, timeout_s=timeout_s) as rig:
        sent_at: dict[str, float] = {}

        async def ask(openid: str, question: str) -> Any:
            sent_at[openid] = time.time()
            return await rig.platform.send_text(openid, question)

        exchanges = await asyncio.gather(
            *(ask(o, q) for o, q in zip(openids, questions, strict=True))
        )
        slow = [e for e in exchanges if e.accepted and e.reply is None]
        await rig.api.wait_until(lambda: all(rig.api.texts_to(e.openid) for e in slow), timeout=120)
        pushed_at = {s.openid: s.at for s in reversed(rig.api.sent)}
    slow_latency = [pushed_at[e.openid] - sent_at[e.openid] for e in slow]
    return {"exchanges": exchanges, "sent_at": sent_at, "slow_latency": slow_latency}


def rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("users asking at once", f"{r['users']} (desk: {r['desk']})"),
        (
            "desk think time",
            "its own (retrieval and composition)"
            if r["think_median_s"] is None
            else f"log-normal, median {r['think_median_s']} s, σ {r['think_sigma']}"
            f" ({r['think_over_budget']} over the {r['budget_s']} s budget)",
        ),
        (
            "fast path (passive reply)",
            f"{r['fast']} = {r['fast_share']:.0%}"
            f"  p50 {r['fast_p50_s']} s  p95 {r['fast_p95_s']} s",
        ),
        (
            "slow path (客服消息)",
            f"{r['slow']}  end-to-end p50 {r['slow_e2e_p50_s']} s"
            f"  p95 {r['slow_e2e_p95_s']} s  max {r['slow_e2e_max_s']} s",
        ),
        (
            "deliveries / gave up / bad replies",
            f"{r['deliveries']} / {r['gave_up']} / {r['violations']}",
        ),
        ("desk calls (one per question)", str(r["desk_calls"])),
        (
            "wait for a desk thread, p95",
            f"{r['desk_queue_p95_s']} s ({r['desk_threads']} threads for desk work)",
        ),
    ]


def table(r: dict[str, Any]) -> str:
    return format_table(rows(r))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--median-s", type=float, default=2.0)
    parser.add_argument("--sigma", type=float, default=0.6)
    parser.add_argument("--budget-s", type=float, default=4.0)
    parser.add_argument("--timeout-s", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--threads", type=int, help="threads for desk work (default: asyncio's default pool)"
    )
    parser.add_argument(
        "--desk",
        choices=["fake", "service", "real"],
        default="fake",
        help="the in-memory fake desk, the desk service on SQLite, or the real desk",
    )
    parser.add_argument("--embedder", default="fake", help="real desk: fake, or a model name")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    result = asyncio.run(
        run(
            args.users,
            args.median_s,
            args.sigma,
            args.budget_s,
            args.timeout_s,
            args.seed,
            args.threads,
            args.desk,
            args.embedder,
        )
    )
    emit(result, rows(result), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
