"""Side by side: the desk and a plain "LangChain tutorial" pipeline, on the same library, the
same questions, the same embedding model and the same machine.

    .venv/bin/python -m bench.baseline_bench --questions FILE [--tune-on FILE] [--rebuild]

The baseline is what a tutorial builds: each library file loaded as text, split by
``RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)``, stored in
``langchain_chroma.Chroma`` (cosine space) with the desk's own e5 model and prompts behind
LangChain's ``Embeddings`` interface, searched with ``similarity_search_with_relevance_scores
(k=5)``; it answers with its best chunk when that chunk's relevance reaches a threshold and
escalates otherwise. Two variants of its input:

- ``raw``: the files as read (what ``TextLoader`` gives: HTML, Traditional script, pinyin);
- ``clean``: the desk's own reading and cleaning, so that only chunking, retrieval, the
  decision and the composition differ.

The threshold is swept and each variant is reported at its best threshold (the one maximising
the mean of the correct-answer rate and the escalation rates) on ``--tune-on`` (default: the
question file itself, i.e. tuned on the questions it is scored on). Both sides are measured by ``app.evaluation``, as
`qadesk eval` does, with the query cache off. The baseline's stores are kept in
``<data dir>/bench/baseline-<variant>`` for later runs.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common import emit, measuring_embedder, ms_percentiles, require_library, stopwatch
from core.answers import Answer, Citation, Decision

K = 5
THRESHOLDS = [round(0.70 + 0.005 * i, 3) for i in range(51)]  # 0.700 … 0.950


def _langchain_embeddings(embedder: Any) -> Any:
    from langchain_core.embeddings import Embeddings

    class SameModel(Embeddings):
        """The desk's embedder (model and prompts) behind LangChain's interface."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return list(embedder.embed_documents(texts))

        def embed_query(self, text: str) -> list[float]:
            return list(embedder.embed_query(text))

    return SameModel()


def _documents(library: Path, variant: str) -> list[Any]:
    from langchain_core.documents import Document

    from ingest.parsing import parse_file
    from ingest.pipeline import expand_paths

    docs = []
    for path, error in expand_paths([library]):
        if error is not None:
            continue
        if variant == "raw":
            text = path.read_text(encoding="utf-8", errors="replace")
        else:
            text = parse_file(path).text
        docs.append(Document(page_content=text, metadata={"source": path.name}))
    return docs


class Baseline:
    """The tutorial pipeline, built once per variant and kept on disk."""

    def __init__(self, embedder: Any, library: Path, variant: str, folder: Path) -> None:
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
        chunks = splitter.split_documents(_documents(library, variant))
        fingerprint = hashlib.sha256(
            "\0".join([embedder.model_id, *(c.page_content for c in chunks)]).encode()
        ).hexdigest()[:16]
        self.build_s = 0.0
        self.chunks = len(chunks)
        store_dir = folder / fingerprint
        self.store = Chroma(
            collection_name="tutorial",
            embedding_function=_langchain_embeddings(embedder),
            persist_directory=str(store_dir),
            collection_metadata={"hnsw:space": "cosine"},
        )
        if self.store._collection.count() != len(chunks):
            self.store.reset_collection()
            started = time.perf_counter()
            self.store.add_documents(chunks)
            self.build_s = round(time.perf_counter() - started, 1)

    def retrieve(self, question: str) -> list[tuple[Any, float]]:
        return list(self.store.similarity_search_with_relevance_scores(question, k=K))

    @staticmethod
    def decide(question: str, hits: Sequence[tuple[Any, float]], threshold: float) -> Answer:
        citations = tuple(
            Citation(
                document=str(doc.metadata.get("source", "")),
                title=str(doc.metadata.get("source", "")),
                chunk_id=f"{doc.metadata.get('source')}#{i}",
                text=doc.page_content,
                score=round(score, 4),
            )
            for i, (doc, score) in enumerate(hits)
        )
        best = hits[0][1] if hits else 0.0
        if best >= threshold:  # the answer is the best chunk, quoted whole
            text = hits[0][0].page_content
            quoted = (replace(citations[0], quote=text), *citations[1:])
            return Answer(question, Decision.ANSWER, text, quoted, best)
        return Answer(question, Decision.ESCALATE, "", citations, best)


def _score(summary: dict[str, Any]) -> float:
    rates = [summary["correct_answer_rate"]]
    rates += [v for k, v in summary.items() if k.startswith("escalation_rate[")]
    return sum(rates) / len(rates)


def _body(text: str) -> str:
    """What the asker reads before the list of sources (the desk's answers end with one)."""
    import prompts

    return text.split(prompts.text("answer.sources_title"))[0].strip()


