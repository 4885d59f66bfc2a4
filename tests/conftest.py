"""Shared fixtures for the whole test suite. Keep each one small and session-scoped when costly.

Tests never reach a model hub: the environment below is set before anything imports
``huggingface_hub``. Local servers started by tests are reached without a proxy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from knowledge.embedder import SentenceTransformerEmbedder

REPO_ROOT = Path(__file__).resolve().parents[1]


def _offline_test_environment() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    for variable in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in os.environ.get(variable, "").split(",") if h.strip()]
        for host in ("127.0.0.1", "localhost"):
            if host not in hosts:
                hosts.append(host)
        os.environ[variable] = ",".join(hosts)


_offline_test_environment()


@pytest.fixture(scope="session")
def test_models_dir() -> Path:
    """Where prepared models persist across test runs (``QADESK_TEST_MODELS_DIR`` overrides)."""
    configured = os.environ.get("QADESK_TEST_MODELS_DIR")
    return Path(configured) if configured else REPO_ROOT / "var" / "test-models"


@pytest.fixture(scope="session")
def e5_model_dir(test_models_dir: Path) -> Path:
    """The offline e5 model folder, prepared once and reused by later runs (a no-op then)."""
    from knowledge.e5_offline import MODEL_NAME, prepare_e5_small

    return prepare_e5_small(test_models_dir / MODEL_NAME)


@pytest.fixture(scope="session")
def e5_embedder(e5_model_dir: Path) -> SentenceTransformerEmbedder:
    """The real offline embedder, loaded once per session. Do not change its settings."""
    from knowledge.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(e5_model_dir)
    embedder.load()
    return embedder
