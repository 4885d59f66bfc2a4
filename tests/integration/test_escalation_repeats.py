"""The same question from the same asker, arriving twice at the same moment (a double tap
delivered to two workers), opens one ticket — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.people import Channel, UserRef
from core.tickets import NotificationKind, Ticket
from desk.service import Desk
from escalation.channel_memory import StoreChannelMemory
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.databases import BACKENDS, fresh_database
from tests.fakes.knowledge import FakeKnowledge

pytestmark = pytest.mark.integration

QUESTION = "我们小作坊自己灌装散装白酒卖，需要办哪些许可证？"


def double_tap(workers: list[Desk], asker: UserRef) -> list[Ticket | None]:
    """Each worker gets the same question from ``asker`` at the same moment."""
    start = threading.Barrier(len(workers))
    tickets: list[Ticket | None] = []

    def tap(desk: Desk) -> None:
        start.wait(timeout=30)
        tickets.append(desk.ask(asker, QUESTION).ticket)

    threads = [threading.Thread(target=tap, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return tickets


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_double_tap_on_two_workers_opens_one_ticket(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        clock = FakeClock()
        stores = [EscalationStore.open(url, clock=clock) for _ in range(2)]
        try:
            stores[0].seed_roles(experts=["telegram:2002=food"])
            workers = [Desk(FakeKnowledge(), store, clock=clock) for store in stores]
            for n in range(8):
                asker = UserRef(Channel.WECHAT, f"o-tap-{n}")  # no name: nothing else locks
                StoreChannelMemory(stores[0]).record_inbound(asker, f"earlier-{n}")  # known before
                tickets = double_tap(workers, asker)
                assert len(tickets) == 2
                assert len({t.ticket_id for t in tickets if t}) == 1
                assert len(workers[1].my_tickets(asker)) == 1
                (ticket_id,) = {t.ticket_id for t in tickets if t}
                with stores[0].reading() as tx:
                    announced = tx.outbox.records(ticket_id=ticket_id)
                assert [r.notification.kind for r in announced] == [NotificationKind.NEW_TICKET]
        finally:
            for store in stores:
                store.close()
