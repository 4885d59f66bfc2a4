"""Jinja2 templates for the console (autoescaped) and ``render``, which returns a whole page or,
for htmx partials, one block of it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

import prompts
from core.people import Domain
from core.text import clip
from core.tickets import TicketStatus
from desk import texts

TEMPLATES = Path(__file__).parent / "templates"
CHINA = timezone(timedelta(hours=8), "CST")


def local_time(moment: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """A moment as Beijing time, e.g. ``12-02 14:05``."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).strftime(fmt)


def event_label(action: str) -> str:
    """A ticket event (``claimed``…) in Chinese."""
    try:
        return prompts.text(f"web.events.{action}")
    except prompts.MissingText:
        return action


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local_time
    env.filters["domain_label"] = lambda d: texts.domain_label(Domain(d))
    env.filters["status_label"] = lambda s: texts.status_label(TicketStatus(s))
    env.filters["duration"] = lambda s: texts.duration(s)
    env.filters["citation_label"] = texts.citation_label
    env.filters["event_label"] = event_label
    env.filters["clip"] = lambda text, limit: clip(str(text or ""), int(limit))
    env.globals["domains"] = list(Domain)
    env.globals["domain_values"] = [d.value for d in Domain]
    return env


class Templates:
    """The console's templates. Every page gets ``request``, ``root`` (the console's path
    prefix, e.g. ``/console``), ``user`` and ``csrf_token``."""

    def __init__(self, environment: Environment | None = None) -> None:
        self.env = environment or build_environment()

    def render(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        block: str | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """The template ``name`` as a page, or only its ``block`` (an htmx partial)."""
        from web.auth import csrf_token, current_user

        values: dict[str, Any] = {
            "request": request,
            "root": request.scope.get("root_path", ""),
            "user": current_user(request),
            "csrf_token": csrf_token(request),
        }
        values.update(context or {})
        template = self.env.get_template(name)
        if block is None:
            body = template.render(values)
        else:
            body = "".join(template.blocks[block](template.new_context(values)))
        return HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    block: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render with the console's templates (``request.app.state.templates``)."""
    templates: Templates = request.app.state.templates
    return templates.render(request, name, context, block, status_code)
