"""Characters nobody sees are dropped before a question is searched, stored or printed."""

from __future__ import annotations

import json

import pytest

from app.cli.main import jsonl_answer
from app.settings import Settings
from core.answers import Answer, Decision
from core.text import strip_invisible
from knowledge.text import normalize_question


@pytest.mark.parametrize(
    "dirty",
    ["充电宝\x00要3C吗", "充电宝\u202e要3C吗", "\ufeff充电宝\u200b要3C吗", "充电宝\ud800要3C吗"],
)
def test_controls_bidi_zero_width_and_lone_surrogates_are_dropped(dirty):
    assert strip_invisible(dirty) == "充电宝要3C吗"
    assert normalize_question(dirty) == "充电宝要3C吗"


def test_line_breaks_tabs_and_ordinary_text_stay():
    assert strip_invisible("第一条\n\t质量") == "第一条\n\t质量"


class _Echo:
    def __init__(self):
        self.asked: list[str] = []

    def answer(self, question):
        self.asked.append(question)
        return Answer(question, Decision.ESCALATE, f"收到：{question}")


def test_a_lone_surrogate_in_an_ask_batch_costs_nobody_their_answer():
    kb, settings = _Echo(), Settings(_env_file=None)  # type: ignore[call-arg]
    lines = ['{"id": 1, "question": "\\ud800充电宝要3C吗"}', '{"id": 2, "question": "电子秤"}']
    records = [jsonl_answer(kb, line, settings) for line in lines]
    assert [r["id"] for r in records] == [1, 2]
    assert kb.asked == ["充电宝要3C吗", "电子秤"]
    for record in records:  # every line can be written out as UTF-8
        json.dumps(record, ensure_ascii=False).encode("utf-8")
