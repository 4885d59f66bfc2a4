"""The admin screens of the console: 文档库 (upload with a preview, confirm, replace, remove),
提问记录 (filters, a ticket from a row), 统计 (SVG charts, CSV), 人员 and 审计日志.

Each handler checks the session (admins only, else 403), makes one or two desk calls (which
check the role again) and renders a page or, for htmx, a part of one.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import prompts
from core.documents import DocumentKind
from core.errors import ConfigurationError, IngestError, InvalidTransition
from core.people import Channel, Domain, Role, user_from_key
from core.question_log import Outcome, QuestionQuery
from desk import texts
from desk.admin import CHINA
from desk.library_admin import PreviewOutdated
from desk.statistics import PeriodUnit, Statistics, csv_report
from web import charts, document_status
from web.auth import ConsoleUser, console_desk, require_admin
from web.templating import render

T = TypeVar("T")

PAGE = 50
MOUNTED_AT = "/admin"
DEFAULT_DAYS = 30


async def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(function, *args, **kwargs)


async def _admin(request: Request) -> ConsoleUser:
    return await run_in_threadpool(require_admin, request)


def kind_label(kind: DocumentKind) -> str:
    """法律, 行政法规, 部门规章… (the labels citations use)."""
    try:
        return prompts.text(f"answer.kind_{kind.value}")
    except prompts.MissingText:
        return kind.value


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(request, name, {"kind_label": kind_label, **context}, block, status_code)


# --- 文档库 ------------------------------------------------------------------------------------
async def library(request: Request, message: str = "", status_code: int = 200) -> Response:
    user = await _admin(request)
    entries = await _call(console_desk(request).library, user.user)
    context = {"entries": entries, "nav": "library", "message": message, "replacing": None}
    return _render(request, "admin/library.html", context, status_code=status_code)


async def replace_page(request: Request) -> Response:
    user = await _admin(request)
    doc_id = str(request.path_params["doc_id"])
    document, citing = await _call(console_desk(request).removal, user.user, doc_id)
    context = {"document": document, "citing": citing, "nav": "library", "replacing": document}
    return _render(request, "admin/replace.html", context)


class _Upload:
    """The uploaded file saved under a temporary name (removed when the request is done)."""

    def __init__(self, upload: UploadFile) -> None:
        self.name = Path(upload.filename or "").name
        self._dir = tempfile.TemporaryDirectory(prefix="qadesk-upload-")
        self.path = Path(self._dir.name) / "upload"
        self._upload = upload

    async def __aenter__(self) -> _Upload:
        await self._upload.seek(0)
        with self.path.open("wb") as out:
            await run_in_threadpool(shutil.copyfileobj, self._upload.file, out, 1 << 20)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._dir.cleanup()


async def _uploaded(request: Request) -> tuple[UploadFile | None, str | None, str]:
    form = await request.form()
    upload = form.get("file")
    replacing = str(form.get("replacing") or "") or None
    previewed = str(form.get("content_hash") or "")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, replacing, previewed
    return upload, replacing, previewed


async def preview_upload(request: Request) -> Response:
    """POST the chosen file: what the desk will learn from it, and the confirm button."""
    user = await _admin(request)
    upload, replacing, _ = await _uploaded(request)
    if upload is None:
        return _part(request, error=prompts.text("admin.errors.no_file"))
    async with _Upload(upload) as saved:
        try:
            preview = await _call(
                console_desk(request).preview_upload, user.user, saved.path, saved.name, replacing
            )
        except IngestError as refused:
            reason = str(refused.context.get("reason", ""))
            error = prompts.error_text(refused.code, reason)
            return _part(request, error=error, file_name=saved.name)
        except InvalidTransition:
            return _part(request, error=prompts.text("admin.errors.no_ingest"))
    return _part(request, preview=preview, file_name=saved.name)


async def confirm_upload(request: Request) -> Response:
    """POST the same file again with the hash its preview showed: store it."""
    user = await _admin(request)
    upload, replacing, previewed = await _uploaded(request)
    if upload is None:
        return _part(request, error=prompts.text("admin.errors.no_file"))
    desk = console_desk(request)
    async with _Upload(upload) as saved:
        try:
            outcome = await _call(
                desk.confirm_upload, user.user, saved.path, saved.name, previewed, replacing
            )
        except PreviewOutdated:
            return _part(request, error=prompts.text("admin.errors.preview_outdated"))
    if outcome.error_code is not None or outcome.document is None:
        code = outcome.error_code or "ingest"
        error = prompts.error_text(code, outcome.error_reason)
        return _part(request, error=error, file_name=saved.name)
    values = {"title": outcome.document.title, "chunks": outcome.chunks}
    if outcome.unchanged:
        done = prompts.text("admin.done.unchanged", **values)
    elif outcome.replaced is not None or replacing:
        done = prompts.text("admin.done.replaced", **values)
    else:
        done = prompts.text("admin.done.uploaded", **values)
    entries = await _call(desk.library, user.user)
    return _part(request, done=done, entries=entries)


def _part(request: Request, **context: Any) -> Response:
    return _render(request, "admin/upload_result.html", context)


async def remove_page(request: Request) -> Response:
    """The document and the FAQ entries that cite it, before it is removed."""
    user = await _admin(request)
    doc_id = str(request.path_params["doc_id"])
    document, citing = await _call(console_desk(request).removal, user.user, doc_id)
    context = {"document": document, "citing": citing, "nav": "library"}
    return _render(request, "admin/remove.html", context)


async def remove(request: Request) -> Response:
    user = await _admin(request)
    doc_id = str(request.path_params["doc_id"])
    removed = await _call(console_desk(request).remove_from_library, user.user, doc_id)
    return await library(request, prompts.text("admin.done.removed", title=removed.title))


# --- 提问记录 ----------------------------------------------------------------------------------
def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _moment(day: date) -> datetime:
    """Beijing midnight at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA)


