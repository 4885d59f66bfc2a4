"""The expert desk end to end, through ``desk.Desk`` only (plus the outbox dispatcher the
server runs), on SQLite and on PostgreSQL:

a question the library cannot answer is escalated; the experts of its domain are notified; two
experts race to claim and one wins; the answer reaches the asker exactly once although the
dispatcher is killed mid-delivery and restarted; the published answer is then served to a
differently worded version of the question, labelled as an expert's answer.

The desk is composed by ``app.bootstrap.build`` from settings. The knowledge base is a
parameter: ``fake`` is the deterministic one of ``tests/fakes``; ``real`` is the real
``knowledge.answering.KnowledgeBase`` with the offline e5 model over two laws of the bundled library,
filled by the real ingest pipeline.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import prompts
from app import bootstrap
from app.bootstrap import Container
from app.settings import Settings
from core.answers import Decision
from core.errors import AlreadyClaimed
from core.people import Channel, Domain, UserRef
from core.tickets import NotificationKind, Ticket, TicketStatus
from desk.service import Desk
from escalation.dispatcher import Dispatcher
from escalation.outbox import OutboxStatus
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.databases import BACKENDS, fresh_database
from tests.fakes.knowledge import FakeKnowledge
from tests.fakes.notifier import BlockingNotifier, RecordingNotifier

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]

ASKER = UserRef(Channel.WECHAT, "o-grocer", None, "菜店王老板")
LATER_ASKER = UserRef(Channel.TELEGRAM, "5005", "5005", "超市赵经理")
METROLOGISTS = [
    UserRef(Channel.TELEGRAM, "2101", "2101", "计量专家甲"),
    UserRef(Channel.TELEGRAM, "2102", "2102", "计量专家乙"),
]
CERTIFIER = UserRef(Channel.TELEGRAM, "2201", "2201", "认证专家")
GROUP = UserRef(Channel.TELEGRAM, "-100777", "-100777", "专家群")

QUESTION = "电子秤检定一次要收多少钱？"
REWORDED = "菜市场电子秤检定费用是多少"
EXPERT_ANSWER = (
    "用于贸易结算的电子秤属于强制检定的计量器具，由当地市场监管部门指定的计量检定机构"
    "定期检定；强制检定不收取检定费用，非强制的校准按机构公示的标准收费。"
)
REAL_LAWS = ("L03_计量法_2018.md", "L04_认证认可条例_2023.md")
LEASE_SECONDS = 60


def settings_for(database: str, data_dir: Path) -> Settings:
    """An installation: this database, two metrology experts and a certification expert, the
    Telegram expert group as the shared destination (no channel is started here)."""
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        database_url=database,
        admins=["telegram:9001"],
        experts=[
            "telegram:2101=metrology",
            "telegram:2102=metrology|testing",
            "telegram:2201=certification",
        ],
        telegram_token="123456:not-used-here",
        telegram_expert_chat_id=int(GROUP.user_id),
    )


def build_fake(settings: Settings, request: pytest.FixtureRequest) -> Container:
    return bootstrap.build(settings, knowledge=FakeKnowledge())


def build_real(settings: Settings, request: pytest.FixtureRequest) -> Container:
    container = bootstrap.build(settings, embedder=request.getfixturevalue("e5_embedder"))
    laws = settings.data_dir / "laws"
    laws.mkdir()
    for name in REAL_LAWS:
        shutil.copyfile(REPO_ROOT / "library" / "laws" / name, laws / name)
    assert not container.pipeline.ingest_paths([laws]).errors
    return container


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(
    params=[
        pytest.param(build_fake, id="fake"),
        pytest.param(build_real, id="real", marks=pytest.mark.integration),
    ]
)
def container(request: pytest.FixtureRequest, database: str, tmp_path: Path) -> Iterator[Container]:
    """The desk as ``app.bootstrap.build`` composes it, on the fake or the real library."""
    built = request.param(settings_for(database, tmp_path / "var"), request)
    try:
        yield built
    finally:
        built.close()


def _deliver_and_hang(url: str, now: str, entered: Any) -> None:
    """A server's dispatcher (in its own process) whose notifier hangs inside ``send``."""
    clock = FakeClock(datetime.fromisoformat(now))
    store = EscalationStore.open(url, migrate=False)
    hang = BlockingNotifier(entered)
    dispatcher = Dispatcher(
        store,
        {"telegram": hang, "wechat": hang},
        clock=clock,
        owner="doomed",
        lease_seconds=LEASE_SECONDS,
        send_timeout=3600,
    )
    asyncio.run(dispatcher.run_once())


