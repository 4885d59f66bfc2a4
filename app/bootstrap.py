"""The one composition root: every concrete object is built here from settings.

Tests call the same functions with fakes (an embedder, notifiers). Nothing is built at import.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from app.settings import Settings
from core.ports import Embedder
from knowledge.base import KnowledgeBase, open_knowledge_base

log = logging.getLogger(__name__)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "httpcore", "chromadb", "telegram", "urllib3", "jieba",
                  "sentence_transformers", "transformers", "apscheduler", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def offline_environment() -> None:
    """The desk never fetches a model from a hub at run time."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def build_embedder(settings: Settings) -> Embedder:
    from knowledge.embedder import load_embedder

    offline_environment()
    return load_embedder(
        settings.embedding_model,
        settings.models_dir,
        device=settings.embedding_device,
        query_prompt=settings.embedding_query_prompt,
        document_prompt=settings.embedding_document_prompt,
    )


def build_knowledge(
    settings: Settings, embedder: Embedder | None = None, *, reindex: bool = False
) -> KnowledgeBase:
    return open_knowledge_base(
        embedder or build_embedder(settings),
        settings.index_dir,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        answer_threshold=settings.answer_threshold,
        reindex_on_mismatch=reindex,
    )


def build_pipeline(settings: Settings, store: Any) -> Any:
    from ingest.pipeline import IngestPipeline

    return IngestPipeline(store, max_bytes=int(settings.max_file_mb * 1024 * 1024))


@dataclass
class Container:
    settings: Settings
    knowledge: KnowledgeBase
    pipeline: Any
    extras: dict[str, Any] = field(default_factory=dict)
