"""The fake embedder other unit tests rely on, and the embedder's name handling (no model)."""

from __future__ import annotations

import math
from pathlib import Path

from core.ports import Embedder
from knowledge.embedder import SentenceTransformerEmbedder, resolve_model
from tests.fakes.embedder import FakeEmbedder


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_fake_embedder_is_a_deterministic_unit_length_port() -> None:
    fake = FakeEmbedder()
    assert isinstance(fake, Embedder)
    a = fake.embed_documents(["强制检定的计量器具", "食品召回"])
    assert a == FakeEmbedder().embed_documents(["强制检定的计量器具", "食品召回"])
    for vector in [*a, fake.embed_query(""), fake.embed_query("！！")]:
        assert len(vector) == 256
        assert math.isclose(sum(v * v for v in vector), 1.0)
    assert fake.documents_embedded == 2
    assert fake.queries_embedded == 2


def test_fake_embedder_ranks_shared_words_higher() -> None:
    fake = FakeEmbedder()
    question = fake.embed_query("菜市场的秤要不要检定")
    near, far = fake.embed_documents(["集贸市场使用的秤实行强制检定", "食品生产者应当召回食品"])
    assert _cos(question, near) > _cos(question, far) + 0.2


def test_fake_model_id_names_its_dimension() -> None:
    assert FakeEmbedder(64).model_id != FakeEmbedder(128).model_id


def test_resolve_model_passes_other_names_through(tmp_path: Path) -> None:
    for name in ("BAAI/bge-small-zh-v1.5", "intfloat/multilingual-e5-small", "/srv/models/m3e"):
        assert resolve_model(name, tmp_path) == name
    assert list(tmp_path.iterdir()) == []


def test_embedder_construction_loads_nothing(tmp_path: Path) -> None:
    embedder = SentenceTransformerEmbedder("BAAI/bge-small-zh-v1.5", device="cpu")
    assert "bge-small-zh" in repr(embedder)
    assert embedder._model is None
