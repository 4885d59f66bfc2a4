"""The ingest benchmark counts what it parsed and reports rates."""

from __future__ import annotations

import json
from pathlib import Path

from bench.ingest_bench import main, run


def test_bench_counts_documents_chunks_and_chars(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "关于示例的通知\n\n一、要求\n\n各地要认真落实。\n", encoding="utf-8"
    )
    (tmp_path / "skip.tsv").write_text("file\tsource\n", encoding="utf-8")
    result = run(tmp_path, rounds=3)
    assert (result["files"], result["documents"], result["chunks"]) == (1, 3, 3)
    assert result["chars"] == 3 * len("一、要求\n各地要认真落实。")
    assert result["documents_per_s"] > 0


def test_bench_prints_a_table_and_writes_json(tmp_path: Path, capsys: object) -> None:
    (tmp_path / "a.md").write_text("关于示例的通知\n\n各地要认真落实。\n", encoding="utf-8")
    out = tmp_path / "results" / "ingest.json"
    assert main(["--library", str(tmp_path), "--rounds", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()  # type: ignore[attr-defined]
    assert printed[0].startswith("files × rounds")
    assert json.loads(printed[-1]) == json.loads(out.read_text(encoding="utf-8"))
