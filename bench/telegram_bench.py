"""Telegram throughput: many users asking at once, through the stand-in Bot API over HTTP.

    .venv/bin/python -m bench.telegram_bench [--users 50] [--rounds 3] [--desk fake|real]
        [--think-ms 0] [--embedder fake] [--overall-rate 30] [--out FILE]

Each round, ``--users`` simulated users send one question each at the same moment; the real
python-telegram-bot Application (long polling, rate limiter, concurrent updates) answers them
through the stand-in server. Latency is from the moment a question is queued on the server to
the moment the answer arrives there. ``--overall-rate`` is the bot-wide limit of messages per
second (Telegram's is 30, and "typing…" counts); 0 turns it off to measure the bot itself.
``--desk real`` is the desk ``app.bootstrap.build`` makes (SQLite, Chroma and BM25 in a
temporary data dir) with the bundled library ingested (``--embedder fake`` — the tests'
deterministic embedder — or a model name as ``qadesk serve`` loads it); the default is the
in-memory desk of the tests, optionally thinking ``--think-ms`` per answer.

Prints a short table and one JSON line; ``--out`` also writes the JSON to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common import emit, ms_percentiles
from core.people import UserRef
from desk.api import Reply
from tests.fakes.desk import FakeDesk
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import FAST, Telegram, no_proxy, running_bot, tg_user

ROOT = Path(__file__).resolve().parent.parent

FAKE_QUESTIONS = ["3C认证要多久？", "哪些产品要做3C？", "3C标志怎么印？", "进口产品要3C吗？"]
REAL_QUESTIONS = [
    "电子秤需要强制检定吗？",
    "企业标准需要备案吗？",
    "检验检测机构资质认定证书有效期多久？",
    "生产者对产品质量承担哪些责任？",
]


class ThinkingDesk(FakeDesk):
    """The in-memory desk, taking ``think_s`` per answer like a real retrieval would."""

    def __init__(self, think_s: float) -> None:
        super().__init__()
        self.think_s = think_s

    def ask(self, user: UserRef, text: str) -> Reply:
        if self.think_s:
            time.sleep(self.think_s)
        return super().ask(user, text)


async def one_round(
    api: FakeBotApi, tg: Telegram, questions: list[str], users: int, base: int
) -> list[float]:
    """All users ask at once; the latency of each answer in seconds."""
    asked: dict[int, float] = {}
    for n in range(users):
        uid = base + n
        asked[uid] = time.monotonic()
        await tg.text(tg_user(uid, f"用户{n}"), questions[n % len(questions)])

    def answered() -> dict[int, float] | None:
        found: dict[int, float] = {}
        for uid in asked:
            replies = api.messages(uid)
            if replies:
                found[uid] = replies[-1].sent_at
        return found if len(found) == users else None

    done: dict[int, float] = await api.wait_for(answered, timeout=300, what="every answer")
    return [done[uid] - asked[uid] for uid in asked]


async def run(
    users: int, rounds: int, desk: Any, questions: list[str], overall_rate: float
) -> dict[str, Any]:
    tuning = replace(FAST, overall_max_rate=overall_rate, flood_capacity=5, concurrent_updates=256)
    latencies: list[float] = []
    with no_proxy():
        async with FakeBotApi() as api, running_bot(api, desk, tuning=tuning):
            tg = Telegram(api)
            await one_round(api, tg, questions, min(users, 5), base=90_000)  # warm-up
            started = time.monotonic()
            for r in range(rounds):
                latencies += await one_round(api, tg, questions, users, base=100_000 + r * 1_000)
            wall = time.monotonic() - started
    return {
        "bench": "telegram",
        "users": users,
        "rounds": rounds,
        "answers": len(latencies),
        "wall_s": round(wall, 3),
        "answers_per_s": round(len(latencies) / wall, 1),
        **ms_percentiles(latencies, "latency_"),
        "overall_rate_limit": overall_rate or None,
        "python": platform.python_version(),
    }


def real_desk(data_dir: Path, embedder_name: str) -> Any:
    """The desk ``app.bootstrap.build`` makes (SQLite, Chroma and BM25 in ``data_dir``), with the
    bundled library ingested as ``qadesk setup`` does. ``embedder_name`` ``fake`` is the tests'
    deterministic embedder; any other value is an embedding model loaded as the server does."""
    from app import bootstrap
    from app.settings import Settings

    values: dict[str, Any] = {"data_dir": data_dir, "library_dir": ROOT / "library"}
    embedder: Any = None
    if embedder_name == "fake":
        from tests.fakes.embedder import FakeEmbedder

        embedder = FakeEmbedder()
    else:
        values["embedding_model"] = embedder_name
    settings = Settings.model_validate(values)
    container = bootstrap.build(settings, embedder=embedder)
    container.pipeline.ingest_paths([settings.library_dir / "laws"])
    return container.desk


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--desk", choices=["fake", "real"], default="fake")
    parser.add_argument("--think-ms", type=float, default=0.0, help="fake desk time per answer")
    parser.add_argument("--embedder", default="fake", help="real desk: fake, or a model name")
    parser.add_argument("--overall-rate", type=float, default=30.0, help="messages/s, 0 = off")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("bm25s", "chromadb", "httpx", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="qadesk-bench-") as folder:
        if args.desk == "real":
            desk, questions = real_desk(Path(folder), args.embedder), REAL_QUESTIONS
        else:
            desk, questions = ThinkingDesk(args.think_ms / 1000), FAKE_QUESTIONS
        result = asyncio.run(run(args.users, args.rounds, desk, questions, args.overall_rate))
    fake = f"fake(think={args.think_ms:g}ms)"
    result["desk"] = f"real(embedder={args.embedder})" if args.desk == "real" else fake

    result["bot_wide_limit"] = f"{args.overall_rate:g} msg/s" if args.overall_rate else "off"
    rows = [
        ("users at once", result["users"]),
        ("rounds", result["rounds"]),
        ("desk", result["desk"]),
        ("bot-wide limit", result["bot_wide_limit"]),
        ("answers/s", result["answers_per_s"]),
        ("latency p50", f"{result['latency_p50_ms']} ms"),
        ("latency p95", f"{result['latency_p95_ms']} ms"),
        ("latency max", f"{result['latency_max_ms']} ms"),
    ]
    emit(result, rows, args.out)


if __name__ == "__main__":
    main()
