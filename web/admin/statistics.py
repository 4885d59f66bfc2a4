"""统计: the service figures for a period as SVG charts, and as CSV."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

import prompts
from core.people import Channel, Domain
from desk import texts
from desk.admin import CHINA
from desk.statistics import PeriodUnit, Statistics, csv_report
from web import charts
from web.admin.common import (
    DEFAULT_DAYS,
    admin_user,
    day,
    moment,
    render_page,
)
from web.auth import ConsoleUser, console_desk
from web.handlers import call


def _range(request: Request, today: date) -> tuple[date, date, PeriodUnit]:
    q = request.query_params
    unit = PeriodUnit(q["unit"]) if q.get("unit") in set(PeriodUnit) else PeriodUnit.DAY
    until = day(q.get("until")) or today
    since = day(q.get("since")) or until - timedelta(days=DEFAULT_DAYS - 1)
    return since, until, unit


def _today(request: Request) -> date:
    return console_desk(request).store.clock.now().astimezone(CHINA).date()


async def _statistics(request: Request, user: ConsoleUser) -> tuple[Statistics, date, date]:
    since, until, unit = _range(request, _today(request))
    stats = await call(
        console_desk(request).statistics,
        user.user,
        moment(since),
        moment(until + timedelta(days=1)),
        unit,
    )
    return stats, since, until


def _percent(value: float | None) -> float | None:
    return None if value is None else value * 100


def _minutes(value: float | None) -> float | None:
    return None if value is None else value / 60


def stats_charts(stats: Statistics) -> dict[str, Any]:
    """The SVG charts of the statistics page."""
    labels = [p.key[5:] if stats.unit is not PeriodUnit.MONTH else p.key[:7] for p in stats.periods]
    rows = stats.periods
    outcome = [  # per period, domain or channel: asked, answered by the desk, escalated
        ("questions", lambda g: g.questions),
        ("answered", lambda g: g.answered_by_desk),
        ("escalated", lambda g: g.escalated),
    ]
    return {
        "volume": _bars("volume", labels, rows, outcome),
        "rates": charts.line_chart(
            _chart("rates"),
            labels,
            [
                charts.Series(_chart("auto_rate"), [_percent(p.auto_answer_rate) for p in rows]),
                charts.Series(
                    _chart("escalation_rate"), [_percent(p.escalation_rate) for p in rows]
                ),
            ],
            unit="%",
            chart_id="chart-rates",
            top=100,
        ),
        "times": _bars(
            "times",
            labels,
            rows,
            [
                ("first_response", lambda p: _minutes(p.response_p50_s)),
                ("resolution", lambda p: _minutes(p.resolution_p50_s)),
            ],
            unit=_chart("minutes"),
            whole=False,
        ),
        "domains": _bars(
            "by_domain",
            [_domain(d.key) for d in stats.domains],
            stats.domains,
            [("questions", lambda d: d.questions), ("tickets", lambda d: d.tickets)],
            chart_id="chart-domains",
        ),
        "channels": _bars(
            "by_channel",
            [texts.channel_label(Channel(c.key)) for c in stats.channels],
            stats.channels,
            outcome,
            chart_id="chart-channels",
        ),
    }


def _bars(
    title: str,
    labels: list[str],
    groups: Sequence[Any],
    series: list[tuple[str, Callable[[Any], float | None]]],
    *,
    chart_id: str = "",
    **options: Any,
) -> Markup:
    """A bar chart of one value per group for each of ``series`` (its label's key and how to
    read the value)."""
    return charts.bar_chart(
        _chart(title),
        labels,
        [charts.Series(_chart(key), [value(g) for g in groups]) for key, value in series],
        chart_id=chart_id or f"chart-{title}",
        **options,
    )


def _chart(key: str) -> str:
    return prompts.text(f"admin.charts.{key}")


def _domain(value: str) -> str:
    return texts.domain_label(Domain(value))


async def stats_page(request: Request) -> Response:
    user = await admin_user(request)
    try:
        stats, since, until = await _statistics(request, user)
    except ValueError:
        failed = {"nav": "stats", "error": prompts.text("admin.errors.bad_range")}
        return render_page(request, "admin/stats.html", failed, status_code=400)
    query = urlencode({"since": since, "until": until, "unit": stats.unit.value})
    context = {
        "stats": stats,
        "since": since,
        "until": until,
        "charts": stats_charts(stats),
        "query": query,
        "units": list(PeriodUnit),
        "nav": "stats",
    }
    return render_page(request, "admin/stats.html", context)


async def stats_csv(request: Request) -> Response:
    user = await admin_user(request)
    try:
        stats, since, until = await _statistics(request, user)
    except ValueError:
        return Response(prompts.text("admin.errors.bad_range"), status_code=400)
    name = f"qadesk-stats-{since}-{until}-{stats.unit.value}.csv"
    return Response(
        "\ufeff" + csv_report(stats),  # the BOM lets spreadsheet programs read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
