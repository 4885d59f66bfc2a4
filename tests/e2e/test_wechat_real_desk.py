"""The WeChat channel on the real desk service (desk.service.Desk, escalation on SQLite and on
PostgreSQL, the outbox dispatcher), with the deterministic knowledge base of the desk's own
tests: expert answers through the outbox inside and outside the 48-hour window, and one message
re-delivered across two workers that share one database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

import prompts
from core.people import Channel, UserRef
from core.tickets import NotificationKind, TicketStatus
from escalation.dispatcher import Dispatcher
from escalation.outbox import OutboxStatus
from tests.fakes.wechat_desk import ANSWERABLE, Deployment, Worker, deployment
from tests.fakes.wechat_platform import new_openid, wechat_rig, without_time

pytestmark = pytest.mark.e2e

__all__ = ["deployment"]  # the fixture

EXPERT = UserRef(Channel.TELEGRAM, "2001", display_name="李工")
ESCALATED = "锅炉要年检吗？"
EXPERT_TEXT = "锅炉属于特种设备，使用单位应当按规定向检验机构申请定期检验。"


async def deliver_outbox(worker: Worker, notifier) -> None:
    """One round of the outbox dispatcher, with the WeChat notifier as the wechat channel."""
    dispatcher = Dispatcher(worker.store, {"wechat": notifier}, lease_seconds=30)
    await dispatcher.run_round()


async def test_expert_answer_inside_the_window_goes_out_through_the_outbox(
    deployment: Deployment,
) -> None:
    worker = deployment.worker()
    openid = new_openid()
    asker = UserRef(Channel.WECHAT, openid)
    async with wechat_rig(worker.desk) as rig:
        asked = await rig.ask(openid, ESCALATED)
        (ticket,) = worker.desk.my_tickets(asker)
        assert f"#{ticket.ticket_id}" in asked
        worker.desk.claim(EXPERT, ticket.ticket_id)
        worker.desk.answer_ticket(EXPERT, ticket.ticket_id, EXPERT_TEXT)
        await deliver_outbox(worker, rig.channel.notifier)
        (pushed,) = await rig.api.wait_sent(openid, 1)
        thanks = await rig.platform.send_text(openid, "1")  # 有用: closes the ticket
    assert EXPERT_TEXT in pushed
    assert pushed.endswith(prompts.text("wechat.expert_feedback_hint"))
    assert deployment.outbox(NotificationKind.EXPERT_ANSWER) == [OutboxStatus.SENT]
    assert thanks.reply is not None and f"#{ticket.ticket_id}" in thanks.reply
    assert worker.desk.ticket(asker, ticket.ticket_id).status is TicketStatus.CLOSED


async def test_expert_answer_outside_the_window_waits_for_the_next_message(
    deployment: Deployment,
) -> None:
    worker = deployment.worker()
    openid = new_openid()
    asker = UserRef(Channel.WECHAT, openid)
    deployment.clock.set(datetime.now(UTC) - timedelta(hours=49))  # the asker wrote 49 h ago
    async with wechat_rig(worker.desk) as rig:
        asked = await rig.ask(openid, ESCALATED)  # passive or pushed: the ticket exists then
        (ticket,) = worker.desk.my_tickets(asker)
        assert f"#{ticket.ticket_id}" in asked
        sent_before = rig.api.send_requests
        worker.desk.claim(EXPERT, ticket.ticket_id)
        worker.desk.answer_ticket(EXPERT, ticket.ticket_id, EXPERT_TEXT)
        await deliver_outbox(worker, rig.channel.notifier)
        assert rig.api.send_requests == sent_before  # not tried: the window is closed
        assert deployment.outbox(NotificationKind.EXPERT_ANSWER) == [OutboxStatus.SENT]
        deployment.clock.set(datetime.now(UTC))
        later = await rig.platform.send_text(openid, ANSWERABLE)
        again = await rig.platform.send_text(openid, ANSWERABLE)
    assert later.violations == []
    assert later.reply is not None
    assert later.reply.startswith(prompts.text("wechat.expert_answer", answer="").strip())
    assert EXPERT_TEXT in later.reply
    assert "计量法" in later.reply  # and the answer to the new question
    assert again.reply is not None and EXPERT_TEXT not in again.reply  # shown once


async def test_one_message_three_deliveries_two_workers_one_database(
    deployment: Deployment,
) -> None:
    workers = [deployment.worker(), deployment.worker()]
    openid = new_openid()
    async with wechat_rig([w.desk for w in workers]) as rig:
        exchange = await rig.platform.send_text(openid, ANSWERABLE, lose=2)
    assert [a.target for a in exchange.attempts] == [rig.urls[0], rig.urls[1], rig.urls[0]]
    assert exchange.attempts[0].lost and exchange.attempts[1].lost
    assert exchange.reply is not None and "计量法" in exchange.reply
    first, second = (without_time(a.body) for a in exchange.attempts[:2])
    assert second == first  # the saved reply, verbatim but for the second it was sent in
    assert deployment.knowledge.questions == [ANSWERABLE]  # answered once
    assert workers[1].desk.stats(EXPERT).questions == 1


async def test_slow_owner_and_a_redelivery_on_the_other_worker(deployment: Deployment) -> None:
    workers = [deployment.worker(), deployment.worker()]
    openid = new_openid()
    gate = threading.Event()
    deployment.knowledge.gates[ANSWERABLE] = gate
    async with wechat_rig([w.desk for w in workers], budget_s=[2.5, 0.8], timeout_s=1.0) as rig:
        exchange = await rig.platform.send_text(openid, ANSWERABLE)
        assert exchange.deliveries == 2 and exchange.attempts[0].timed_out
        assert exchange.accepted and exchange.reply is None
        gate.set()
        pushed = await rig.api.wait_sent(openid, 1)
    assert len(pushed) == 1 and "计量法" in pushed[0]
    assert deployment.knowledge.questions == [ANSWERABLE]
