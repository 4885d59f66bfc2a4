"""The desk on a library of 100,000 chunks: warm `ask` latency, restart cost, memory, and how
the answers hold up among that many distractors.

    .venv/bin/python -m bench.scale_bench [--chunks N] [--questions FILE] [--rebuild]

Needs the bundled library set up (`qadesk setup`). The big library is the real one plus
synthetic documents, built in ``<data dir>/bench/scale-<N>`` and kept for later runs:

- each synthetic document has a title in the library's style (region, subject, kind, a serial
  number), a card like real documents, and 20 chunks remixed from the real library (see
  ``Remixer``): the domain's words and phrasing on a coherent topic, so BM25 and the coverage
  measure meet realistic distractors, but no real sentence copied whole;
- a synthetic chunk's vector lies near its topic: as close to the topic's passages as real
  passages of *other* documents are to their nearest neighbour (a cosine drawn from that
  measured distribution), turned towards another real passage. So distractors crowd every
  topic the way a bigger library of related documents would, without being copies. Embedding
  100,000 chunks for real would take about an hour on two cores (see ``bench.ingest_bench``).

Questions come from an evaluation file (then quality at scale is reported with the same
measures as `qadesk eval`) or the built-in list of ``bench.answer_bench``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import emit, measuring_embedder, ms_percentiles, peak_rss_mb, stopwatch

CHUNKS_PER_DOC = 20
REGIONS = ["江苏省", "浙江省", "广东省", "四川省", "山东省", "河南省", "湖北省", "福建省", "南京市"]
REGIONS += ["杭州市", "深圳市", "成都市", "青岛市", "郑州市", "武汉市", "厦门市", "苏州市"]
SUBJECTS = ["质量提升", "计量监督", "标准化", "认证认可", "检验检测", "食品安全", "产品召回"]
SUBJECTS += ["网络交易监管", "消费维权", "生产许可", "质量基础设施", "特种设备", "价格监管"]
KINDS = ["工作方案", "实施意见", "管理办法", "实施细则", "工作要点", "专项行动通知"]


class Remixer:
    """Synthetic passages remixed from the library: each one has a topic (a real passage and
    two of its nearest neighbours) and is made of short runs of 2–6 words, mostly from its
    topic's passages, sometimes from anywhere. Runs are short, so no real sentence is copied
    whole (a copied evidence sentence would make a distractor a correct source)."""

    def __init__(
        self, texts: list[str], docs: list[str], vectors: np.ndarray, rng: random.Random
    ) -> None:
        import jieba

        self._rng = rng
        self._words = [[w for w in jieba.lcut(t) if w.strip()] or ["。"] for t in texts]
        similar = vectors @ vectors.T
        np.fill_diagonal(similar, -1.0)
        self._neighbours = np.argsort(-similar, axis=1)[:, :10]
        same_doc = np.asarray(docs)[:, None] == np.asarray(docs)[None, :]
        # how close real passages come to their nearest passage of another document
        self._closeness = np.where(same_doc, -1.0, similar).max(axis=1)
        self._vectors = vectors

    def passage(self, min_chars: int, max_chars: int) -> tuple[str, np.ndarray]:
        """A passage and where its vector lies (weighted mean of its topic, normalised)."""
        rng = self._rng
        primary = rng.randrange(len(self._words))
        topic = [primary, *rng.sample(list(self._neighbours[primary]), 2)]
        target = rng.randint(min_chars, max_chars)
        text = ""
        while len(text) < target:
            owner = rng.choices(topic, weights=(6, 2, 2))[0] if rng.random() < 0.85 else None
            words = self._words[owner if owner is not None else rng.randrange(len(self._words))]
            start = rng.randrange(len(words))
            text += "".join(words[start : start + rng.randint(2, 6)])
            if rng.random() < 0.2:
                text += rng.choice("，，。；")
        return text[:max_chars].rstrip("，；") + "。", self._place(topic)

    def _place(self, topic: list[int]) -> np.ndarray:
        centre = self._vectors[topic].T @ np.asarray([0.6, 0.2, 0.2], dtype=np.float32)
        centre /= np.linalg.norm(centre)
        towards = self._vectors[self._rng.randrange(len(self._vectors))]
        aside = towards - float(towards @ centre) * centre
        aside /= np.linalg.norm(aside) or 1.0
        cosine = float(self._rng.choice(list(self._closeness)))
        vector: np.ndarray = cosine * centre + np.sqrt(max(0.0, 1.0 - cosine**2)) * aside
        return vector / np.linalg.norm(vector)


def _real_records(index: Any) -> dict[str, list[Any]]:
    records: dict[str, list[Any]] = {"ids": [], "texts": [], "metas": [], "vectors": []}
    offset, page = 0, 2000
    while True:
        got = index.chunks.get(
            include=["documents", "metadatas", "embeddings"], limit=page, offset=offset
        )
        records["ids"] += got["ids"]
        records["texts"] += got["documents"] or []
        records["metas"] += got["metadatas"] or []
        records["vectors"] += list(got["embeddings"])
        if len(got["ids"]) < page:
            return records
        offset += page


def _synthetic_documents(real: dict[str, list[Any]], chunks: int, seed: int = 7) -> Any:
    """Yield (ids, texts, metas, vectors) per synthetic document until ``chunks`` are made."""
    from core.documents import Chunk, DocumentKind, SourceDocument
    from knowledge import index_records

    rng = random.Random(seed)
    body = [i for i, m in enumerate(real["metas"]) if not m.get("is_card")]
    vectors = np.asarray(real["vectors"], dtype=np.float32)[body]
    docs = [str(real["metas"][i].get("doc_id")) for i in body]
    remixer = Remixer([real["texts"][i] for i in body], docs, vectors, rng)
    made, serial = 0, 0
    while made < chunks:
        serial += 1
        size = min(CHUNKS_PER_DOC, chunks - made)
        region, subject, kind = rng.choice(REGIONS), rng.choice(SUBJECTS), rng.choice(KINDS)
        doc = SourceDocument(
            doc_id=f"syn{serial:06d}",
            file_name=f"syn{serial:06d}.md",
            title=f"{region}{subject}{kind}（样本{serial}）",
            kind=DocumentKind.NOTICE,
            content_hash=f"syn{serial:06d}",
            doc_number=f"{region[:2]}市监{subject[:1]}〔{2015 + serial % 10}〕{serial % 97 + 1}号",
            issuer=f"{region}市场监督管理局",
            date_issued=f"{2015 + serial % 10}-{serial % 12 + 1:02d}-{serial % 28 + 1:02d}",
        )
        ids, texts, metas, vecs = [], [], [], []
        articles = serial % 2 == 0  # half read like regulations, half like notices
        for ordinal in range(size):
            text, vector = remixer.passage(150, 450)
            n = ordinal + 1
            chunk = Chunk(
                chunk_id=f"{doc.doc_id}:{ordinal}",
                doc_id=doc.doc_id,
                ordinal=ordinal,
                text=f"第{n}条 {text}" if articles else text,
                section="" if articles else f"{'一二三四五'[ordinal % 5]}、{subject}",
                article=f"第{n}条" if articles else None,
                article_no=n if articles else None,
            )
            ids.append(chunk.chunk_id)
            texts.append(chunk.text)
            metas.append(index_records.chunk_metadata(doc, chunk))
            vecs.append(vector)
        card = np.mean(vecs, axis=0)
        ids.append(index_records.card_id(doc.doc_id))
        texts.append(index_records.card_text(doc))
        metas.append(index_records.card_metadata(doc))
        vecs.append(card / np.linalg.norm(card))
        made += size
        yield ids, texts, metas, vecs


def build(settings: Any, embedder: Any, target: Path, chunks: int) -> dict[str, Any]:
    """Write the real library plus synthetic documents into ``target``; return timings."""
    from knowledge.answering import open_knowledge_base
    from knowledge.vector_index import ChromaIndex

    source = ChromaIndex(embedder, path=settings.index_dir / "chroma")
    real = _real_records(source)
    if not real["ids"]:
        raise SystemExit("the library is empty: run `qadesk setup` first")
    shutil.rmtree(target, ignore_errors=True)
    times: dict[str, float] = {}
    index = ChromaIndex(embedder, path=target / "chroma")
    with stopwatch(times, "vectors_write_s"):
        index.upsert_vectors(
            index.chunks, real["ids"], real["texts"], real["metas"], real["vectors"]
        )
        real_body = sum(1 for m in real["metas"] if not m.get("is_card"))
        pending: list[list[Any]] = [[], [], [], []]
        for parts in _synthetic_documents(real, max(0, chunks - real_body)):
            for bucket, values in zip(pending, parts, strict=True):
                bucket += values
            if len(pending[0]) >= 5000:
                index.upsert_vectors(index.chunks, *pending)
                pending = [[], [], [], []]
        if pending[0]:
            index.upsert_vectors(index.chunks, *pending)
    index.mark_model()
    index.bump_version()
    with stopwatch(times, "keyword_index_build_s"):
        open_knowledge_base(embedder, target)  # tokenises every chunk, writes the BM25 file
    times["records"] = index.chunks.count()
    (target / "scale.json").write_text(json.dumps({"chunks": chunks, **times}), "utf-8")
    return times


def run(chunks: int, questions_file: Path | None, rebuild: bool) -> dict[str, Any]:
    from app.evaluation import run as evaluate
    from app.settings import Settings
    from knowledge.answering import open_knowledge_base

    settings = Settings()
    embedder = measuring_embedder(settings)
    target = settings.data_dir / "bench" / f"scale-{chunks}"
    built = target / "scale.json"
    if rebuild or not built.exists() or json.loads(built.read_text("utf-8"))["chunks"] != chunks:
        print(f"building a library of {chunks:,} chunks in {target} …", flush=True)
        times = build(settings, embedder, target, chunks)
    else:
        times = {k: v for k, v in json.loads(built.read_text("utf-8")).items() if k != "chunks"}
    from bench.answer_bench import questions_from

    questions, items = questions_from(questions_file)

    started = time.perf_counter()
    kb = open_knowledge_base(embedder, target)
    kb.answer(questions[0])
    open_to_first = time.perf_counter() - started
    latencies: list[float] = []
    for question in questions:  # warm: every question once before timing
        kb.answer(question)
    for _ in range(2):
        for question in questions:
            t = time.perf_counter()
            kb.answer(question)
            latencies.append(time.perf_counter() - t)
    result: dict[str, Any] = {
        "bench": f"scale-{chunks}",
        "records": times.get("records"),
        "build_vectors_write_s": times.get("vectors_write_s"),
        "build_keyword_index_s": times.get("keyword_index_build_s"),
        "open_to_first_answer_s": round(open_to_first, 2),
        "asks": len(latencies),
        **ms_percentiles(latencies, "warm_"),
        "peak_rss_mb": peak_rss_mb(),
        "disk_mb": round(sum(f.stat().st_size for f in target.rglob("*") if f.is_file()) / 2**20),
    }
    if items:
        summary = evaluate(items, kb.answer).summary()
        for key, value in summary.items():
            if not key.startswith(("latency", "count", "questions", "answerable")):
                result[f"eval_{key}"] = round(value, 3)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--questions", type=Path, help="an evaluation file (JSONL)")
    parser.add_argument("--rebuild", action="store_true", help="build the big library again")
    parser.add_argument("--out", type=Path, help="also write the JSON result here")
    args = parser.parse_args(argv)
    result = run(args.chunks, args.questions, args.rebuild)
    rows = [(key.replace("_", " "), value) for key, value in result.items() if key != "bench"]
    emit(result, rows, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
