"""Workers of the real desk sharing one database (SQLite file or PostgreSQL), for the WeChat
tests on the real desk: the ``deployment`` fixture and the fake knowledge base it answers with,
which can hold a question until a test lets it through."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.answers import Answer
from core.tickets import NotificationKind
from desk.service import Desk
from escalation.outbox import OutboxStatus
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.databases import BACKENDS, fresh_database
from tests.fakes.knowledge import FakeKnowledge

ANSWERABLE = "用于贸易结算的电子秤需要强制检定吗？"


class GatedKnowledge(FakeKnowledge):
    """The fake knowledge base, holding a question until the test lets it through."""

    def __init__(self) -> None:
        super().__init__()
        self.gates: dict[str, threading.Event] = {}

    def answer(self, question: str) -> Answer:
        gate = self.gates.get(question)
        if gate is not None:
            gate.wait(timeout=30)
        return super().answer(question)


@dataclass
class Worker:
    store: EscalationStore
    desk: Desk


@dataclass
class Deployment:
    url: str
    knowledge: GatedKnowledge
    clock: FakeClock
    workers: list[Worker]

    def worker(self) -> Worker:
        store = EscalationStore.open(self.url, clock=self.clock)
        worker = Worker(store, Desk(self.knowledge, store, clock=self.clock))
        self.workers.append(worker)
        return worker

    def outbox(self, kind: NotificationKind) -> list[OutboxStatus]:
        with self.workers[0].store.reading() as tx:
            records = tx.outbox.records()
        return [r.status for r in records if r.notification.kind is kind]


@pytest.fixture(params=BACKENDS)
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    """A fresh database (SQLite file, or PostgreSQL as several workers would share it)."""
    with fresh_database(request.param, tmp_path) as url:
        clock = FakeClock(datetime.now(UTC))
        seed = EscalationStore.open(url, clock=clock)
        seed.seed_roles(admins=["console:admin"], experts=["telegram:2001=other"])
        seed.close()
        found = Deployment(url, GatedKnowledge(), clock, [])
        try:
            yield found
        finally:
            for worker in found.workers:
                worker.store.close()
