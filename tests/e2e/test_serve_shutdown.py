"""A real ``qadesk serve`` process whose SQLite database another connection keeps locked: the
askers are told honestly that their questions were kept (on disk, under the data dir), and
SIGTERM ends the process within a few seconds although the database never came back."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import prompts
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import Telegram, no_proxy, tg_user
from tests.fakes.telegram_wire import listening_socket

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

QADESK = Path(sys.executable).with_name("qadesk")
SHUTDOWN_WITHIN_S = 8.0


async def poll(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_sigterm_ends_qadesk_serve_within_seconds_while_its_database_is_locked(
    tmp_path: Path, e5_model_dir: Path
) -> None:
    with no_proxy():
        async with FakeBotApi() as api:
            probe = listening_socket()
            port = probe.getsockname()[1]
            probe.close()
            env = os.environ | {
                "QADESK_DATA_DIR": str(tmp_path),
                "QADESK_EMBEDDING_MODEL": str(e5_model_dir),
                "QADESK_TELEGRAM_TOKEN": api.token,
                "QADESK_TELEGRAM_API_URL": api.base_url,
                "QADESK_PORT": str(port),
                "QADESK_DATABASE_BUSY_TIMEOUT_S": "0.5",
                "QADESK_LOG_LEVEL": "WARNING",
            }
            log = (tmp_path / "serve.log").open("w")
            server = subprocess.Popen(
                [str(QADESK), "serve"], env=env, cwd=tmp_path, stdout=log, stderr=log
            )
            lock = None
            try:
                await api.wait_for(lambda: api.polling >= 1, timeout=180, what="long polling")
                lock = sqlite3.connect(tmp_path / "qadesk.sqlite3", isolation_level=None)
                lock.execute("BEGIN IMMEDIATE")  # and it is never given back
                tg = Telegram(api)
                users = [4001 + n for n in range(5)]
                for round_ in range(2):
                    for uid in users:
                        await tg.text(tg_user(uid), f"锅炉要年检吗？第{round_ + 1}台")
                await api.wait_for(
                    lambda: sum(len(api.messages(u)) for u in users) >= 2 * len(users),
                    timeout=120,
                    what="a reply to every question",
                )
                said = [m.plain for u in users for m in api.messages(u)]
                spooled = sorted((tmp_path / "spool").glob("*.json"))
                asked_to_stop = time.monotonic()
                server.send_signal(signal.SIGTERM)
                await poll(lambda: server.poll() is not None, 60, "the server to exit")
                took = time.monotonic() - asked_to_stop
            finally:
                if server.poll() is None:
                    server.kill()
                server.wait(timeout=30)
                log.close()
                if lock is not None:
                    lock.close()
    assert took < SHUTDOWN_WITHIN_S, (tmp_path / "serve.log").read_text()[-3000:]
    assert set(said) == {prompts.text("desk.spool.escalation_kept")}
    assert len(spooled) == 2 * len(users)  # every question kept for when the database is back
