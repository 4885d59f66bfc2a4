"""One ticket: the draft, the passages with their status, notes, the asker's history, the
reply editor (preview, clause search and insertion), delivery, publishing to the FAQ."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

import prompts
from core.answers import Citation
from core.errors import InvalidQuestion
from core.people import Channel
from core.text import clip
from core.tickets import Ticket, TicketStatus
from desk import texts
from web.auth import ConsoleUser, console_desk
from web.expert.common import go_to, message, staff
from web.handlers import call
from web.templating import render

CLAUSE_CHARS = 300


async def ticket_page(request: Request) -> Response:
    user = await staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    return render(request, "expert/ticket.html", await _ticket_context(request, user, ticket_id))


async def _ticket_context(request: Request, user: ConsoleUser, ticket_id: int) -> dict[str, Any]:
    desk = console_desk(request)

    def gather() -> dict[str, Any]:
        ticket = desk.ticket(user.user, ticket_id)
        return {
            "ticket": ticket,
            "passages": desk.current_status(user.user, ticket.passages),
            "events": desk.ticket_events(user.user, ticket_id),
            "notes": desk.ticket_notes(user.user, ticket_id),
            "history": desk.asker_history(user.user, ticket),
            "follow_ups": desk.follow_ups(user.user, ticket),
            "deliveries": desk.deliveries(user.user, ticket_id),
            "reachable_until": desk.asker_reachable_until(user.user, ticket),
            "staff": [  # who a ticket can be handed to (the command line's admin cannot take it)
                p for p in desk.experts(user.user) if p.user.channel is not Channel.CONSOLE
            ]
            if user.is_admin
            else [],
            "now": desk.store.clock.now(),
            "due": ticket.created_at + desk.sla,
            "ticket_id": ticket_id,
            "nav": "queue",
        }

    context = await run_in_threadpool(gather)
    ticket: Ticket = context["ticket"]
    context["may_answer"] = ticket.status is TicketStatus.OPEN or (
        ticket.status is TicketStatus.CLAIMED and (ticket.claimed_by == user.key or user.is_admin)
    )
    context["may_publish"] = ticket.status in (TicketStatus.ANSWERED, TicketStatus.CLOSED) and bool(
        ticket.answer
    )
    context["waiting"] = any(d.state == "waiting" for d in context["deliveries"])
    return context


async def delivery(request: Request) -> Response:
    """The delivery part of a ticket page (polled while a message is on its way)."""
    user = await staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    context = await _ticket_context(request, user, ticket_id)
    return render(request, "expert/ticket.html", context, block="delivery")


async def answer(request: Request) -> Response:
    user = await staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    form = await request.form()
    text = str(form.get("text", ""))
    if not text.strip():
        return message(request, "web.errors.empty_reply")
    publish = form.get("publish") == "on"
    await call(console_desk(request).answer_ticket, user.user, ticket_id, text, publish)
    return go_to(request, f"/tickets/{ticket_id}")


async def preview(request: Request) -> Response:
    user = await staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    form = await request.form()
    text = str(form.get("text", ""))
    shown = await call(console_desk(request).preview_answer, user.user, ticket_id, text)
    return render(request, "expert/parts.html", {"preview": shown, "text": text}, block="preview")


async def search(request: Request) -> Response:
    user = await staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    query = request.query_params.get("q", "")
    found = await call(console_desk(request).search_library, user.user, query)
    results = [(c, clause_text(c)) for c in found]
    context = {"results": results, "q": query, "ticket_id": ticket_id}
    return render(request, "expert/parts.html", context, block="results")


def clause_text(citation: Citation) -> str:
    """What inserting a clause adds to the reply: 《title》第N条（文号）规定：“…”."""
    body = " ".join((citation.quote or citation.text).split())
    if citation.article and body.startswith(citation.article):  # named once, in the label
        body = body[len(citation.article) :].lstrip(" ：:")
    return prompts.text(
        "web.clause", label=texts.citation_label(citation), text=clip(body, CLAUSE_CHARS)
    )


async def insert(request: Request) -> Response:
    """The reply with a clause added at its end (and the preview brought up to date)."""
    user = await staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    form = await request.form()
    text = str(form.get("text", "")).rstrip()
    clause = str(form.get("clause", "")).strip()
    combined = f"{text}\n{clause}" if text else clause
    shown = await call(console_desk(request).preview_answer, user.user, ticket_id, combined)
    context = {"text": combined, "preview": shown, "ticket_id": ticket_id}
    return render(request, "expert/parts.html", context, block="editor")


async def publish(request: Request) -> Response:
    user = await staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    desk = console_desk(request)
    before = await call(desk.ticket, user.user, ticket_id)
    entry = await call(desk.publish, user.user, ticket_id)
    updated = entry.faq_id != f"faq-t{ticket_id}" and before.published_faq_id is None
    key = "web.done.published_updated" if updated else "web.done.published"
    response = message(request, key, faq_id=entry.faq_id)
    response.headers["HX-Refresh"] = "false"
    return response


async def add_note(request: Request) -> Response:
    user = await staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    form = await request.form()
    try:
        await call(console_desk(request).add_note, user.user, ticket_id, str(form.get("text", "")))
    except InvalidQuestion:
        return message(request, "web.errors.empty_note")
    context = await _ticket_context(request, user, ticket_id)
    return render(request, "expert/ticket.html", context, block="notes")
