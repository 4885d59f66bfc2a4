"""Service statistics over a seeded history, for any period, as text and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.errors import NotPermitted
from desk import report
from desk.api import Stats
from desk.service import Desk
from tests.fakes.clock import START
from tests.fakes.history import (
    BAIJIU,
    BAIJIU_B,
    EXPERT,
    TOYS,
    A,
    at,
    seeded_desk,
)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    seeded, store = seeded_desk(f"sqlite:///{tmp_path / 'stats.sqlite3'}")
    try:
        yield seeded
    finally:
        store.close()


def test_figures_for_the_whole_history(desk: Desk) -> None:
    stats = desk.stats(EXPERT)
    assert (stats.askers, stats.questions, stats.answered_by_desk) == (3, 5, 2)
    assert (stats.escalated, stats.answered_by_experts) == (3, 2)
    assert (stats.claim_p50_s, stats.claim_p90_s) == pytest.approx((1200.0, 1680.0))
    assert (stats.answer_p50_s, stats.answer_p90_s) == pytest.approx((2700.0, 3420.0))
    assert (stats.helpful, stats.not_helpful, stats.helpful_ratio) == (1, 1, 0.5)
    assert stats.backlog_by_domain == {
        "metrology": 0,
        "standards": 0,
        "certification": 0,
        "testing": 0,
        "quality": 0,
        "food": 1,
        "other": 0,
    }
    assert stats.top_unanswered == [(BAIJIU, 2), (TOYS, 1)]


def test_figures_since_a_moment(desk: Desk) -> None:
    stats = desk.stats(EXPERT, since=at(2))
    assert (stats.askers, stats.questions, stats.escalated) == (2, 2, 2)
    assert stats.answered_by_experts == 2
    assert (stats.helpful, stats.not_helpful, stats.helpful_ratio) == (0, 0, None)
    assert stats.top_unanswered == [(TOYS, 1), (BAIJIU_B, 1)]


def test_figures_until_a_moment_show_the_backlog_as_it_was(desk: Desk) -> None:
    stats = desk.stats(EXPERT, until=at(40))
    assert stats.answered_by_experts == 1
    assert (stats.answer_p50_s, stats.answer_p90_s) == (1800.0, 1800.0)
    assert stats.backlog_by_domain["certification"] == 1
    assert stats.backlog_by_domain["food"] == 1
    empty = desk.stats(EXPERT, until=START - timedelta(days=1))
    assert (empty.questions, empty.claim_p50_s, sum(empty.backlog_by_domain.values())) == (
        0,
        None,
        0,
    )


def test_the_text_report_names_every_figure_in_chinese(desk: Desk) -> None:
    text = report.text_report(desk.stats(EXPERT))
    for expected in (
        "服务统计（全部时间）",
        "服务的提问人：3",
        "收到的问题：5",
        "系统直接回答：2",
        "转交专家：3",
        "专家答复：2",
        "认领用时（中位数 / 90%）：20 分钟 / 28 分钟",
        "答复用时（中位数 / 90%）：45 分钟 / 57 分钟",
        "有用率：50.0%",
        "食品：1",
        f"2 次｜{BAIJIU}",
    ):
        assert expected in text


def test_the_csv_report_has_one_row_per_figure(desk: Desk) -> None:
    rows = list(csv.reader(io.StringIO(report.csv_report(desk.stats(EXPERT, since=at(0))))))
    assert rows[0] == ["section", "key", "value"]
    values = {(section, key): value for section, key, value in rows[1:]}
    assert values[("period", "since")] == at(0).isoformat()
    assert values[("figure", "questions")] == "5"
    assert values[("figure", "claim_p90_s")] == "1680.0"
    assert values[("figure", "helpful_ratio")] == "0.5"
    assert values[("backlog", "food")] == "1"
    assert values[("unanswered", BAIJIU)] == "2"


def test_an_empty_period_reads_as_dashes() -> None:
    empty = Stats(None, None, 0, 0, 0, 0, 0, None, None, None, None, 0, 0)
    text = report.text_report(empty)
    assert "有用率：—" in text
    assert "（无）" in text


def test_only_experts_and_admins_see_the_figures_and_the_library(desk: Desk) -> None:
    """The desk checks who asks, whatever the channel or command."""
    with pytest.raises(NotPermitted):
        desk.stats(A)
    with pytest.raises(NotPermitted):
        desk.documents(A)
    assert isinstance(desk.documents(EXPERT), list)