async def questions(request: Request) -> Response:
    user = await _admin(request)
    q = request.query_params
    outcome = Outcome(q["outcome"]) if q.get("outcome") in set(Outcome) else None
    channel = q.get("channel") if q.get("channel") in {c.value for c in Channel} else None
    since, until = _day(q.get("since")), _day(q.get("until"))
    page = max(1, int(q["page"])) if q.get("page", "").isdigit() else 1
    query = QuestionQuery(
        outcome=outcome,
        since=_moment(since) if since else None,
        until=_moment(until + timedelta(days=1)) if until else None,
        channel=channel,
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    found = await _call(console_desk(request).question_log, user.user, query)
    filters = {
        "outcome": outcome.value if outcome else "",
        "channel": channel or "",
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
    }
    kept = {k: v for k, v in filters.items() if v}
    context = {
        "page": found,
        "number": page,
        "filters": filters,
        "previous": urlencode({**kept, "page": page - 1}) if page > 1 else "",
        "next": urlencode({**kept, "page": page + 1}) if found.has_next else "",
        "outcomes": list(Outcome),
        "channels": list(Channel),
        "nav": "questions",
    }
    return _render(request, "admin/questions.html", context)


async def open_ticket(request: Request) -> Response:
    """From a row of the log: a ticket for an expert (or the one already open)."""
    user = await _admin(request)
    interaction_id = int(request.path_params["interaction_id"])
    desk = console_desk(request)
    ticket = await _call(desk.open_ticket_for, user.user, interaction_id)
    context = {"ticket": ticket, "interaction_id": interaction_id}
    return _render(request, "admin/questions.html", context, block="ticket_cell")


# --- 统计 -------------------------------------------------------------------------------------
def _range(request: Request, today: date) -> tuple[date, date, PeriodUnit]:
    q = request.query_params
    unit = PeriodUnit(q["unit"]) if q.get("unit") in set(PeriodUnit) else PeriodUnit.DAY
    until = _day(q.get("until")) or today
    since = _day(q.get("since")) or until - timedelta(days=DEFAULT_DAYS - 1)
    return since, until, unit


def _today(request: Request) -> date:
    return console_desk(request).store.clock.now().astimezone(CHINA).date()


async def _statistics(request: Request, user: ConsoleUser) -> tuple[Statistics, date, date]:
    since, until, unit = _range(request, _today(request))
    stats = await _call(
        console_desk(request).statistics,
        user.user,
        _moment(since),
        _moment(until + timedelta(days=1)),
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
    user = await _admin(request)
    try:
        stats, since, until = await _statistics(request, user)
    except ValueError:
        failed = {"nav": "stats", "error": prompts.text("admin.errors.bad_range")}
        return _render(request, "admin/stats.html", failed, status_code=400)
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
    return _render(request, "admin/stats.html", context)


async def stats_csv(request: Request) -> Response:
    user = await _admin(request)
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


# --- 人员 and 审计日志 ---------------------------------------------------------------------------
async def people(request: Request, message: str = "", error: bool = False) -> Response:
    user = await _admin(request)
    staff = await _call(console_desk(request).experts, user.user)
    context = {"staff": staff, "nav": "people", "message": message, "error": error}
    return _render(request, "admin/people.html", context, status_code=400 if error else 200)


async def set_role(request: Request) -> Response:
    user = await _admin(request)
    form = await request.form()
    try:
        target = user_from_key(str(form.get("key", "")))
    except ConfigurationError:
        return await people(request, prompts.text("admin.errors.bad_person"), error=True)
    role = Role.ADMIN if form.get("role") == "admin" else Role.EXPERT
    chosen = {str(v) for v in form.getlist("domains")}
    domains = [d for d in Domain if d.value in chosen]
    await _call(console_desk(request).add_expert, user.user, target, domains, role)
    label = prompts.text(f"escalation.role.{role.value}")
    return await people(request, prompts.text("admin.done.role_set", who=target.key, role=label))


async def revoke(request: Request) -> Response:
    user = await _admin(request)
    form = await request.form()
    try:
        target = user_from_key(str(form.get("key", "")))
    except ConfigurationError:
        return await people(request, prompts.text("admin.errors.bad_person"), error=True)
    await _call(console_desk(request).remove_expert, user.user, target)
    return await people(request, prompts.text("admin.done.role_removed", who=target.key))


async def audit(request: Request) -> Response:
    user = await _admin(request)
    q = request.query_params
    since, until = _day(q.get("since")), _day(q.get("until"))
    entries = await _call(
        console_desk(request).audit_log,
        user.user,
        _moment(since) if since else None,
        _moment(until + timedelta(days=1)) if until else None,
        500,
    )
    context = {
        "entries": entries,
        "nav": "people",
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
    }
    return _render(request, "admin/audit.html", context)


def routes() -> list[BaseRoute]:
    return [
        Route(MOUNTED_AT + "/library", library, methods=["GET"]),
        Route(MOUNTED_AT + "/library/preview", preview_upload, methods=["POST"]),
        Route(MOUNTED_AT + "/library/confirm", confirm_upload, methods=["POST"]),
        Route(MOUNTED_AT + "/library/{doc_id}/replace", replace_page, methods=["GET"]),
        Route(MOUNTED_AT + "/library/{doc_id}/remove", remove_page, methods=["GET"]),
        Route(MOUNTED_AT + "/library/{doc_id}/remove", remove, methods=["POST"]),
        Route(MOUNTED_AT + "/questions", questions, methods=["GET"]),
        Route(MOUNTED_AT + "/questions/{interaction_id:int}/ticket", open_ticket, methods=["POST"]),
        Route(MOUNTED_AT + "/stats", stats_page, methods=["GET"]),
        Route(MOUNTED_AT + "/stats.csv", stats_csv, methods=["GET"]),
        Route(MOUNTED_AT + "/people", people, methods=["GET"]),
        Route(MOUNTED_AT + "/people", set_role, methods=["POST"]),
        Route(MOUNTED_AT + "/people/revoke", revoke, methods=["POST"]),
        Route(MOUNTED_AT + "/audit", audit, methods=["GET"]),
        *document_status.routes(MOUNTED_AT),
    ]
