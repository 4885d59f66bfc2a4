"""The synthetic library of the scale benchmark: as many chunks as asked, cards like real
documents, unit vectors near their topic, and no real sentence copied whole."""

from __future__ import annotations

import numpy as np

from bench.scale_bench import _synthetic_documents

SENTENCES = [
    "生产者应当对其生产的产品质量负责。",
    "计量器具经检定不合格的，不得使用。",
    "检验检测机构应当依法取得资质认定。",
    "列入目录的产品必须经过强制性产品认证。",
    "企业标准的技术要求不得低于强制性国家标准。",
    "经营者应当保证其提供的商品符合保障人身安全的要求。",
]


def _real(docs: int = 3, per_doc: int = 4, dim: int = 16) -> dict[str, list]:
    rng = np.random.default_rng(1)
    real: dict[str, list] = {"ids": [], "texts": [], "metas": [], "vectors": []}
    for d in range(docs):
        for c in range(per_doc):
            text = "".join(SENTENCES[(d + c + k) % len(SENTENCES)] for k in range(3))
            vector = rng.normal(size=dim)
            real["ids"].append(f"d{d}:{c}")
            real["texts"].append(text)
            real["metas"].append({"doc_id": f"d{d}", "is_card": False})
            real["vectors"].append((vector / np.linalg.norm(vector)).tolist())
    return real


def test_makes_the_chunks_asked_for_with_one_card_per_document():
    made = list(_synthetic_documents(_real(), 45))
    ids = [i for parts in made for i in parts[0]]
    cards = [i for i in ids if i.endswith(":card")]
    assert len(ids) - len(cards) == 45
    assert len(cards) == len(made) == 3  # 20 + 20 + 5
    assert len(set(ids)) == len(ids)


def test_vectors_are_unit_and_near_real_passages():
    real = _real()
    vectors = np.asarray(real["vectors"])
    for _, _, metas, vecs in _synthetic_documents(real, 40):
        for meta, vec in zip(metas, vecs, strict=True):
            assert abs(np.linalg.norm(vec) - 1.0) < 1e-5
            if not meta["is_card"]:
                assert (vectors @ vec).max() > 0.3  # placed near a topic, not at random


def test_no_real_sentence_is_copied_whole():
    real = _real()
    texts = [t for _, ts, metas, _ in _synthetic_documents(real, 60) for t in ts]
    bodies = [t for t in texts if not t.startswith("标题")]
    copied = [s for s in SENTENCES if any(s in body for body in bodies)]
    assert len(copied) <= 1, copied  # a short sentence may recur by chance, not as a rule
