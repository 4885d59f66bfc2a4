"""The admin console's desk calls on SQLite and PostgreSQL: the question log with its filters
and pages, a ticket opened from a logged question, statistics per period, domain and channel
(agreeing with the desk's own figures) and their CSV; admins only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.errors import InvalidQuestion, NotPermitted
from core.people import Channel, UserRef
from core.question_log import Outcome, QuestionQuery
from core.tickets import NotificationKind, TicketStatus
from desk.service import Desk
from desk.statistics import PeriodUnit
from escalation.store import EscalationStore
from tests.fakes.clock import START, FakeClock
from tests.fakes.databases import BACKENDS, fresh_database
from tests.fakes.history import ANSWERABLE, BAIJIU, EXPERT, TOYS, A, B, at, seed_history
from tests.fakes.knowledge import FakeKnowledge

pytestmark = pytest.mark.integration

ADMIN = UserRef(Channel.CONSOLE, "admin", display_name="管理员")


@pytest.fixture(params=BACKENDS)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    with fresh_database(request.param, tmp_path) as url:
        clock = FakeClock()
        store = EscalationStore.open(url, clock=clock)
        store.seed_roles(admins=[ADMIN.key], experts=[EXPERT.key])
        seeded = Desk(FakeKnowledge(), store, clock=clock)
        seed_history(seeded, clock)
        try:
            yield seeded
        finally:
            store.close()


def test_the_log_lists_every_question_newest_first_with_what_the_desk_did(desk: Desk) -> None:
    page = desk.question_log(ADMIN)
    assert page.total == 6  # five questions and the empty one the desk refused
    assert [row.question for row in page.rows[:3]] == [
        "小作坊灌装散装白酒卖需要办哪些许可证",
        TOYS,
        BAIJIU,
    ]
    toys = page.rows[1]
    assert (toys.decision, toys.channel, toys.ticket_status) == ("escalate", "telegram", "answered")
    assert toys.asker_name == "丙" and toys.ticket_id is not None
    first = page.rows[-1]
    assert first.question == ANSWERABLE and first.feedback == "helpful"


def test_the_log_filters_by_outcome_channel_and_period(desk: Desk) -> None:
    answered = desk.question_log(ADMIN, QuestionQuery(outcome=Outcome.ANSWERED))
    assert [r.question for r in answered.rows] == [ANSWERABLE, ANSWERABLE]
    escalated = desk.question_log(ADMIN, QuestionQuery(outcome=Outcome.ESCALATED))
    assert escalated.total == 3 and all(r.ticket_id for r in escalated.rows)
    thumbs_down = desk.question_log(ADMIN, QuestionQuery(outcome=Outcome.NOT_HELPFUL))
    assert [r.user_key for r in thumbs_down.rows] == [B.key]
    low = desk.question_log(ADMIN, QuestionQuery(outcome=Outcome.LOW_CONFIDENCE, low_below=1.01))
    assert low.total == 2
    assert (
        desk.question_log(ADMIN, QuestionQuery(outcome=Outcome.LOW_CONFIDENCE, low_below=0.0)).total
        == 0
    )
    wechat = desk.question_log(ADMIN, QuestionQuery(channel="wechat"))
    assert {r.user_key for r in wechat.rows} == {B.key} and wechat.total == 2
    later = desk.question_log(ADMIN, QuestionQuery(since=at(2), until=at(3)))
    assert [r.question for r in later.rows] == [TOYS]


def test_the_log_comes_a_page_at_a_time(desk: Desk) -> None:
    first = desk.question_log(ADMIN, QuestionQuery(limit=4))
    second = desk.question_log(ADMIN, QuestionQuery(limit=4, offset=4))
    assert (len(first.rows), first.has_next, len(second.rows), second.has_next) == (
        4,
        True,
        2,
        False,
    )
    ids = [r.interaction_id for r in first.rows + second.rows]
    assert len(set(ids)) == 6 and ids == sorted(ids, reverse=True)


def test_an_admin_opens_a_ticket_for_a_logged_answer_once(desk: Desk) -> None:
    answered = desk.question_log(ADMIN, QuestionQuery(outcome=Outcome.NOT_HELPFUL)).rows[0]
    ticket = desk.open_ticket_for(ADMIN, answered.interaction_id)
    assert ticket.status is TicketStatus.OPEN
    assert ticket.asker.key == B.key and ticket.question == ANSWERABLE
    assert ticket.draft_answer == answered.answer_text
    again = desk.open_ticket_for(ADMIN, answered.interaction_id)
    assert again.ticket_id == ticket.ticket_id
    with desk.store.reading() as tx:
        kinds = [r.notification.kind for r in tx.outbox.records(ticket_id=ticket.ticket_id)]
    assert kinds.count(NotificationKind.NEW_TICKET) == 1  # the expert hears of it once
    logged = desk.question_log(ADMIN, QuestionQuery(outcome=Outcome.ESCALATED))
    assert answered.interaction_id in {r.interaction_id for r in logged.rows}
    entries = desk.audit_log(ADMIN)
    assert any(
        e.action == "escalate" and e.subject == f"ticket {ticket.ticket_id}" for e in entries
    )


def test_a_question_answered_from_an_expert_entry_can_go_to_an_expert_again(desk: Desk) -> None:
    [answered] = [t for t in desk.tickets(ADMIN) if t.answer and t.question == BAIJIU]
    desk.publish(EXPERT, answered.ticket_id)
    reply = desk.ask(A, "小作坊自己灌装散装白酒卖，要办哪些许可证？")
    assert reply.answer.from_expert and reply.ticket is None
    ticket = desk.open_ticket_for(ADMIN, reply.interaction_id)
    assert ticket.ticket_id != answered.ticket_id and ticket.asker.key == A.key


def test_only_admins_read_the_log_open_tickets_or_statistics(desk: Desk) -> None:
    row = desk.question_log(ADMIN, QuestionQuery(outcome=Outcome.ANSWERED)).rows[0]
    for who in (EXPERT, A):
        with pytest.raises(NotPermitted):
            desk.question_log(who)
        with pytest.raises(NotPermitted):
            desk.open_ticket_for(who, row.interaction_id)
        with pytest.raises(NotPermitted):
            desk.statistics(who, START, at(120))
    refused = desk.question_log(ADMIN).rows
    empty = next(r for r in refused if r.decision == "invalid")
    with pytest.raises(InvalidQuestion):
        desk.open_ticket_for(ADMIN, empty.interaction_id)


def test_statistics_in_all_agree_with_the_desks_figures(desk: Desk) -> None:
    stats = desk.statistics(ADMIN, START - timedelta(hours=1), at(120))
    figures = desk.stats(ADMIN)
    total = stats.total
    assert (total.questions, total.answered_by_desk, total.escalated) == (
        figures.questions,
        figures.answered_by_desk,
        figures.escalated,
    )
    assert total.auto_answer_rate == pytest.approx(0.4)
    assert total.escalation_rate == pytest.approx(0.6)
    assert (total.response_p50_s, total.response_p90_s) == pytest.approx(
        (figures.claim_p50_s, figures.claim_p90_s)
    )
    assert (total.resolution_p50_s, total.resolution_p90_s) == pytest.approx(
        (figures.answer_p50_s, figures.answer_p90_s)
    )
    assert total.not_helpful == 1 and total.tickets == 3
    assert stats.figures is not None and stats.figures.askers == figures.askers
    assert stats.figures.top_unanswered == figures.top_unanswered


def test_statistics_per_period_domain_and_channel(desk: Desk) -> None:
    # START is Monday 2025-03-03 09:00 UTC, 17:00 in Beijing
    stats = desk.statistics(ADMIN, START - timedelta(days=2), START + timedelta(days=1))
    assert [p.key for p in stats.periods] == [
        "2025-03-01",
        "2025-03-02",
        "2025-03-03",
        "2025-03-04",
    ]
    assert [p.questions for p in stats.periods] == [0, 0, 5, 0]
    assert stats.periods[0].auto_answer_rate is None
    weekly = desk.statistics(
        ADMIN, START - timedelta(days=2), START + timedelta(days=1), PeriodUnit.WEEK
    )
    assert [p.key for p in weekly.periods] == ["2025-02-24", "2025-03-03"]
    monthly = desk.statistics(
        ADMIN, START - timedelta(days=4), START + timedelta(days=1), PeriodUnit.MONTH
    )
    assert [(p.key, p.questions) for p in monthly.periods] == [("2025-02-01", 0), ("2025-03-01", 5)]
    domains = {d.key: d for d in stats.domains}
    assert set(domains) == {
        "metrology",
        "standards",
        "certification",
        "testing",
        "quality",
        "food",
        "other",
    }
    assert domains["food"].tickets == 2 and domains["certification"].tickets == 1
    assert domains["certification"].resolution_p50_s == pytest.approx(3600.0)
    assert sum(d.questions for d in stats.domains) == 5
    channels = {c.key: c for c in stats.channels}
    assert (channels["telegram"].questions, channels["wechat"].questions) == (3, 2)
    assert channels["wechat"].auto_answer_rate == pytest.approx(0.5)
    assert channels["console"].questions == 0


def test_statistics_download_as_csv(desk: Desk) -> None:
    text = desk.statistics_csv(ADMIN, START - timedelta(days=1), START + timedelta(days=1))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["section", "key", "questions", "answered_by_desk", "auto_answer_rate"]
    total = next(r for r in rows if r[0] == "total")
    header = rows[0]
    values = dict(zip(header, total, strict=True))
    assert (values["questions"], values["auto_answer_rate"], values["escalation_rate"]) == (
        "5",
        "0.4",
        "0.6",
    )
    assert values["response_p50_s"] == "1200"
    assert {r[0] for r in rows[1:]} == {"range", "total", "period", "domain", "channel"}


def test_statistics_refuse_an_empty_or_endless_range(desk: Desk) -> None:
    with pytest.raises(ValueError):
        desk.statistics(ADMIN, at(10), at(10))
    with pytest.raises(ValueError):
        desk.statistics(ADMIN, START - timedelta(days=800), START)
