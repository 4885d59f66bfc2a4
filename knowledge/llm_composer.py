"""The optional LLM composer: natural sentences from the passages the desk decided to answer from.

The desk retrieves, ranks and decides as always (``knowledge.answering``); only an answer it
decided to give from the library reaches the model, with the passages it quotes, numbered. The
model returns structured output (``ComposedAnswer``): sentences, each with the numbers of the
passages it rests on, or ``answerable = false``. Every sentence goes through the grounding check
(``knowledge.grounding``); failing sentences are dropped.

Outcomes (``Answer.composer`` / ``Answer.fallback``):

* sentences left → the composed answer (``composer="llm"``), sources listed as the extractive
  composer lists them;
* ``answerable = false`` with no sentences → an escalation (the model may say the passages do
  not answer; it can never turn an escalation into an answer: escalations, expert FAQ answers
  and refusals are returned unchanged without calling it). A flag contradicted by sentences
  is ignored: the sentences are checked like any others (small models set it at random);
* a sentence that is a question (ends with ？) is dropped like one that fails the check;
* nothing left, a schema error, an unknown passage number, a timeout or any model error → the
  extractive answer, with ``fallback`` naming why.

LangChain stays behind this module: ``build_chat_model`` makes the ``ChatOpenAI`` client (imported
only when the settings name an endpoint), ``LlmComposer`` takes any LangChain chat model (the
tests use ``langchain_core``'s fake chat models).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

import prompts
from core.answers import Answer, Citation, Decision, EscalationReason
from knowledge.composer import compose_escalation, source_label, sources_block
from knowledge.grounding import COVERAGE_THRESHOLD, Grounding, check_sentence

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

    ChatModel = BaseChatModel  # what the composer takes: any LangChain chat model

log = logging.getLogger(__name__)

EXTRACTIVE = "extractive"
LLM = "llm"


class Fallback:
    """Why a composed answer was not used (``Answer.fallback``)."""

    TIMEOUT = "timeout"
    SCHEMA = "schema"
    UNKNOWN_CITATION = "unknown_citation"
    NOTHING_LEFT = "nothing_left"
    MODEL_ERROR = "model_error"


class ComposedSentence(BaseModel):
    """One sentence of the answer and the numbers of the passages it rests on."""

    text: str = Field(description="一句回答，沿用资料原文措辞")
    passages: list[int] = Field(description="这句话依据的资料编号")


class ComposedAnswer(BaseModel):
    """What the model must return."""

    sentences: list[ComposedSentence] = Field(description="回答的句子；资料不能回答时为空")
    answerable: bool = Field(description="资料不能回答问题时为 false")


@dataclass(frozen=True, slots=True)
class Checked:
    """The model's sentences after the check: kept ones and how many were dropped."""

    kept: list[tuple[str, list[int]]]
    dropped: int


class ComposeError(Exception):
    """The model's reply cannot be used (``reason`` is a ``Fallback`` value)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def build_chat_model(
    base_url: str,
    model: str,
    api_key: str | None,
    *,
    timeout_s: float,
    max_tokens: int = 400,
) -> BaseChatModel:
    """The ``ChatOpenAI`` client of an OpenAI-compatible endpoint (no request is made here)."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        base_url=base_url,
        model=model,
        api_key=SecretStr(api_key or "not-needed"),
        timeout=timeout_s,
        max_retries=0,
        temperature=0,
        max_completion_tokens=max_tokens,
    )


def structured(model: BaseChatModel) -> Runnable[Any, Any]:
    """The model asked for ``ComposedAnswer``: OpenAI's ``json_schema`` structured output where
    the model has it (raw message kept), else the plain reply, parsed here."""
    try:
        return model.with_structured_output(ComposedAnswer, method="json_schema", include_raw=True)
    except NotImplementedError:
        return model


def parse(reply: Any) -> ComposedAnswer:
    """The model's reply as ``ComposedAnswer``, or ``ComposeError(SCHEMA)``."""
    if isinstance(reply, dict) and "raw" in reply:  # structured output with include_raw
        parsed = reply.get("parsed")
        if isinstance(parsed, ComposedAnswer):
            return parsed
        reply = reply["raw"]
    if isinstance(reply, ComposedAnswer):
        return reply
    content = getattr(reply, "content", reply)
    if not isinstance(content, str):
        raise ComposeError(Fallback.SCHEMA, "no text")
    text = content.strip()
    if text.startswith("```"):  # a fenced block
        text = text.strip("`").removeprefix("json").strip()
    try:
        return ComposedAnswer.model_validate_json(text)
    except (ValidationError, ValueError) as exc:
        raise ComposeError(Fallback.SCHEMA, type(exc).__name__) from None


