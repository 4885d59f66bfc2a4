"""人员 and 审计日志: experts and admins with their domains, and who did what."""

from __future__ import annotations

from datetime import timedelta

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

import prompts
from core.errors import ConfigurationError
from core.people import Domain, Role, UserRef, user_from_key
from web.admin.common import (
    admin_user,
    day,
    moment,
    render_page,
)
from web.auth import console_desk
from web.handlers import call


async def people_page(request: Request, message: str = "", error: bool = False) -> Response:
    user = await admin_user(request)
    staff = await call(console_desk(request).experts, user.user)
    context = {"staff": staff, "nav": "people", "message": message, "error": error}
    return render_page(request, "admin/people.html", context, status_code=400 if error else 200)


async def set_role(request: Request) -> Response:
    user = await admin_user(request)
    form = await request.form()
    target = _person(form)
    if target is None:
        return await people_page(request, prompts.text("admin.errors.bad_person"), error=True)
    role = Role.ADMIN if form.get("role") == "admin" else Role.EXPERT
    chosen = {str(v) for v in form.getlist("domains")}
    domains = [d for d in Domain if d.value in chosen]
    await call(console_desk(request).add_expert, user.user, target, domains, role)
    label = prompts.text(f"escalation.role.{role.value}")
    return await people_page(
        request, prompts.text("admin.done.role_set", who=target.key, role=label)
    )


async def revoke(request: Request) -> Response:
    user = await admin_user(request)
    form = await request.form()
    target = _person(form)
    if target is None:
        return await people_page(request, prompts.text("admin.errors.bad_person"), error=True)
    await call(console_desk(request).remove_expert, user.user, target)
    return await people_page(request, prompts.text("admin.done.role_removed", who=target.key))


async def audit(request: Request) -> Response:
    user = await admin_user(request)
    q = request.query_params
    since, until = day(q.get("since")), day(q.get("until"))
    entries = await call(
        console_desk(request).audit_log,
        user.user,
        moment(since) if since else None,
        moment(until + timedelta(days=1)) if until else None,
        500,
    )
    context = {
        "entries": entries,
        "nav": "people",
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
    }
    return render_page(request, "admin/audit.html", context)


def _person(form: FormData) -> UserRef | None:
    """The ``channel:user_id`` the form names, or None when it is malformed."""
    try:
        return user_from_key(str(form.get("key", "")))
    except ConfigurationError:
        return None