class ShiftedClock:
    """The wall clock plus a shift the test adds to (to let a lease run out without waiting)."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift

    def advance(self, seconds: float) -> None:
        self.shift += timedelta(seconds=seconds)


@dataclass
class Race:
    won: list[str | None]
    told: list[str | None]
    errors: list[BaseException]


def race_to_claim(desk: Desk, ticket_id: int, experts: list[UserRef]) -> Race:
    """All experts press "claim" at the same moment; who won, and what the others were told."""
    start = threading.Barrier(len(experts))
    race = Race([], [], [])

    def press(expert: UserRef) -> None:
        start.wait(timeout=30)
        try:
            race.won.append(desk.claim(expert, ticket_id).claimed_by)
        except AlreadyClaimed as exc:
            race.told.append(exc.holder)
        except BaseException as exc:  # fails the test
            race.errors.append(exc)

    threads = [threading.Thread(target=press, args=(e,)) for e in experts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return race


def test_a_question_travels_to_an_expert_and_back_into_the_library(
    container: Container, database: str
) -> None:
    desk: Desk = container.desk
    store: EscalationStore = container.store
    for expert in (*METROLOGISTS, CERTIFIER):  # their channel has seen them write
        container.memory.record_inbound(expert, f"hello-{expert.user_id}")
    recorder = RecordingNotifier()
    notifiers = {"telegram": recorder, "wechat": recorder}
    clock = ShiftedClock()  # the server's dispatchers: real time, moved on by the test

    def deliver() -> int:
        dispatcher = Dispatcher(
            store, notifiers, clock=clock, owner="server", lease_seconds=LEASE_SECONDS
        )
        return asyncio.run(dispatcher.run_once())

    # 1. the library cannot answer: the question is escalated
    reply = desk.ask(ASKER, QUESTION)
    assert reply.answer.decision is Decision.ESCALATE
    ticket = reply.ticket
    assert ticket is not None
    assert ticket.status is TicketStatus.OPEN
    assert ticket.domain is Domain.METROLOGY
    assert f"#{ticket.ticket_id}" in reply.text

    # 2. the experts of its domain (and the experts' group) are told, nobody else
    assert deliver() == 3
    told = {n.recipient.key for n in recorder.sent if n.kind is NotificationKind.NEW_TICKET}
    assert told == {METROLOGISTS[0].key, METROLOGISTS[1].key, GROUP.key}
    assert all(QUESTION in n.text for n in recorder.sent)

    # 3. two experts race to claim: one wins, the other is told who has it
    race = race_to_claim(desk, ticket.ticket_id, METROLOGISTS)
    assert race.errors == []
    (winner_key,) = race.won
    winner = next(e for e in METROLOGISTS if e.key == winner_key)
    assert race.told == [winner.display_name]
    assert deliver() == 1  # the group's card shows the claim

    # 4. the answer reaches the asker exactly once, though the dispatcher dies mid-send
    answered = desk.answer_ticket(winner, ticket.ticket_id, EXPERT_ANSWER)
    assert answered.status is TicketStatus.ANSWERED
    spawn = multiprocessing.get_context("spawn")
    entered = spawn.Event()
    doomed = spawn.Process(
        target=_deliver_and_hang, args=(database, clock.now().isoformat(), entered)
    )
    doomed.start()
    assert entered.wait(timeout=120), "the dispatcher never reached its notifier"
    doomed.kill()
    doomed.join(timeout=60)
    assert recorder.texts_for(ASKER.key) == []
    assert deliver() == 0  # its lease has not run out yet
    clock.advance(seconds=LEASE_SECONDS + 1)  # the restarted server finds it again
    assert deliver() == 2  # the answer, and the group's card update
    assert deliver() == 0
    to_asker = [n for n in recorder.sent if n.recipient.key == ASKER.key]
    assert len(to_asker) == 1
    assert to_asker[0].kind is NotificationKind.EXPERT_ANSWER
    assert to_asker[0].recipient == ASKER
    assert EXPERT_ANSWER in to_asker[0].text
    with store.reading() as tx:
        assert {r.status for r in tx.outbox.records()} == {OutboxStatus.SENT}

    # 5. published, the answer is served at once to a reworded question, as an expert's
    entry = desk.publish(winner, ticket.ticket_id)
    assert entry.ticket_id == ticket.ticket_id
    later = desk.ask(LATER_ASKER, REWORDED)
    assert later.ticket is None
    assert later.answer.decision is Decision.ANSWER
    assert later.answer.from_expert
    assert later.answer.faq_id == entry.faq_id
    assert later.text.startswith(prompts.text("answer.expert_lead"))
    assert EXPERT_ANSWER in later.text
    mine: list[Ticket] = desk.my_tickets(LATER_ASKER)
    assert mine == []
    assert desk.stats(UserRef(Channel.TELEGRAM, "9001")).answered_by_experts == 1