def check(
    composed: ComposedAnswer, passages: dict[int, str], threshold: float = COVERAGE_THRESHOLD
) -> Checked:
    """Keep the sentences that pass the grounding check; an unknown passage number anywhere
    means the model did not follow the numbering: ``ComposeError(UNKNOWN_CITATION)``."""
    kept: list[tuple[str, list[int]]] = []
    dropped = 0
    for sentence in composed.sentences:
        unknown = [n for n in sentence.passages if n not in passages]
        if unknown:
            raise ComposeError(Fallback.UNKNOWN_CITATION, str(unknown[0]))
        verdict = check_sentence(sentence.text, sentence.passages, passages, threshold)
        if verdict.ok and sentence.text.rstrip().endswith(("？", "?")):
            verdict = Grounding(False, "question", verdict.coverage)  # asks, does not answer
        if verdict.ok:
            kept.append((sentence.text.strip(), list(dict.fromkeys(sentence.passages))))
        else:
            dropped += 1
            log.info(
                "composed_sentence_dropped reason=%s coverage=%.2f",
                verdict.reason,
                verdict.coverage,
            )
    return Checked(kept, dropped)


class LlmComposer:
    """Rewrites the desk's library answers with a chat model, checked sentence by sentence.

    ``timeout_s`` bounds the whole call (the model runs in a worker thread; a reply later than
    that is ignored). ``budget`` is the characters the asker reads before the sources.
    """

    def __init__(
        self,
        model: BaseChatModel,
        *,
        timeout_s: float = 15.0,
        budget: int = 300,
        threshold: float = COVERAGE_THRESHOLD,
        workers: int = 2,
    ) -> None:
        self._runnable = structured(model)
        self._timeout_s = timeout_s
        self._budget = budget
        self._threshold = threshold
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm-composer")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __call__(self, answer: Answer) -> Answer:
        return self.compose(answer)

    def compose(self, answer: Answer) -> Answer:
        """The composed answer, an escalation when the model says the passages do not
        answer, or ``answer`` itself (with ``fallback`` set when the model was asked).

        The passages are those the extractive answer quotes (else its first citation)."""
        chosen = [c for c in answer.citations if c.quote] or list(answer.citations[:1])
        if answer.decision is not Decision.ANSWER or answer.from_expert or not chosen:
            return answer
        passages = {i: c.text for i, c in enumerate(chosen, start=1)}
        try:
            composed = parse(self._ask(answer.question, chosen))
            if not composed.answerable and not composed.sentences:
                return self._escalation(answer)
            checked = check(composed, passages, self._threshold)
        except ComposeError as exc:
            return self._fallback(answer, exc.reason)
        except Exception as exc:  # the model's own errors: connection, HTTP, server
            if _cut_off(exc):  # the reply hit the token limit: its JSON is incomplete
                return self._fallback(answer, Fallback.SCHEMA)
            log.warning("llm_composer_error error=%s", type(exc).__name__)
            return self._fallback(answer, Fallback.MODEL_ERROR)
        text, cited = self._render(answer, chosen, checked.kept)
        if not text:
            return self._fallback(answer, Fallback.NOTHING_LEFT)
        log.info("answer_composed sentences=%d dropped=%d", len(checked.kept), checked.dropped)
        return replace(answer, text=text, citations=cited, composer=LLM, fallback="")

    # --- steps ------------------------------------------------------------------------------
    def _ask(self, question: str, chosen: Sequence[Citation]) -> Any:
        listed = "\n\n".join(
            prompts.text("compose.passage", index=i, label=source_label(c), text=c.text)
            for i, c in enumerate(chosen, start=1)
        )
        messages = [
            ("system", prompts.text("compose.system")),
            ("human", prompts.text("compose.user", passages=listed, question=question)),
        ]
        future = self._pool.submit(self._runnable.invoke, messages)
        try:
            return future.result(timeout=self._timeout_s)
        except FutureTimeout:
            future.cancel()
            raise ComposeError(Fallback.TIMEOUT) from None

    def _render(
        self, answer: Answer, chosen: Sequence[Citation], kept: Sequence[tuple[str, list[int]]]
    ) -> tuple[str, tuple[Citation, ...]]:
        offer = prompts.text("answer.case_offer")
        lead = offer + "\n" if answer.text.startswith(offer) else ""
        body: list[str] = []
        used: list[int] = []
        length = len(lead)
        for sentence, numbers in kept:
            if length + len(sentence) > self._budget:
                continue  # the asker reads at most ``budget`` characters before the sources
            body.append(sentence)
            length += len(sentence)
            used.extend(n for n in numbers if n not in used)
        if not body:
            return "", answer.citations
        cited = tuple(chosen[n - 1] for n in used)
        return lead + "".join(body) + "\n\n" + sources_block(cited), cited

    def _escalation(self, answer: Answer) -> Answer:
        reason = EscalationReason.LOW_CONFIDENCE
        log.info("llm_composer_not_answerable")
        return replace(
            answer,
            decision=Decision.ESCALATE,
            text=compose_escalation(reason),
            reason=reason,
            composer=LLM,
            fallback="",
        )

    @staticmethod
    def _fallback(answer: Answer, reason: str) -> Answer:
        log.info("llm_composer_fallback reason=%s", reason)
        return replace(answer, composer=EXTRACTIVE, fallback=reason)


def describe(answer: Answer) -> str:
    """``composer`` or ``composer:fallback`` (for logs and reports)."""
    return f"{answer.composer}:{answer.fallback}" if answer.fallback else answer.composer


def _cut_off(exc: Exception) -> bool:
    """The OpenAI client's error for a structured reply cut off at the token limit."""
    try:
        from openai import LengthFinishReasonError
    except ImportError:  # another provider's client
        return False
    return isinstance(exc, LengthFinishReasonError)
