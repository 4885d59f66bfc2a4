"""Statistics record which composer wrote each desk answer and why the LLM's was not used
(migration 0006), on the real desk service and escalation store (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from core.people import Channel, UserRef
from desk import report
from desk.service import Desk
from escalation.store import EscalationStore
from knowledge.llm_composer import LlmComposer
from tests.fakes.knowledge import FakeKnowledge

QUESTION = "用于贸易结算的电子秤需要强制检定吗？"
GOOD = json.dumps(
    {"sentences": [{"text": "用于贸易结算的工作计量器具实行强制检定。", "passages": [1]}],
     "answerable": True},
    ensure_ascii=False,
)  # fmt: skip
SWAPPED = json.dumps(
    {"sentences": [{"text": "用于贸易结算的计量器具每3年强制检定。", "passages": [1]}],
     "answerable": True},
    ensure_ascii=False,
)  # fmt: skip


def test_stats_count_answers_by_composer_and_fallbacks_by_reason(tmp_path: Path) -> None:
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}")
    store.seed_roles(admins=["console:admin"])
    model = FakeListChatModel(responses=[GOOD, "not json", SWAPPED, GOOD])
    composer = LlmComposer(model)
    desk = Desk(FakeKnowledge(), store, composer=composer, compose_for=[Channel.TELEGRAM])
    try:
        for n in range(4):
            desk.ask(UserRef(Channel.TELEGRAM, str(100 + n)), QUESTION)
        desk.ask(UserRef(Channel.WECHAT, "w1"), QUESTION)  # not composed on this channel
        desk.ask(UserRef(Channel.TELEGRAM, "200"), "锅炉要年检吗？")  # escalated: no composer
        figures = desk.stats(UserRef(Channel.CONSOLE, "admin"))
    finally:
        composer.close()
        store.close()
    assert figures.answered_by_desk == 5 and figures.escalated == 1
    assert figures.composed_by == {"llm": 2, "extractive": 3}
    assert figures.composer_fallbacks == {"schema": 1, "nothing_left": 1}
    text = report.text_report(figures)
    assert "语言模型撰写（逐句核对过）：2" in text and "摘录原文：3" in text
    assert "改发原文摘录：2" in text and "输出格式不符：1" in text and "没有句子通过核对：1" in text
    rows = report.csv_rows(figures)
    assert ("composer", "llm", "2") in rows and ("composer_fallback", "schema", "1") in rows


def test_a_desk_without_a_composer_reports_as_before(tmp_path: Path) -> None:
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}")
    store.seed_roles(admins=["console:admin"])
    try:
        Desk(FakeKnowledge(), store).ask(UserRef(Channel.TELEGRAM, "1"), QUESTION)
        figures = Desk(FakeKnowledge(), store).stats(UserRef(Channel.CONSOLE, "admin"))
    finally:
        store.close()
    assert figures.composed_by == {"extractive": 1} and figures.composer_fallbacks == {}
    assert "撰写方式" not in report.text_report(figures)
