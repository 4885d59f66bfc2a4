"""What the admin screens share: the admin check, page rendering with the document kind
labels, the dates of the filters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

import prompts
from core.documents import DocumentKind
from desk.admin import CHINA
from web.auth import ConsoleUser, require_admin
from web.templating import render

PAGE = 50
MOUNTED_AT = "/admin"
DEFAULT_DAYS = 30


async def admin_user(request: Request) -> ConsoleUser:
    return await run_in_threadpool(require_admin, request)


def kind_label(kind: DocumentKind) -> str:
    """法律, 行政法规, 部门规章… (the labels citations use)."""
    try:
        return prompts.text(f"answer.kind_{kind.value}")
    except prompts.MissingText:
        return kind.value


def render_page(
    request: Request,
    name: str,
    context: dict[str, Any],
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(request, name, {"kind_label": kind_label, **context}, block, status_code)


def day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def moment(day: date) -> datetime:
    """Beijing midnight at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA)
