"""The queue's filters, order and due badges (the re-announcement period is the SLA), and the
text a clause adds to a reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.answers import Citation
from core.people import Channel, Domain, Role, UserRef
from core.tickets import Ticket, TicketStatus
from web.auth import ConsoleUser
from web.expert.queue import QueueFilters, queue_rows
from web.expert.ticket import clause_text

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SLA = timedelta(minutes=30)
ME = ConsoleUser(UserRef(Channel.TELEGRAM, "1"), "王工", Role.EXPERT)


def ticket(tid: int, minutes_ago: float, **values: object) -> Ticket:
    fields: dict[str, object] = {
        "ticket_id": tid,
        "question": f"问题{tid}",
        "asker": UserRef(Channel.TELEGRAM, f"a{tid}"),
        "status": TicketStatus.OPEN,
        "domain": Domain.METROLOGY,
        "created_at": NOW - timedelta(minutes=minutes_ago),
    }
    fields.update(values)
    return Ticket(**fields)  # type: ignore[arg-type]


TICKETS = [
    ticket(1, 5),
    ticket(2, 25, domain=Domain.FOOD),
    ticket(3, 45, asker=UserRef(Channel.WECHAT, "o3")),
    ticket(4, 60 * 30, status=TicketStatus.CLAIMED, claimed_by="telegram:1"),
    ticket(5, 90, status=TicketStatus.CLAIMED, claimed_by="telegram:2"),
]


def ids(filters: QueueFilters) -> list[int]:
    return [r.ticket.ticket_id for r in queue_rows(TICKETS, ME, filters, SLA, NOW)]


def test_soonest_due_first_with_due_soon_and_overdue_badges():
    rows = queue_rows(TICKETS, ME, QueueFilters(), SLA, NOW)
    assert [r.ticket.ticket_id for r in rows] == [4, 5, 3, 2, 1]
    badges = {r.ticket.ticket_id: r.badge for r in rows}
    assert badges == {1: "", 2: "due_soon", 3: "overdue", 4: "", 5: ""}  # claimed: no clock
    assert {r.ticket.ticket_id for r in rows if r.mine} == {4}


def test_filters_by_status_domain_channel_and_age():
    assert ids(QueueFilters(status="open")) == [3, 2, 1]
    assert ids(QueueFilters(status="claimed")) == [4, 5]
    assert ids(QueueFilters(status="mine")) == [4]
    assert ids(QueueFilters(domain="food")) == [2]
    assert ids(QueueFilters(channel="wechat")) == [3]
    assert ids(QueueFilters(age="new")) == [3, 2, 1]
    assert ids(QueueFilters(age="1h")) == [4, 5]
    assert ids(QueueFilters(age="24h")) == [4]
    assert QueueFilters(status="open", domain="food").items() == {
        "status": "open",
        "domain": "food",
    }


def test_an_inserted_clause_names_its_source_and_article():
    citation = Citation(
        document="L03_计量法_2018.md",
        title="中华人民共和国计量法",
        chunk_id="c1",
        text="第九条 县级以上人民政府计量行政部门……实行强制检定。",
        score=3.2,
        article="第九条",
        doc_number="主席令第16号",
    )
    text = clause_text(citation)
    assert text.startswith("《中华人民共和国计量法》第九条（主席令第16号）规定：“县级")
    assert text.endswith("”")
