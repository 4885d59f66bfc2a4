"""提问记录: every question put to the desk, filtered, and a ticket opened from a row."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from core.people import Channel
from core.question_log import Outcome, QuestionQuery
from web.admin.common import (
    PAGE,
    admin_user,
    day,
    moment,
    render_page,
)
from web.auth import console_desk
from web.handlers import call


async def questions_page(request: Request) -> Response:
    user = await admin_user(request)
    q = request.query_params
    outcome = Outcome(q["outcome"]) if q.get("outcome") in set(Outcome) else None
    channel = q.get("channel") if q.get("channel") in {c.value for c in Channel} else None
    since, until = day(q.get("since")), day(q.get("until"))
    page = max(1, int(q["page"])) if q.get("page", "").isdigit() else 1
    query = QuestionQuery(
        outcome=outcome,
        since=moment(since) if since else None,
        until=moment(until + timedelta(days=1)) if until else None,
        channel=channel,
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    found = await call(console_desk(request).question_log, user.user, query)
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
    return render_page(request, "admin/questions.html", context)


async def open_ticket(request: Request) -> Response:
    """From a row of the log: a ticket for an expert (or the one already open)."""
    user = await admin_user(request)
    interaction_id = int(request.path_params["interaction_id"])
    desk = console_desk(request)
    ticket = await call(desk.open_ticket_for, user.user, interaction_id)
    context = {"ticket": ticket, "interaction_id": interaction_id}
    return render_page(request, "admin/questions.html", context, block="ticket_cell")
