"""The LLM composer over LangChain's fake chat models: each reply ends as specified."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    FakeListChatModelError,
)

from core.answers import Answer, Citation, Decision, EscalationReason
from knowledge.llm_composer import EXTRACTIVE, LLM, Fallback, LlmComposer

PASSAGE = (
    "第十二条 列入目录的产品，生产者应当委托经指定的认证机构进行认证。"
    "目录共包括26个产品类别，未经认证的，不得出厂、销售、进口。"
)
OTHER = "第三十条 计量器具经检定合格的，由检定单位出具检定证书。"


def citation(chunk: str, text: str, quote: str) -> Citation:
    return Citation(
        document="ccc.txt",
        title="强制性产品认证管理规定",
        chunk_id=chunk,
        text=text,
        score=1.0,
        article=text.split(" ")[0],
        quote=quote,
    )


def extractive() -> Answer:
    cites = (
        citation("c1", PASSAGE, "未经认证的，不得出厂、销售、进口。"),
        citation("c2", OTHER, "由检定单位出具检定证书。"),
        citation("c3", "第四十条 其他规定。", ""),
    )
    return Answer("充电宝要不要3C认证？", Decision.ANSWER, "根据……“未经认证的……”", cites, 0.8)


def reply(*sentences: tuple[str, list[int]], answerable: bool = True) -> str:
    return json.dumps(
        {
            "answerable": answerable,
            "sentences": [{"text": t, "passages": p} for t, p in sentences],
        },
        ensure_ascii=False,
    )


def composer(*responses: str, **options: Any) -> LlmComposer:
    return LlmComposer(FakeListChatModel(responses=list(responses)), **options)


def test_a_grounded_answer_is_composed_with_its_sources() -> None:
    answer = composer(
        reply(
            ("列入目录的产品，生产者应当委托指定的认证机构进行认证。", [1]),
            ("未经认证的，不得出厂、销售、进口。", [1]),
        )
    ).compose(extractive())
    assert answer.composer == LLM and answer.fallback == ""
    assert answer.decision is Decision.ANSWER
    assert answer.text.startswith("列入目录的产品")
    assert "《强制性产品认证管理规定》第十二条" in answer.text
    assert [c.chunk_id for c in answer.citations] == ["c1"]  # only what the sentences cite


def test_a_failing_sentence_is_dropped_and_the_rest_kept() -> None:
    answer = composer(
        reply(
            ("未经认证的，不得出厂、销售、进口。", [1]),
            ("目录共包括28个产品类别。", [1]),
        )
    ).compose(extractive())
    assert answer.composer == LLM
    assert "28" not in answer.text and "不得出厂" in answer.text


def test_bad_json_falls_back_to_the_extractive_answer() -> None:
    original = extractive()
    answer = composer('{"answerable": true, "sentences": [{"text": "未经认证').compose(original)
    assert answer.composer == EXTRACTIVE and answer.fallback == Fallback.SCHEMA
    assert answer.text == original.text and answer.citations == original.citations


def test_an_unknown_passage_number_falls_back() -> None:
    answer = composer(reply(("未经认证的，不得出厂、销售、进口。", [3]))).compose(extractive())
    assert answer.fallback == Fallback.UNKNOWN_CITATION
    assert answer.text == extractive().text


def test_a_swapped_number_alone_falls_back() -> None:
    answer = composer(reply(("目录共包括28个产品类别。", [1]))).compose(extractive())
    assert answer.fallback == Fallback.NOTHING_LEFT
    assert answer.text == extractive().text


def test_a_flipped_negation_alone_falls_back() -> None:
    answer = composer(reply(("生产者不应当委托指定的认证机构进行认证。", [1]))).compose(
        extractive()
    )
    assert answer.fallback == Fallback.NOTHING_LEFT
    assert answer.decision is Decision.ANSWER and answer.text == extractive().text


def test_an_off_topic_citation_alone_falls_back() -> None:
    answer = composer(reply(("未经认证的，不得出厂、销售、进口。", [2]))).compose(extractive())
    assert answer.fallback == Fallback.NOTHING_LEFT


def test_a_timeout_falls_back_at_the_deadline() -> None:
    release = threading.Event()

    class Stuck(FakeListChatModel):
        def _call(self, *args: Any, **kwargs: Any) -> str:
            release.wait(10)
            return reply(("未经认证的，不得出厂、销售、进口。", [1]))

    slow = LlmComposer(Stuck(responses=["unused"]), timeout_s=0.2)
    try:
        answer = slow.compose(extractive())
    finally:
        release.set()
        slow.close()
    assert answer.fallback == Fallback.TIMEOUT and answer.composer == EXTRACTIVE
    assert answer.text == extractive().text


def test_a_model_error_falls_back() -> None:
    class Unreachable(FakeListChatModel):
        def _call(self, *args: Any, **kwargs: Any) -> str:
            raise FakeListChatModelError

    failing = LlmComposer(Unreachable(responses=["x"]))
    answer = failing.compose(extractive())
    assert answer.fallback == Fallback.MODEL_ERROR


def test_passages_that_do_not_answer_escalate() -> None:
    answer = composer(reply(answerable=False)).compose(extractive())
    assert answer.decision is Decision.ESCALATE
    assert answer.reason is EscalationReason.LOW_CONFIDENCE
    assert answer.composer == LLM


@pytest.mark.parametrize(
    "original",
    [
        Answer(
            "q",
            Decision.ESCALATE,
            "转人工",
            extractive().citations,
            0.2,
            EscalationReason.LOW_CONFIDENCE,
        ),
        Answer("q", Decision.ANSWER, "专家解答", (), 0.95, from_expert=True),
    ],
)
def test_the_model_never_sees_escalations_or_expert_answers(original: Answer) -> None:
    class Refuses(FakeListChatModel):
        def _call(self, *args: Any, **kwargs: Any) -> str:
            raise AssertionError("the model was asked")

    answer = LlmComposer(Refuses(responses=["x"])).compose(original)
    assert answer == original


def test_the_prompt_numbers_only_the_quoted_passages() -> None:
    seen: list[str] = []

    class Records(FakeListChatModel):
        def _call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
            seen.append(messages[-1].content)
            return reply(("未经认证的，不得出厂、销售、进口。", [1]))

    LlmComposer(Records(responses=["x"])).compose(extractive())
    assert "[1]" in seen[0] and "[2]" in seen[0] and "[3]" not in seen[0]
    assert "充电宝要不要3C认证" in seen[0]


def test_a_not_answerable_flag_beside_sentences_is_ignored() -> None:
    answer = composer(reply(("未经认证的，不得出厂、销售、进口。", [1]), answerable=False)).compose(
        extractive()
    )
    assert answer.decision is Decision.ANSWER and answer.composer == LLM


def test_a_sentence_that_asks_is_dropped() -> None:
    answer = composer(
        reply(("列入目录的产品，生产者应当委托指定的认证机构进行认证吗？", [1]))
    ).compose(extractive())
    assert answer.fallback == Fallback.NOTHING_LEFT


def test_sentences_past_the_budget_are_left_out() -> None:
    long = "列入目录的产品，生产者应当委托经指定的认证机构进行认证。" * 3
    answer = composer(
        reply((long, [1]), ("未经认证的，不得出厂、销售、进口。", [1])), budget=60
    ).compose(extractive())
    assert answer.composer == LLM
    assert answer.text.startswith("未经认证的，不得出厂、销售、进口。\n\n")


def test_a_reply_cut_off_at_the_token_limit_is_a_schema_error() -> None:
    import openai
    from openai.types.chat import ChatCompletion

    cut = ChatCompletion.model_construct(id="c", choices=[], created=0, model="m")

    class CutOff(FakeListChatModel):
        def _call(self, *args: Any, **kwargs: Any) -> str:
            raise openai.LengthFinishReasonError(completion=cut)

    answer = LlmComposer(CutOff(responses=["x"])).compose(extractive())
    assert answer.fallback == Fallback.SCHEMA
