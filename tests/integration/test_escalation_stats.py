"""Service statistics on SQLite and PostgreSQL, over the seeded history of the desk's unit
tests (the queries use FILTER, DISTINCT and timestamp ranges; both databases must agree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.databases import BACKENDS, fresh_database
from tests.fakes.history import BAIJIU, EXPERT, TOYS, at, seeded_desk

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_figures_agree_on_every_backend(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        desk, store = seeded_desk(url)
        try:
            whole = desk.stats(EXPERT)
            since = desk.stats(EXPERT, since=at(2))
            until = desk.stats(EXPERT, until=at(40))
        finally:
            store.close()
    assert (whole.askers, whole.questions, whole.answered_by_desk) == (3, 5, 2)
    assert (whole.escalated, whole.answered_by_experts) == (3, 2)
    assert (whole.claim_p50_s, whole.claim_p90_s) == pytest.approx((1200.0, 1680.0))
    assert (whole.answer_p50_s, whole.answer_p90_s) == pytest.approx((2700.0, 3420.0))
    assert (whole.helpful, whole.not_helpful) == (1, 1)
    assert whole.backlog_by_domain["food"] == 1
    assert sum(whole.backlog_by_domain.values()) == 1
    assert whole.top_unanswered == [(BAIJIU, 2), (TOYS, 1)]
    assert (since.askers, since.questions, since.escalated, since.helpful) == (2, 2, 2, 0)
    assert until.answered_by_experts == 1
    assert (until.backlog_by_domain["certification"], until.backlog_by_domain["food"]) == (1, 1)
