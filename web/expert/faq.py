"""FAQ review: entries flagged because a document they rest on changed — keep, edit or
withdraw."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from core.answers import FaqStatus
from web.auth import console_desk
from web.expert.common import go_to, message, staff
from web.handlers import call
from web.templating import render


async def faq_review(request: Request) -> Response:
    user = await staff(request)
    desk = console_desk(request)
    records = await call(desk.faq_entries, user.user, True)
    flagged = [r for r in records if r.status is FaqStatus.ACTIVE]
    documents = {d.file_name: d for d in await call(desk.documents, user.user)}
    entries = [(r, *_change(r.flag_reason)) for r in flagged]
    return render(
        request, "expert/faq.html", {"entries": entries, "documents": documents, "nav": "faq"}
    )


def _change(reason: str) -> tuple[str, str]:
    """A flag reason (``replaced:file.pdf``) as (kind, file name)."""
    kind, _, name = reason.partition(":")
    return kind, name


async def faq_keep(request: Request) -> Response:
    user = await staff(request)
    await call(console_desk(request).review_faq, user.user, request.path_params["faq_id"])
    return go_to(request, "/faq")


async def faq_withdraw(request: Request) -> Response:
    user = await staff(request)
    await call(console_desk(request).withdraw_faq, user.user, request.path_params["faq_id"])
    return go_to(request, "/faq")


async def faq_edit(request: Request) -> Response:
    user = await staff(request)
    form = await request.form()
    text = str(form.get("answer", ""))
    if not text.strip():
        return message(request, "web.errors.empty_reply")
    await call(console_desk(request).edit_faq, user.user, request.path_params["faq_id"], text)
    return go_to(request, "/faq")
