"""The library on a real Chroma server (`chroma run`, started here) through ``HttpClient``:
what ``QADESK_CHROMA_HOST`` selects. Several workers share one server; the server keeps the
library across its own restart; vectors of another model are refused there too."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app import bootstrap
from app.settings import Settings
from core.answers import Decision, FaqEntry
from core.errors import ModelMismatch
from ingest.pipeline import IngestPipeline, IngestStatus
from knowledge.answering import open_knowledge_base
from tests.fakes.embedder import FakeEmbedder

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LIBRARY = Path(__file__).resolve().parents[2] / "library"
SMALL_LAW = LIBRARY / "laws" / "L13_强制检定的工作计量器具检定管理办法_1987.md"


def _chroma_cli() -> str:
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    assert found, "the chroma CLI comes with the chromadb package"
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """One `chroma run` process on 127.0.0.1, persisting into ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = path.with_suffix(".log")

    def start(self, ready_within: float = 60.0) -> None:
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "ANONYMIZED_TELEMETRY": "False"}
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    _chroma_cli(),
                    "run",
                    "--path",
                    str(self.path),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + ready_within
        url = f"http://127.0.0.1:{self.port}/api/v2/heartbeat"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pytest.fail(f"chroma run exited: {self._log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling for readiness, not synchronising a result
        self.stop()
        pytest.fail("chroma run did not answer its heartbeat within a minute")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


@pytest.fixture
def server(tmp_path):
    chroma = ChromaServer(tmp_path / "chroma-server")
    chroma.start()
    yield chroma
    chroma.stop()


def _settings(tmp_path: Path, server: ChromaServer, worker: str) -> Settings:
    return Settings(
        data_dir=tmp_path / worker,
        chroma_host="127.0.0.1",
        chroma_port=server.port,
        _env_file=None,
    )


def test_workers_share_one_library_on_the_server(server, tmp_path, e5_embedder):
    first = bootstrap.build_knowledge(_settings(tmp_path, server, "worker-1"), e5_embedder)
    report = IngestPipeline(first).ingest_paths([SMALL_LAW])
    assert not report.errors and report.count(IngestStatus.ADDED) == 1

    answer = first.answer("强制检定的工作计量器具由谁来检定")
    assert answer.decision == Decision.ANSWER
    assert answer.citations[0].document == SMALL_LAW.name

    # a second worker with an empty data dir of its own: everything comes from the server
    second = bootstrap.build_knowledge(_settings(tmp_path, server, "worker-2"), e5_embedder)
    assert [d.file_name for d in second.documents()] == [SMALL_LAW.name]
    assert not (tmp_path / "worker-2" / "index" / "chroma").exists()
    again = second.answer("强制检定的工作计量器具由谁来检定")
    assert again.decision == Decision.ANSWER
    assert again.citations[0].chunk_id == answer.citations[0].chunk_id

    stored = first.add_faq(
        FaqEntry(
            "", "菜市场的电子秤多久检定一次", "一般每年检定一次。", (SMALL_LAW.name,), "e:1", ""
        )
    )
    second.sync(force=True)
    served = second.answer("菜市场电子秤多久要检定一次？")
    assert served.from_expert and served.faq_id == stored.faq_id

    first.remove(first.find_by_file(SMALL_LAW.name).doc_id)
    second.sync(force=True)
    assert second.documents() == []
    assert all(c.document != SMALL_LAW.name for c in second.answer("强制检定由谁来检定").citations)


def test_the_server_keeps_the_library_across_its_restart(server, tmp_path, e5_embedder):
    kb = open_knowledge_base(
        e5_embedder, tmp_path / "w", chroma_host="127.0.0.1", chroma_port=server.port
    )
    IngestPipeline(kb).ingest_paths([SMALL_LAW])
    chunks = len(kb.chunks(kb.find_by_file(SMALL_LAW.name).doc_id))
    server.stop()
    server.start()
    reopened = open_knowledge_base(
        e5_embedder, tmp_path / "w2", chroma_host="127.0.0.1", chroma_port=server.port
    )
    doc = reopened.find_by_file(SMALL_LAW.name)
    assert doc is not None and len(reopened.chunks(doc.doc_id)) == chunks
    assert reopened.answer("强制检定的工作计量器具由谁来检定").decision == Decision.ANSWER


def test_the_server_refuses_vectors_of_another_model(server, tmp_path, e5_embedder):
    kb = open_knowledge_base(
        e5_embedder, tmp_path / "w", chroma_host="127.0.0.1", chroma_port=server.port
    )
    IngestPipeline(kb).ingest_paths([SMALL_LAW])
    with pytest.raises(ModelMismatch, match="qadesk reindex"):
        open_knowledge_base(
            FakeEmbedder(), tmp_path / "w2", chroma_host="127.0.0.1", chroma_port=server.port
        )