def _measure(items: list[dict[str, Any]], answer: Callable[[str], Answer]) -> dict[str, Any]:
    from app.evaluation import run as evaluate
    from core.stats import percentile

    report = evaluate(items, answer)
    summary = report.summary()
    answered = [_body(o.answer.text) for o in report.outcomes if o.answered]
    summary["answer_chars_p50"] = percentile([len(t) for t in answered], 50)
    summary["answer_chars_max"] = max((len(t) for t in answered), default=None)
    return summary


def run(questions: Path, rebuild: bool, tune_on: Path | None = None) -> dict[str, Any]:
    import shutil

    import torch

    from app import bootstrap
    from app.evaluation import read_items
    from app.settings import Settings

    settings = Settings()
    items = read_items(questions.read_text("utf-8").splitlines())
    tuning = read_items((tune_on or questions).read_text("utf-8").splitlines())
    # every core while the baseline's store is built; no query cache, so neither side answers
    # from a vector the other one made
    embedder = measuring_embedder(settings, threads=None)
    times: dict[str, float] = {}
    baselines = {}
    for variant in ("raw", "clean"):
        folder = settings.data_dir / "bench" / f"baseline-{variant}"
        if rebuild:
            shutil.rmtree(folder, ignore_errors=True)
        with stopwatch(times, f"{variant}_open_s"):
            baselines[variant] = Baseline(embedder, settings.library_dir, variant, folder)
    torch.set_num_threads(1)  # answering: one thread per request, as the desk serves

    desk = require_library(bootstrap.build_knowledge(settings, embedder))
    name = "baseline" if tune_on is None else f"baseline-{questions.stem}"
    result: dict[str, Any] = {"bench": name, "questions": len(items), "open_s": times}
    result["desk"] = _measure(items, desk.answer)
    for variant, baseline in baselines.items():
        hits: dict[str, tuple[list[tuple[Any, float]], float]] = {}
        for item in items + tuning:
            question = str(item.get("question", ""))
            if question not in hits:
                started = time.perf_counter()
                hits[question] = (baseline.retrieve(question), time.perf_counter() - started)
        sweep = []
        for threshold in THRESHOLDS:
            summary = _measure(
                tuning, lambda q, t=threshold, h=hits: Baseline.decide(q, h[q][0], t)
            )
            sweep.append((_score(summary), threshold))
        _, threshold = max(sweep, key=lambda row: (row[0], -row[1]))
        best = _measure(items, lambda q, t=threshold, h=hits: Baseline.decide(q, h[q][0], t))
        seconds = [hits[str(item.get("question", ""))][1] for item in items]
        best.update(ms_percentiles(seconds, "latency_"))
        best["threshold"] = threshold
        best["chunks"] = baseline.chunks
        best["build_s"] = baseline.build_s
        result[f"langchain_{variant}"] = best
    return result


ROWS = [
    ("correct (answered, hit@5)", "correct_answer_rate", "pct"),
    ("answered", "answered_rate", "pct"),
    ("doc@1", "doc_at_1", "pct"),
    ("hit@5", "hit_at_5", "pct"),
    ("evidence in answer", "evidence_in_answer", "pct"),
    ("answer before sources p50 (chars)", "answer_chars_p50", "num"),
    ("answer before sources max (chars)", "answer_chars_max", "num"),
    ("latency p50 (ms)", "latency_p50_ms", "num"),
    ("latency p95 (ms)", "latency_p95_ms", "num"),
]


def rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    sides = [k for k in ("desk", "langchain_raw", "langchain_clean") if k in result]
    out = [("", " | ".join(f"{s:>16}" for s in sides))]
    escalations = [
        (f"{key[len('escalation_rate[') : -1]} escalated", key, "pct")
        for key in result["desk"]
        if key.startswith("escalation_rate[")
    ]
    for label, key, kind in ROWS[:5] + escalations + ROWS[5:]:
        cells = []
        for side in sides:
            value = result[side].get(key)
            if value is None:
                cells.append(f"{'–':>16}")
            elif kind == "pct":
                cells.append(f"{value * 100:>15.1f}%")
            else:
                cells.append(f"{value:>16.0f}")
        out.append((label, " | ".join(cells)))
    thresholds = ", ".join(
        f"{s}: {result[s]['threshold']}" for s in sides if "threshold" in result[s]
    )
    out.append(("baseline thresholds", thresholds))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=Path, required=True, help="an evaluation file")
    parser.add_argument("--rebuild", action="store_true", help="embed the baseline's chunks again")
    parser.add_argument(
        "--tune-on", type=Path, help="choose the baseline's threshold on this file (default: FILE)"
    )
    parser.add_argument("--out", type=Path, help="also write the JSON result here")
    args = parser.parse_args(argv)
    if not args.questions.exists():
        print(f"{args.questions}: no such question file", file=sys.stderr)
        return 2
    result = run(args.questions, args.rebuild, args.tune_on)
    emit(result, rows(result), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
