"""Publishing expert answers to the library, withdrawing them, and keeping documents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.answers import FaqStatus
from core.errors import DocumentNotFound, FaqNotFound, InvalidTransition, NotPermitted
from core.people import Channel, UserRef
from core.tickets import NotificationKind
from desk.service import Desk
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.knowledge import FakeIngest, FakeKnowledge

ASKER = UserRef(Channel.TELEGRAM, "1001", "1001", "王老板")
OTHER = UserRef(Channel.WECHAT, "o-zhao", None, "赵经理")
FOOD_EXPERT = UserRef(Channel.TELEGRAM, "2002", display_name="张工")
ADMIN = UserRef(Channel.CONSOLE, "admin")

BAIJIU = "我们小作坊自己灌装散装白酒卖，需要办哪些许可证？"
BAIJIU_REWORDED = "自己灌装的散装白酒拿去卖，要办什么许可证"
BAIJIU_AGAIN = "小作坊灌装散装白酒卖，需要办哪些许可证呢"
ANSWER = "需要取得食品生产许可证（小作坊按省里的登记办法办理登记证），销售还需食品经营许可。"


@dataclass
class Rig:
    desk: Desk
    store: EscalationStore
    knowledge: FakeKnowledge
    clock: FakeClock


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    clock = FakeClock()
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}", clock=clock)
    store.seed_roles(admins=["console:admin"], experts=["telegram:2002=food"])
    knowledge = FakeKnowledge()
    desk = Desk(knowledge, store, FakeIngest(knowledge), clock=clock)
    try:
        yield Rig(desk, store, knowledge, clock)
    finally:
        store.close()


def answered_ticket(rig: Rig, question: str = BAIJIU, asker: UserRef = ASKER) -> int:
    ticket = rig.desk.ask(asker, question).ticket
    assert ticket is not None
    rig.desk.answer_ticket(FOOD_EXPERT, ticket.ticket_id, ANSWER)
    return ticket.ticket_id


def test_a_published_answer_serves_a_reworded_question_as_an_experts_answer(rig: Rig) -> None:
    ticket_id = answered_ticket(rig)
    entry = rig.desk.publish(FOOD_EXPERT, ticket_id)
    assert (entry.question, entry.answer, entry.ticket_id) == (BAIJIU, ANSWER, ticket_id)
    assert entry.sources == ("L10_食品安全法_2021.md",)
    assert entry.approved_by == "张工"
    assert entry.approved_at == rig.clock.now().isoformat(timespec="seconds")
    assert rig.desk.ticket(FOOD_EXPERT, ticket_id).published_faq_id == entry.faq_id
    with rig.store.reading() as tx:
        mirrored = tx.faq.get(entry.faq_id)
    assert mirrored is not None and mirrored.entry == entry

    reply = rig.desk.ask(OTHER, BAIJIU_REWORDED)
    assert reply.ticket is None
    assert reply.answer.from_expert
    assert reply.answer.faq_id == entry.faq_id
    assert ANSWER in reply.text


def test_answering_with_publish_does_both(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    done = rig.desk.answer_ticket(FOOD_EXPERT, ticket.ticket_id, ANSWER, publish=True)
    assert done.published_faq_id is not None
    assert list(rig.knowledge.faqs) == [done.published_faq_id]
    queued = {r.notification.kind for r in _records(rig)}
    assert NotificationKind.EXPERT_ANSWER in queued


def _records(rig: Rig):
    with rig.store.reading() as tx:
        return tx.outbox.records()


def test_publishing_a_near_duplicate_updates_the_existing_entry(rig: Rig) -> None:
    first = rig.desk.publish(FOOD_EXPERT, answered_ticket(rig))
    rig.knowledge.faqs.clear()  # the library forgot it; the next ask escalates again
    second_ticket = rig.desk.ask(OTHER, BAIJIU_AGAIN).ticket
    assert second_ticket is not None
    rig.knowledge.faqs[first.faq_id] = first
    rig.desk.answer_ticket(FOOD_EXPERT, second_ticket.ticket_id, "更新后的答复。")
    second = rig.desk.publish(FOOD_EXPERT, second_ticket.ticket_id)
    assert second.faq_id == first.faq_id
    assert list(rig.knowledge.faqs) == [first.faq_id]
    assert rig.knowledge.faqs[first.faq_id].answer == "更新后的答复。"
    assert len(rig.desk.faq_entries(FOOD_EXPERT)) == 1


def test_only_an_answered_ticket_can_be_published(rig: Rig) -> None:
    ticket = rig.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    with pytest.raises(InvalidTransition):
        rig.desk.publish(FOOD_EXPERT, ticket.ticket_id)
    assert rig.knowledge.faqs == {}


def test_a_withdrawn_entry_is_no_longer_served(rig: Rig) -> None:
    entry = rig.desk.publish(FOOD_EXPERT, answered_ticket(rig))
    with pytest.raises(NotPermitted):
        rig.desk.withdraw_faq(ASKER, entry.faq_id)
    record = rig.desk.withdraw_faq(FOOD_EXPERT, entry.faq_id)
    assert record.status is FaqStatus.WITHDRAWN
    assert rig.knowledge.faqs == {}
    assert rig.desk.ticket(FOOD_EXPERT, entry.ticket_id or 0).published_faq_id is None
    assert rig.desk.ask(OTHER, BAIJIU_REWORDED).ticket is not None
    with pytest.raises(FaqNotFound):
        rig.desk.withdraw_faq(FOOD_EXPERT, "faq-nonexistent")
    with pytest.raises(FaqNotFound):
        rig.desk.review_faq(FOOD_EXPERT, "faq-nonexistent")


def test_entries_citing_a_replaced_or_removed_document_are_flagged(
    rig: Rig, tmp_path: Path
) -> None:
    entry = rig.desk.publish(FOOD_EXPERT, answered_ticket(rig))
    unrelated = tmp_path / "N01_通知.md"
    unrelated.write_text("# 关于开展质量帮扶的通知\n各地要开展质量技术帮扶。", encoding="utf-8")
    added = rig.desk.add_document(ADMIN, unrelated)
    assert added.error is None and added.replaced is None and added.chunks == 1
    assert rig.desk.faq_entries(FOOD_EXPERT, flagged=True) == []

    new_version = tmp_path / "upload.tmp"
    new_version.write_text("# 中华人民共和国食品安全法\n第三十五条 新的条文。", encoding="utf-8")
    replaced = rig.desk.add_document(ADMIN, new_version, "L10_食品安全法_2021.md")
    assert replaced.replaced is not None
    assert replaced.file_name == "L10_食品安全法_2021.md"
    (flagged,) = rig.desk.faq_entries(FOOD_EXPERT, flagged=True)
    assert flagged.entry.faq_id == entry.faq_id
    assert flagged.flag_reason == "replaced:L10_食品安全法_2021.md"
    assert not rig.desk.review_faq(FOOD_EXPERT, entry.faq_id).flagged

    doc = rig.knowledge.find_by_file("L10_食品安全法_2021.md")
    assert doc is not None
    assert rig.desk.remove_document(ADMIN, doc.doc_id) == doc
    (flagged,) = rig.desk.faq_entries(FOOD_EXPERT, flagged=True)
    assert flagged.flag_reason == "removed:L10_食品安全法_2021.md"
    with pytest.raises(DocumentNotFound):
        rig.desk.remove_document(ADMIN, doc.doc_id)


def test_adding_the_same_file_twice_changes_nothing(rig: Rig, tmp_path: Path) -> None:
    path = tmp_path / "N01_通知.md"
    path.write_text("# 关于开展质量帮扶的通知\n各地要开展质量技术帮扶。", encoding="utf-8")
    first = rig.desk.add_document(ADMIN, path)
    again = rig.desk.add_document(ADMIN, path)
    assert not first.unchanged and again.unchanged
    assert again.document == first.document
    assert first.document in rig.desk.documents(ADMIN)


def test_a_refused_file_comes_back_with_its_error_code(rig: Rig, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    outcome = rig.desk.add_document(ADMIN, empty)
    assert (outcome.document, outcome.error_code) == (None, "empty_document")
    assert outcome.error is not None and "empty.txt" in outcome.error
    image = tmp_path / "scan.png"
    image.write_bytes(b"\x89PNG")
    assert rig.desk.add_document(ADMIN, image).error_code == "unsupported_format"


def test_only_admins_manage_documents(rig: Rig, tmp_path: Path) -> None:
    path = tmp_path / "N01.md"
    path.write_text("# 标题\n正文", encoding="utf-8")
    with pytest.raises(NotPermitted):
        rig.desk.add_document(FOOD_EXPERT, path)
    with pytest.raises(NotPermitted):
        rig.desk.remove_document(ASKER, "any")


def test_a_batch_ingest_reports_replaced_documents_for_review(rig: Rig) -> None:
    entry = rig.desk.publish(FOOD_EXPERT, answered_ticket(rig))
    assert rig.desk.document_changed("L03_计量法_2018.md") == []
    assert rig.desk.document_changed("L10_食品安全法_2021.md") == [entry.faq_id]
    (flagged,) = rig.desk.faq_entries(FOOD_EXPERT, flagged=True)
    assert flagged.flag_reason == "replaced:L10_食品安全法_2021.md"


def test_the_reply_editor_finds_clauses_even_where_an_expert_entry_answers(rig: Rig) -> None:
    rig.desk.publish(FOOD_EXPERT, answered_ticket(rig))
    assert rig.desk.ask(OTHER, BAIJIU_REWORDED).answer.from_expert
    found = rig.desk.search_library(FOOD_EXPERT, f"  {BAIJIU_REWORDED} ", limit=1)
    assert [c.document for c in found] == ["L10_食品安全法_2021.md"]
    assert rig.desk.search_library(FOOD_EXPERT, "   ") == []
    with pytest.raises(NotPermitted):
        rig.desk.search_library(ASKER, BAIJIU)
