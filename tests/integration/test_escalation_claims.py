"""Claiming is atomic: experts pressing "claim" at once from separate connections — exactly
one wins, every other one is told who has the ticket. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import AlreadyClaimed
from core.people import Channel, Domain, UserRef
from core.tickets import TicketStatus
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.databases import BACKENDS, fresh_database

pytestmark = pytest.mark.integration

ASKER = UserRef(Channel.WECHAT, "o-asker", None, "王老板")
EXPERTS = [UserRef(Channel.TELEGRAM, str(3000 + i), display_name=f"专家{i}") for i in range(4)]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EscalationStore]:
    with fresh_database(request.param, tmp_path) as url:
        opened = EscalationStore.open(url, clock=FakeClock())
        try:
            yield opened
        finally:
            opened.close()


def _open(store: EscalationStore, n: int) -> list[int]:
    with store.transaction() as tx:
        tx.people.touch(ASKER)
        return [tx.tickets.open(ASKER, f"问题{i}", Domain.METROLOGY).ticket_id for i in range(n)]


def race_to_claim(
    store: EscalationStore, ticket_id: int, experts: list[UserRef]
) -> tuple[list[str], list[str | None], list[BaseException]]:
    """Every expert presses "claim" at the same moment, each in its own thread and connection.
    Returns who won, the holders the losers were told, and any unexpected error."""
    start = threading.Barrier(len(experts))
    winners: list[str] = []
    holders: list[str | None] = []
    errors: list[BaseException] = []

    def press_claim(expert: UserRef) -> None:
        start.wait(timeout=30)
        try:
            with store.transaction() as tx:
                winners.append(tx.tickets.claim(ticket_id, expert).claimed_by or "")
        except AlreadyClaimed as exc:
            holders.append(exc.holder)
        except BaseException as exc:  # anything else fails the test
            errors.append(exc)

    threads = [threading.Thread(target=press_claim, args=(e,)) for e in experts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return winners, holders, errors


def test_experts_claiming_at_once_one_wins_the_rest_learn_who(store: EscalationStore) -> None:
    for ticket_id in _open(store, 10):
        winners, holders, errors = race_to_claim(store, ticket_id, EXPERTS)
        assert errors == []
        assert len(winners) == 1
        winner = next(e for e in EXPERTS if e.key == winners[0])
        assert holders == [winner.display_name] * (len(EXPERTS) - 1)
        with store.reading() as tx:
            ticket = tx.tickets.get(ticket_id)
        assert ticket.status is TicketStatus.CLAIMED
        assert ticket.claimed_by == winner.key


def test_a_claim_waiting_on_an_uncommitted_claim_loses_once_it_commits(
    store: EscalationStore,
) -> None:
    """The first expert's claim is written but not yet committed while the second claims: the
    second must not also win (it waits for the row, then sees the ticket taken)."""
    (ticket_id,) = _open(store, 1)
    first_written = threading.Event()
    let_first_commit = threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with store.transaction() as tx:
            tx.tickets.claim(ticket_id, EXPERTS[0])
            first_written.set()
            let_first_commit.wait(timeout=30)

    def second() -> None:
        first_written.wait(timeout=30)
        try:
            with store.transaction() as tx:
                outcome["won"] = tx.tickets.claim(ticket_id, EXPERTS[1])
        except AlreadyClaimed as exc:
            outcome["holder"] = exc.holder

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_written.wait(timeout=30)
    let_first_commit.set()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome == {"holder": EXPERTS[0].display_name}
