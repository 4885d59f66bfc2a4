"""The expert screens: the queue, a ticket (draft, clauses, notes, reply editor, delivery) and
FAQ review. Each handler checks the session, makes one or two desk calls (which check the role
again) and renders a page or, for htmx, a part of one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import prompts
from core.answers import Citation, FaqStatus
from core.errors import InvalidQuestion
from core.people import Channel, Domain
from core.text import clip
from core.tickets import Ticket, TicketStatus
from desk import texts
from desk.console_access import MIN_PASSWORD
from web.auth import ConsoleUser, console_config, console_desk, require_expert
from web.templating import render

T = TypeVar("T")

AGES = {
    "new": (None, timedelta(hours=1)),
    "1h": (timedelta(hours=1), None),
    "24h": (timedelta(days=1), None),
}
CLAUSE_CHARS = 300
PAGE_ROWS = 100  # queue rows per page (the count covers them all)


async def _call(function: Callable[..., T], *args: Any) -> T:
    return await run_in_threadpool(function, *args)


async def _staff(request: Request) -> ConsoleUser:
    return await run_in_threadpool(require_expert, request)


def _message(request: Request, key: str, **values: object) -> Response:
    response = render(request, "message.html", {"message": prompts.text(key, **values)})
    response.headers["HX-Retarget"] = "#messages"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def _redirect(request: Request, path: str) -> Response:
    """Go to ``path`` (under the console): htmx follows ``HX-Redirect``, a form a 303."""
    target = f"{request.scope.get('root_path', '')}{path}"
    if request.headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return Response(status_code=303, headers={"Location": target})


# --- the queue ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QueueRow:
    ticket: Ticket
    waited: timedelta
    due: datetime
    badge: str  # "" | "due_soon" | "overdue"
    mine: bool


@dataclass(frozen=True, slots=True)
class QueueFilters:
    status: str = ""  # "" | open | claimed | mine
    domain: str = ""
    channel: str = ""
    age: str = ""  # "" | new | 1h | 24h
    page: int = 1

    @classmethod
    def of(cls, request: Request) -> QueueFilters:
        q = request.query_params
        page = q.get("page", "1")
        return cls(
            page=max(1, int(page)) if page.isdigit() else 1,
            status=q.get("status", "") if q.get("status") in ("open", "claimed", "mine") else "",
            domain=q.get("domain", "") if q.get("domain") in {d.value for d in Domain} else "",
            channel=q.get("channel", "") if q.get("channel") in {c.value for c in Channel} else "",
            age=q.get("age", "") if q.get("age") in AGES else "",
        )

    def items(self) -> dict[str, str]:
        """The filters set, as query parameters."""
        values = {"status": self.status, "domain": self.domain, "channel": self.channel}
        values["age"] = self.age
        if self.page > 1:
            values["page"] = str(self.page)
        return {k: v for k, v in values.items() if v}

    def at_page(self, page: int) -> str:
        """The query string of another page with the same filters."""
        values = {**self.items(), "page": str(page)}
        return urlencode(values)


def queue_rows(
    tickets: list[Ticket], user: ConsoleUser, filters: QueueFilters, sla: timedelta, now: datetime
) -> list[QueueRow]:
    """The tickets the filters keep, soonest due first, with their badges. A ticket is due
    ``sla`` after it was opened (the re-announcement period); the last quarter is "due soon"."""
    rows = []
    for ticket in tickets:
        mine = ticket.claimed_by == user.key
        if filters.status == "open" and ticket.status is not TicketStatus.OPEN:
            continue
        if filters.status == "claimed" and ticket.status is not TicketStatus.CLAIMED:
            continue
        if filters.status == "mine" and not mine:
            continue
        if filters.domain and ticket.domain.value != filters.domain:
            continue
        if filters.channel and ticket.asker.channel.value != filters.channel:
            continue
        waited = now - ticket.created_at
        if filters.age:
            least, most = AGES[filters.age]
            if (least is not None and waited < least) or (most is not None and waited >= most):
                continue
        due = ticket.created_at + sla
        badge = ""
        if ticket.status is TicketStatus.OPEN:
            if now >= due:
                badge = "overdue"
            elif due - now <= sla / 4:
                badge = "due_soon"
        rows.append(QueueRow(ticket, waited, due, badge, mine))
    rows.sort(key=lambda r: (r.due, r.ticket.ticket_id))
    return rows


async def queue(request: Request) -> Response:
    user = await _staff(request)
    desk = console_desk(request)
    filters = QueueFilters.of(request)
    tickets = await _call(desk.queue, user.user)
    now = desk.store.clock.now()
    rows = queue_rows(tickets, user, filters, desk.sla, now)
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    page = min(filters.page, pages)
    context = {
        "rows": rows[(page - 1) * PAGE_ROWS : page * PAGE_ROWS],
        "total": len(rows),
        "page": page,
        "pages": pages,
        "filters": filters,
        "query": filters.items(),
        "query_string": urlencode(filters.items()),
        "refresh": console_config(request).refresh_seconds,
        "now": now,
        "channels": list(Channel),
        "nav": "queue",
    }
    partial = request.headers.get("hx-target") == "queue-rows"
    return render(request, "expert/queue.html", context, block="rows" if partial else None)


async def claim(request: Request) -> Response:
    user = await _staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    await _call(console_desk(request).claim, user.user, ticket_id)
    return _redirect(request, f"/tickets/{ticket_id}")


async def release(request: Request) -> Response:
    user = await _staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    await _call(console_desk(request).release, user.user, ticket_id)
    return _redirect(request, "/queue")


async def reassign(request: Request) -> Response:
    user = await _staff(request)
    if not user.is_admin:
        raise HTTPException(403)
    ticket_id = int(request.path_params["ticket_id"])
    form = await request.form()
    desk = console_desk(request)
    target = await _call(desk.person, user.user, str(form.get("to", "")))
    await _call(desk.reassign, user.user, ticket_id, target.user)
    return _redirect(request, f"/tickets/{ticket_id}")


# --- one ticket ---------------------------------------------------------------------------------
async def ticket_page(request: Request) -> Response:
    user = await _staff(request)
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
    user = await _staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    context = await _ticket_context(request, user, ticket_id)
    return render(request, "expert/ticket.html", context, block="delivery")


async def answer(request: Request) -> Response:
    user = await _staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    form = await request.form()
    text = str(form.get("text", ""))
    if not text.strip():
        return _message(request, "web.errors.empty_reply")
    publish = form.get("publish") == "on"
    await _call(console_desk(request).answer_ticket, user.user, ticket_id, text, publish)
    return _redirect(request, f"/tickets/{ticket_id}")


async def preview(request: Request) -> Response:
    user = await _staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    form = await request.form()
    text = str(form.get("text", ""))
    shown = await _call(console_desk(request).preview_answer, user.user, ticket_id, text)
    return render(request, "expert/parts.html", {"preview": shown, "text": text}, block="preview")


async def search(request: Request) -> Response:
    user = await _staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    query = request.query_params.get("q", "")
    found = await _call(console_desk(request).search_library, user.user, query)
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
    user = await _staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    form = await request.form()
    text = str(form.get("text", "")).rstrip()
    clause = str(form.get("clause", "")).strip()
    combined = f"{text}\n{clause}" if text else clause
    shown = await _call(console_desk(request).preview_answer, user.user, ticket_id, combined)
    context = {"text": combined, "preview": shown, "ticket_id": ticket_id}
    return render(request, "expert/parts.html", context, block="editor")


async def publish(request: Request) -> Response:
    user = await _staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    desk = console_desk(request)
    before = await _call(desk.ticket, user.user, ticket_id)
    entry = await _call(desk.publish, user.user, ticket_id)
    updated = entry.faq_id != f"faq-t{ticket_id}" and before.published_faq_id is None
    key = "web.done.published_updated" if updated else "web.done.published"
    response = _message(request, key, faq_id=entry.faq_id)
    response.headers["HX-Refresh"] = "false"
    return response


async def add_note(request: Request) -> Response:
    user = await _staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    form = await request.form()
    try:
        await _call(console_desk(request).add_note, user.user, ticket_id, str(form.get("text", "")))
    except InvalidQuestion:
        return _message(request, "web.errors.empty_note")
    context = await _ticket_context(request, user, ticket_id)
    return render(request, "expert/ticket.html", context, block="notes")


# --- FAQ review ---------------------------------------------------------------------------------
async def faq_review(request: Request) -> Response:
    user = await _staff(request)
    desk = console_desk(request)
    records = await _call(desk.faq_entries, user.user, True)
    flagged = [r for r in records if r.status is FaqStatus.ACTIVE]
    documents = {d.file_name: d for d in await _call(desk.documents, user.user)}
    entries = [(r, *_change(r.flag_reason)) for r in flagged]
    return render(
        request, "expert/faq.html", {"entries": entries, "documents": documents, "nav": "faq"}
    )


def _change(reason: str) -> tuple[str, str]:
    """A flag reason (``replaced:file.pdf``) as (kind, file name)."""
    kind, _, name = reason.partition(":")
    return kind, name


async def faq_keep(request: Request) -> Response:
    user = await _staff(request)
    await _call(console_desk(request).review_faq, user.user, request.path_params["faq_id"])
    return _redirect(request, "/faq")


async def faq_withdraw(request: Request) -> Response:
    user = await _staff(request)
    await _call(console_desk(request).withdraw_faq, user.user, request.path_params["faq_id"])
    return _redirect(request, "/faq")


async def faq_edit(request: Request) -> Response:
    user = await _staff(request)
    form = await request.form()
    text = str(form.get("answer", ""))
    if not text.strip():
        return _message(request, "web.errors.empty_reply")
    await _call(console_desk(request).edit_faq, user.user, request.path_params["faq_id"], text)
    return _redirect(request, "/faq")


# --- the signed-in person ------------------------------------------------------------------------
async def account(request: Request) -> Response:
    await _staff(request)
    return render(request, "expert/account.html", {"min_password": MIN_PASSWORD})


async def set_password(request: Request) -> Response:
    user = await _staff(request)
    if not user.is_admin:
        raise HTTPException(403)
    form = await request.form()
    password = str(form.get("password", ""))
    if len(password) < MIN_PASSWORD:
        return _message(request, "web.errors.password_short", n=MIN_PASSWORD)
    if password != str(form.get("again", "")):
        return _message(request, "web.errors.password_mismatch")
    await _call(console_desk(request).set_console_password, user.user, password)
    return _message(request, "web.done.password_set")


def routes() -> list[Route]:
    return [
        Route("/account", account, methods=["GET"]),
        Route("/account/password", set_password, methods=["POST"]),
        Route("/queue", queue, methods=["GET"]),
        Route("/tickets/{ticket_id:int}", ticket_page, methods=["GET"]),
        Route("/tickets/{ticket_id:int}/delivery", delivery, methods=["GET"]),
        Route("/tickets/{ticket_id:int}/search", search, methods=["GET"]),
        Route("/tickets/{ticket_id:int}/claim", claim, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/release", release, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/reassign", reassign, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/answer", answer, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/preview", preview, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/insert", insert, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/publish", publish, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/notes", add_note, methods=["POST"]),
        Route("/faq", faq_review, methods=["GET"]),
        Route("/faq/{faq_id}/keep", faq_keep, methods=["POST"]),
        Route("/faq/{faq_id}/withdraw", faq_withdraw, methods=["POST"]),
        Route("/faq/{faq_id}/edit", faq_edit, methods=["POST"]),
    ]
