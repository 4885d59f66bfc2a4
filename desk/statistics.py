"""Service statistics broken down per period (day, week, month), domain and channel, and
their CSV (pure functions over the rows of :mod:`escalation.breakdown`).

Figures follow the desk's own (:meth:`desk.service.Desk.stats`): a question counts in the
period it was asked; a ticket is an escalation in the period it was opened; the first-response
time (opened → first claimed) and the resolution time (opened → first answered) count in the
period the claim or the answer happened.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from core.people import Channel, Domain
from core.stats import Stats, percentile
from escalation.breakdown import AskedRow, TicketRow

MAX_PERIODS = 400  # a breakdown longer than this is refused (ask for weeks or months)


class PeriodUnit(StrEnum):
    DAY = "day"
    WEEK = "week"  # Monday to Sunday
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of one group (a period, a domain, a channel, or all)."""

    key: str  # the period's first day (YYYY-MM-DD), the domain's or the channel's value, "all"
    questions: int = 0
    answered_by_desk: int = 0
    escalated: int = 0  # questions that went to an expert
    clarified: int = 0  # questions the desk asked back about (which of a few things was meant)
    not_helpful: int = 0
    tickets: int = 0  # tickets opened
    response_p50_s: float | None = None  # opened → first claimed
    response_p90_s: float | None = None
    resolution_p50_s: float | None = None  # opened → first answered
    resolution_p90_s: float | None = None

    @property
    def auto_answer_rate(self) -> float | None:
        return self.answered_by_desk / self.questions if self.questions else None

    @property
    def escalation_rate(self) -> float | None:
        return self.escalated / self.questions if self.questions else None


@dataclass(frozen=True, slots=True)
class Statistics:
    since: datetime
    until: datetime
    unit: PeriodUnit
    total: Figures
    periods: list[Figures] = field(default_factory=list)
    domains: list[Figures] = field(default_factory=list)
    channels: list[Figures] = field(default_factory=list)
    figures: Stats | None = None  # the desk's own figures for the range (askers, backlog, topics)


def _start_of(moment: datetime, unit: PeriodUnit) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit is PeriodUnit.WEEK:
        return day - timedelta(days=day.weekday())
    if unit is PeriodUnit.MONTH:
        return day.replace(day=1)
    return day


def _next(start: datetime, unit: PeriodUnit) -> datetime:
    if unit is PeriodUnit.DAY:
        return start + timedelta(days=1)
    if unit is PeriodUnit.WEEK:
        return start + timedelta(days=7)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month)


def periods(
    since: datetime, until: datetime, unit: PeriodUnit, zone: tzinfo
) -> list[tuple[datetime, datetime]]:
    """The calendar periods covering ``[since, until)`` in the time zone ``zone``: each a
    ``[start, end)`` pair of aware datetimes, the first starting at or before ``since``
    (midnight, the Monday, the 1st of the month), in order. ValueError when ``until`` is not
    after ``since`` or there would be more than :data:`MAX_PERIODS`."""
    if until <= since:
        raise ValueError("the period ends before it starts")
    found: list[tuple[datetime, datetime]] = []
    start = _start_of(since.astimezone(zone), unit)
    while start < until:
        end = _next(start, unit)
        found.append((start, end))
        if len(found) > MAX_PERIODS:
            raise ValueError(f"more than {MAX_PERIODS} periods")
        start = end
    return found


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds())


def figures(
    key: str,
    asked: Iterable[AskedRow],
    opened: Iterable[TicketRow],
    claimed: Iterable[TicketRow],
    answered: Iterable[TicketRow],
) -> Figures:
    """The figures of one group: ``asked`` in it, tickets ``opened``, first ``claimed`` and
    first ``answered`` in it (times are percentiles, see ``core.stats.percentile``)."""
    questions = list(asked)
    response = [s for t in claimed if (s := _seconds(t.created_at, t.first_claimed_at)) is not None]
    resolution = [
        s for t in answered if (s := _seconds(t.created_at, t.first_answered_at)) is not None
    ]
    return Figures(
        key=key,
        questions=len(questions),
        answered_by_desk=sum(1 for q in questions if q.answered),
        escalated=sum(1 for q in questions if q.escalated),
        clarified=sum(1 for q in questions if q.clarified),
        not_helpful=sum(1 for q in questions if q.feedback == "not_helpful"),
        tickets=sum(1 for _ in opened),
        response_p50_s=percentile(response, 50),
        response_p90_s=percentile(response, 90),
        resolution_p50_s=percentile(resolution, 50),
        resolution_p90_s=percentile(resolution, 90),
    )


Keep = Callable[[AskedRow | TicketRow], bool]


def _every(row: AskedRow | TicketRow) -> bool:
    return True


def _of_domain(domain: Domain) -> Keep:
    def keep(row: AskedRow | TicketRow) -> bool:
        return row.domain is domain

    return keep


def _of_channel(channel: Channel) -> Keep:
    def keep(row: AskedRow | TicketRow) -> bool:
        return row.channel == channel.value

    return keep


def _inside(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def breakdown(
    asked: Sequence[AskedRow],
    tickets: Sequence[TicketRow],
    since: datetime,
    until: datetime,
    unit: PeriodUnit,
    zone: tzinfo,
) -> Statistics:
    """Figures for ``[since, until)`` in all, per period of ``unit`` (calendar periods in
    ``zone``; the first and last may be cut by ``since`` and ``until``), per domain (every
    domain listed) and per channel (every channel listed)."""

    def group(key: str, keep: Keep, start: datetime, end: datetime) -> Figures:
        return figures(
            key,
            (q for q in asked if keep(q) and start <= q.at < end),
            (t for t in tickets if keep(t) and _inside(t.created_at, start, end)),
            (t for t in tickets if keep(t) and _inside(t.first_claimed_at, start, end)),
            (t for t in tickets if keep(t) and _inside(t.first_answered_at, start, end)),
        )

    spans = periods(since, until, unit, zone)
    by_period = [
        group(start.date().isoformat(), _every, max(start, since), min(end, until))
        for start, end in spans
    ]
    by_domain = [group(d.value, _of_domain(d), since, until) for d in Domain]
    by_channel = [group(c.value, _of_channel(c), since, until) for c in Channel]
    total = group("all", _every, since, until)
    return Statistics(since, until, unit, total, by_period, by_domain, by_channel)


CSV_FIELDS = (
    "questions",
    "answered_by_desk",
    "auto_answer_rate",
    "escalated",
    "escalation_rate",
    "clarified",
    "not_helpful",
    "tickets",
    "response_p50_s",
    "response_p90_s",
    "resolution_p50_s",
    "resolution_p90_s",
)


def csv_report(stats: Statistics) -> str:
    """One row per group: ``section`` (total, period, domain, channel), ``key``, then the
    figures (rates as fractions, times in seconds, empty when there is nothing to measure).
    The first row after the header names the period and its unit."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("section", "key", *CSV_FIELDS))
    writer.writerow(
        ("range", f"{stats.since.isoformat()}/{stats.until.isoformat()}", stats.unit.value)
    )
    sections: list[tuple[str, list[Figures]]] = [
        ("total", [stats.total]),
        ("period", stats.periods),
        ("domain", stats.domains),
        ("channel", stats.channels),
    ]
    for section, rows in sections:
        for row in rows:
            values = (getattr(row, name) for name in CSV_FIELDS)
            writer.writerow((section, row.key, *("" if v is None else _number(v) for v in values)))
    return buffer.getvalue()


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)
