"""The calendar periods statistics are broken down by, and the grouping of rows into them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.people import Domain
from desk.statistics import MAX_PERIODS, PeriodUnit, breakdown, csv_report, periods
from escalation.breakdown import AskedRow, TicketRow

BEIJING = timezone(timedelta(hours=8))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_days_start_at_midnight_in_the_time_zone() -> None:
    spans = periods(utc(2025, 3, 2, 20), utc(2025, 3, 4, 1), PeriodUnit.DAY, BEIJING)
    # 2025-03-02 20:00 UTC is 03-03 04:00 in Beijing
    assert [s.date().isoformat() for s, _ in spans] == ["2025-03-03", "2025-03-04"]
    assert all(e - s == timedelta(days=1) for s, e in spans)
    assert spans[0][0].utcoffset() == timedelta(hours=8)


def test_weeks_start_on_monday_and_months_on_the_first_across_a_year_end() -> None:
    weeks = periods(utc(2025, 3, 6), utc(2025, 3, 12), PeriodUnit.WEEK, UTC)
    assert [s.date().isoformat() for s, _ in weeks] == ["2025-03-03", "2025-03-10"]
    months = periods(utc(2024, 11, 15), utc(2025, 2, 1), PeriodUnit.MONTH, UTC)
    assert [s.date().isoformat() for s, _ in months] == ["2024-11-01", "2024-12-01", "2025-01-01"]
    assert months[-1][1] == utc(2025, 2, 1)


def test_an_empty_or_endless_range_is_refused() -> None:
    with pytest.raises(ValueError):
        periods(utc(2025, 3, 3), utc(2025, 3, 3), PeriodUnit.DAY, UTC)
    with pytest.raises(ValueError):
        periods(
            utc(2020, 1, 1), utc(2020, 1, 1) + timedelta(days=MAX_PERIODS + 1), PeriodUnit.DAY, UTC
        )


def test_rows_fall_into_their_period_domain_and_channel() -> None:
    asked = [
        AskedRow(utc(2025, 3, 3, 1), "telegram", Domain.FOOD, False, True, None),
        AskedRow(utc(2025, 3, 3, 2), "wechat", Domain.METROLOGY, True, False, "not_helpful"),
        AskedRow(utc(2025, 3, 4, 2), "wechat", Domain.METROLOGY, True, False, "helpful"),
        AskedRow(utc(2025, 3, 4, 3), "wechat", Domain.TESTING, False, False, None, True),
    ]
    tickets = [  # opened on the 3rd, claimed after 10 minutes, answered on the 4th
        TicketRow(
            utc(2025, 3, 3, 1), "telegram", Domain.FOOD, utc(2025, 3, 3, 1, 10), utc(2025, 3, 4, 1)
        )
    ]
    stats = breakdown(asked, tickets, utc(2025, 3, 3), utc(2025, 3, 5), PeriodUnit.DAY, UTC)
    day3, day4 = stats.periods
    assert (day3.questions, day3.escalated, day3.tickets, day3.response_p50_s) == (2, 1, 1, 600.0)
    assert day3.resolution_p50_s is None and day4.resolution_p50_s == 86400.0
    assert (day4.questions, day4.auto_answer_rate, day4.tickets) == (2, 0.5, 0)
    assert (day3.clarified, day4.clarified) == (0, 1)  # asked back: neither answered nor sent on
    by_domain = {d.key: d for d in stats.domains}
    assert (by_domain["metrology"].questions, by_domain["food"].tickets) == (2, 1)
    assert by_domain["testing"].questions == 1 and by_domain["testing"].escalation_rate == 0.0
    assert by_domain["standards"].questions == 0 and by_domain["standards"].escalation_rate is None
    by_channel = {c.key: c for c in stats.channels}
    assert by_channel["wechat"].not_helpful == 1
    total = stats.total
    assert (total.questions, total.answered_by_desk, total.clarified) == (4, 2, 1)
    assert total.escalation_rate == pytest.approx(1 / 4)
    text = csv_report(stats)
    assert "total,all,4,2,0.5,1,0.25,1,1,1,600,600,86400,86400" in text
