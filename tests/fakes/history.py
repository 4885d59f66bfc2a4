"""A seeded service history on the real desk and store, for the statistics tests.

``seeded_desk(url)`` opens the store at ``url``, makes telegram:2002 an expert and plays
``seed_history``: two desk answers (one 有用, one 没解决), three escalations (two answered by the
expert), one refusal, on the fake clock from ``START``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.people import Channel, UserRef
from desk.service import Desk
from escalation.store import EscalationStore
from tests.fakes.clock import START, FakeClock
from tests.fakes.knowledge import FakeKnowledge

A = UserRef(Channel.TELEGRAM, "1", "1", "甲")
B = UserRef(Channel.WECHAT, "o-2", None, "乙")
C = UserRef(Channel.TELEGRAM, "3", "3", "丙")
EXPERT = UserRef(Channel.TELEGRAM, "2002", display_name="张工")

ANSWERABLE = "用于贸易结算的电子秤需要强制检定吗？"
BAIJIU = "我们小作坊自己灌装散装白酒卖，需要办哪些许可证？"
BAIJIU_B = "小作坊灌装散装白酒卖需要办哪些许可证"
TOYS = "出口到欧盟的玩具需要做哪些CE认证？"


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def seed_history(desk: Desk, clock: FakeClock) -> None:
    """Two desk answers (one 有用, one 没解决), three escalations, one refusal; ticket 1 claimed
    after 10 min and answered after 30; ticket 2 after 30 and 60; ticket 3 still waiting."""
    clock.set(START)
    first = desk.ask(A, ANSWERABLE)
    second = desk.ask(B, ANSWERABLE)
    desk.feedback(A, first.interaction_id, True)
    desk.feedback(B, second.interaction_id, False)
    desk.ask(A, "")
    clock.set(at(1))
    t1 = desk.ask(A, BAIJIU).ticket
    clock.set(at(2))
    t2 = desk.ask(C, TOYS).ticket
    clock.set(at(3))
    t3 = desk.ask(B, BAIJIU_B).ticket
    assert t1 and t2 and t3 and len({t1.ticket_id, t2.ticket_id, t3.ticket_id}) == 3
    clock.set(at(11))
    desk.claim(EXPERT, t1.ticket_id)
    clock.set(at(31))
    desk.answer_ticket(EXPERT, t1.ticket_id, "答复一")
    clock.set(at(32))
    desk.claim(EXPERT, t2.ticket_id)
    clock.set(at(62))
    desk.answer_ticket(EXPERT, t2.ticket_id, "答复二")


def seeded_desk(url: str) -> tuple[Desk, EscalationStore]:
    clock = FakeClock()
    store = EscalationStore.open(url, clock=clock)
    store.seed_roles(experts=["telegram:2002"])
    desk = Desk(FakeKnowledge(), store, clock=clock)
    seed_history(desk, clock)
    return desk, store
