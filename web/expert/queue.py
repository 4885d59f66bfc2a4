"""The queue: the open and claimed tickets with filters, due badges and pages; claiming,
releasing and (admins) handing a ticket to another expert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from core.people import Channel, Domain
from core.tickets import Ticket, TicketStatus
from web.auth import ConsoleUser, console_config, console_desk
from web.expert.common import go_to, staff
from web.handlers import call
from web.templating import render

AGES = {
    "new": (None, timedelta(hours=1)),
    "1h": (timedelta(hours=1), None),
    "24h": (timedelta(days=1), None),
}
PAGE_ROWS = 100  # queue rows per page (the count covers them all)


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
    user = await staff(request)
    desk = console_desk(request)
    filters = QueueFilters.of(request)
    tickets = await call(desk.queue, user.user)
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
    user = await staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    await call(console_desk(request).claim, user.user, ticket_id)
    return go_to(request, f"/tickets/{ticket_id}")


async def release(request: Request) -> Response:
    user = await staff(request)
    ticket_id = int(request.path_params["ticket_id"])
    await call(console_desk(request).release, user.user, ticket_id)
    return go_to(request, "/queue")


async def reassign(request: Request) -> Response:
    user = await staff(request)
    if not user.is_admin:
        raise HTTPException(403)
    ticket_id = int(request.path_params["ticket_id"])
    form = await request.form()
    desk = console_desk(request)
    target = await call(desk.person, user.user, str(form.get("to", "")))
    await call(desk.reassign, user.user, ticket_id, target.user)
    return go_to(request, f"/tickets/{ticket_id}")
