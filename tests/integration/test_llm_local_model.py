"""The LLM composer against a real model on a real OpenAI-compatible server: xllamacpp serving
Qwen2.5-Coder-0.5B (assembled by ``qadesk setup-llm``) on 127.0.0.1, driven through the
production ``ChatOpenAI`` path. The model is weak, so only properties are asserted: each answer
is composed from schema-valid output or falls back to the extractive one; what it cites was
supplied; every sentence the asker reads passed the grounding check. When the model cannot be
prepared the test fails and says why."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler

import prompts
from core.answers import Answer, Decision
from ingest.pipeline import IngestPipeline
from knowledge.answering import KnowledgeBase, open_knowledge_base
from knowledge.grounding import check_sentence
from knowledge.llm_composer import (
    EXTRACTIVE,
    LLM,
    ComposeError,
    Fallback,
    LlmComposer,
    build_chat_model,
    parse,
)
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LIBRARY = REPO_ROOT / "library"
SLICE = [
    LIBRARY / "laws" / "L03_计量法_2018.md",
    LIBRARY / "seeds" / "001_56e88020fa1795a7.txt",
]
QUESTIONS = ["个体户可以自己修秤吗", "2021年一站式服务行动的目标是为多少家企业提供服务"]
FALLBACKS = {
    Fallback.TIMEOUT,
    Fallback.SCHEMA,
    Fallback.UNKNOWN_CITATION,
    Fallback.NOTHING_LEFT,
    Fallback.MODEL_ERROR,
}


class Replies(BaseCallbackHandler):
    """The raw text of every reply the model wrote."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.texts.extend(g.text for gens in response.generations for g in gens)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    from app.llm_setup import LlmSetupError, prepare_llm

    data_dir = Path(os.environ.get("QADESK_DATA_DIR") or REPO_ROOT / "var")
    try:
        gguf = prepare_llm(data_dir)  # quick when `make setup-llm` has run
    except LlmSetupError as exc:
        pytest.fail(f"the local model could not be prepared: {exc}")
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # busy-waiting threads starve on two shared cores
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.n_ctx = 2048
    params.n_parallel = 1
    params.port = 0  # any free port
    params.verbosity = 0
    server = xllamacpp.Server(params)
    try:
        address = server.listening_address
        assert address.startswith("http://127.0.0.1:")
        yield f"{address}/v1"
    finally:
        del server


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, e5_embedder: Any) -> KnowledgeBase:
    knowledge = open_knowledge_base(e5_embedder, tmp_path_factory.mktemp("kb"))
    assert not IngestPipeline(knowledge).ingest_paths(SLICE).errors
    return knowledge


def body_of(answer: Answer) -> str:
    return answer.text.split("\n\n", 1)[0]


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_local_model_composes_only_grounded_sentences_or_falls_back(
    server_url: str, kb: KnowledgeBase, question: str
) -> None:
    extractive = kb.answer(question)
    assert extractive.decision is Decision.ANSWER  # the desk decided; the model only rewrites
    replies = Replies()
    model = build_chat_model(server_url, "local", None, timeout_s=120, max_tokens=160)
    model.callbacks = [replies]
    composer = LlmComposer(model, timeout_s=150)
    try:
        answer = composer.compose(extractive)
    finally:
        composer.close()
    supplied = [c for c in extractive.citations if c.quote] or list(extractive.citations[:1])
    passages = {i: c.text for i, c in enumerate(supplied, start=1)}
    if answer.composer == EXTRACTIVE:
        assert answer.fallback in FALLBACKS
        assert answer.text == extractive.text and answer.citations == extractive.citations
        return
    assert answer.composer == LLM and answer.fallback == ""
    assert {c.chunk_id for c in answer.citations} <= {c.chunk_id for c in supplied}
    [raw] = replies.texts
    try:
        composed = parse(raw)  # what the server returned is schema-valid
    except ComposeError as exc:
        pytest.fail(f"composed from a reply that is not schema-valid: {exc}")
    if answer.decision is Decision.ESCALATE:  # "the passages do not answer"
        assert not composed.sentences
        return
    for sentence in composed.sentences:
        assert set(sentence.passages) <= set(passages)
    passing = [
        s.text.strip()
        for s in composed.sentences
        if check_sentence(s.text, s.passages, passages).ok and not s.text.rstrip().endswith("？")
    ]
    rest = body_of(answer).removeprefix(prompts.text("answer.case_offer") + "\n")
    for sentence in passing:  # the body is passing sentences, in order, some left out
        rest = rest.removeprefix(sentence)
    assert rest == "", (body_of(answer), passing)
