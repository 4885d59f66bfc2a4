"""Document status derived from dates and links, precedence, the checks on an admin's values,
what ingestion reads of a text's own validity, and FAQ entries flagged when a status changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from core.answers import Citation
from core.document_status import (
    DocumentStatus,
    parse_date,
    precedence_key,
    prevails,
    status_of,
)
from core.documents import DocumentKind, SourceDocument
from core.errors import DocumentNotFound, NotPermitted
from core.people import Channel, UserRef
from desk.document_fields import InvalidDocumentField, check_changes
from desk.service import Desk
from escalation.store import EscalationStore
from ingest.validity import effective_until, read_status_table, replaced_titles
from knowledge import status
from tests.fakes.clock import FakeClock
from tests.fakes.knowledge import FakeIngest, FakeKnowledge

TODAY = date(2026, 6, 1)
LAW = SourceDocument(
    "a" * 16,
    "L02_标准化法_2017.md",
    "中华人民共和国标准化法（2017年修订）",
    DocumentKind.LAW,
    "h1",
    date_issued="2017-11-04",
    date_effective="2018-01-01",
)
OLD = SourceDocument(
    "b" * 16,
    "L09_标准化法实施条例_1990.md",
    "中华人民共和国标准化法实施条例（1990年）",
    DocumentKind.REGULATION,
    "h2",
    date_issued="1990-04-06",
    date_effective="1990-04-06",
)
OTHER = SourceDocument(
    "c" * 16,
    "L10_食品安全法_2021.md",
    "中华人民共和国食品安全法（2021年修正）",
    DocumentKind.LAW,
    "h3",
    date_issued="2021-04-29",
)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, DocumentStatus.IN_FORCE),
        ({"date_effective": "2026-06-02"}, DocumentStatus.PENDING),
        ({"date_effective": "2026-06-01"}, DocumentStatus.IN_FORCE),
        ({"date_until": "2026-05-31"}, DocumentStatus.EXPIRED),
        ({"date_until": "2026-06-01"}, DocumentStatus.IN_FORCE),
        ({"date_repealed": "2026-06-01"}, DocumentStatus.REPEALED),
        ({"date_repealed": "2027-01-01"}, DocumentStatus.IN_FORCE),
        ({"superseded_by": ("GB 4806.7-2023",)}, DocumentStatus.SUPERSEDED),
        ({"superseded_by": ("x",), "date_repealed": "2020-01-01"}, DocumentStatus.REPEALED),
    ],
)
def test_status_is_derived_from_the_dates_and_links_on_the_day_asked(changes, expected) -> None:
    assert status_of(replace(LAW, **changes), TODAY) is expected


def test_a_higher_ranking_newer_text_prevails_and_an_unrelated_one_is_not_said_to() -> None:
    assert prevails(precedence_key(LAW), precedence_key(OLD))
    assert not prevails(precedence_key(OLD), precedence_key(LAW))
    docs = {d.doc_id: d for d in (LAW, OLD, OTHER)}
    quoted = Citation(OLD.file_name, OLD.title, "b:1", "…", 1.0)
    law = Citation(LAW.file_name, LAW.title, "a:1", "…", 0.9)
    food = Citation(OTHER.file_name, OTHER.title, "c:1", "…", 0.9)
    note = status.note_for(quoted, [quoted, law], docs, TODAY)
    assert note == (
        "提示：所引《标准化法实施条例》（1990年）早于《标准化法》（2017年），"
        "两者规定不一致的，以后者为准。"
    )
    assert status.note_for(quoted, [quoted, food], docs, TODAY) is None


def test_labels_say_pending_with_the_day_and_superseded_with_the_successor() -> None:
    pending = replace(LAW, date_effective="2027-01-01")
    assert status.describe(pending, TODAY) == "尚未生效，自2027年1月1日起施行"
    replaced = replace(OLD, superseded_by=(LAW.file_name,))
    assert status.describe(replaced, TODAY, [LAW, replaced]) == "已被《标准化法》代替"
    assert status.successor_held(replaced, [LAW, replaced], TODAY)
    outside = replace(OLD, superseded_by=("国务院令第999号",))
    assert status.describe(outside, TODAY, [LAW]) == "已被国务院令第999号代替"
    assert not status.successor_held(outside, [LAW, outside], TODAY)
    named = replace(OLD, date_repealed="2020-01-01")
    by_title = replace(LAW, supersedes=("《中华人民共和国标准化法实施条例》",))
    assert status.successor_held(named, [by_title, named], TODAY)


@pytest.mark.parametrize(
    ("text", "iso"),
    [("2024-07-01", "2024-07-01"), ("2024年7月1日", "2024-07-01"), ("2024/7/1", "2024-07-01")],
)
def test_admin_dates_in_the_usual_forms(text, iso) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"date_effective": "明年"}, "date_effective: '明年' is not a date"),
        ({"date_repealed": "2024-02-30"}, "not a date of the calendar"),
        ({"kind": "poem"}, "kind: 'poem' is not one of"),
        ({"superseded_by": ["0123456789abcdef"]}, "no document with id '0123456789abcdef'"),
        ({"superseded_by": ["新的那个"]}, "is neither a document of the library"),
        ({"source_url": "flk.npc.gov.cn"}, "is not an http(s) address"),
        (
            {"date_effective": "2024-01-01", "date_until": "2023-12-31"},
            "before date_effective",
        ),
    ],
)
def test_bad_values_are_refused_with_what_is_wrong(values, message) -> None:
    with pytest.raises(InvalidDocumentField, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_changes(values, [LAW, OLD])


def test_references_resolve_to_file_names_or_stay_outside_references() -> None:
    changes = check_changes(
        {"superseded_by": [LAW.doc_id, "GB 4806.7-2023"], "date_until": "-"}, [LAW, OLD]
    )
    assert changes == {"superseded_by": (LAW.file_name, "GB 4806.7-2023"), "date_until": None}


def test_ingestion_reads_the_texts_own_period_and_what_it_repeals(tmp_path: Path) -> None:
    assert effective_until("本通知自印发之日起施行，有效期至2025年12月31日。", None) == "2025-12-31"
    assert (
        effective_until("本办法自2021年6月1日起施行，有效期为3年。", "2021-06-01") == "2024-05-31"
    )
    assert effective_until("资质认定证书有效期为6年。", "2021-06-01") is None
    text = "本条例自2003年11月1日起施行。1991年5月7日国务院发布的《中华人民共和国产品质量认证管理条例》同时废止。"
    assert replaced_titles(text) == ("《中华人民共和国产品质量认证管理条例》",)
    table = tmp_path / "STATUS.tsv"
    table.write_text("file\teffective_until\tnote\na.md\t2025-12-31\t\n", encoding="utf-8")
    assert read_status_table(table) == {"a.md": {"effective_until": "2025-12-31"}}


def test_the_shipped_status_table_names_files_of_the_library() -> None:
    library = Path(__file__).resolve().parents[2] / "library"
    rows = read_status_table(library / "STATUS.tsv")
    files = {p.name for p in library.rglob("*") if p.is_file()}
    assert rows and set(rows) <= files
    assert "标准化法" in rows["L09_标准化法实施条例_1990.md"]["note"]


# --- through the desk: admins only, FAQ entries flagged -----------------------------------
ADMIN = UserRef(Channel.CONSOLE, "admin")
EXPERT = UserRef(Channel.TELEGRAM, "2002", display_name="张工")
ASKER = UserRef(Channel.TELEGRAM, "1001", "1001", "王老板")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    clock = FakeClock()
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}", clock=clock)
    store.seed_roles(admins=["console:admin"], experts=["telegram:2002=food"])
    knowledge = FakeKnowledge()
    try:
        yield Desk(knowledge, store, FakeIngest(knowledge), clock=clock)
    finally:
        store.close()


def test_a_status_change_flags_the_faq_entries_resting_on_the_document(desk: Desk) -> None:
    ticket = desk.ask(ASKER, "我们小作坊自己灌装散装白酒卖，需要办哪些许可证？").ticket
    assert ticket is not None
    desk.answer_ticket(EXPERT, ticket.ticket_id, "需要取得食品生产许可证。")
    entry = desk.publish(EXPERT, ticket.ticket_id)
    food = next(d for d in desk.documents(ADMIN) if d.file_name == "L10_食品安全法_2021.md")
    doc, flagged = desk.set_document(ADMIN, food.doc_id, {"checked_on": "2026-06-01"})
    assert doc.checked_on == "2026-06-01" and flagged == []  # not a status field
    doc, flagged = desk.set_document(ADMIN, food.doc_id, {"date_repealed": "2026-01-01"})
    assert flagged == [entry.faq_id]
    (record,) = desk.faq_entries(EXPERT, flagged=True)
    assert record.flag_reason == "status:L10_食品安全法_2021.md"


def test_only_admins_set_fields_and_unknown_ids_are_named(desk: Desk) -> None:
    food = desk.documents(ADMIN)[0]
    with pytest.raises(NotPermitted):
        desk.set_document(ASKER, food.doc_id, {"date_effective": "2020-01-01"})
    with pytest.raises(DocumentNotFound, match="no document with id 'nope'"):
        desk.set_document(ADMIN, "nope", {"date_effective": "2020-01-01"})


def test_the_library_table_fills_only_fields_not_set_yet(desk: Desk, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from app.cli.documents import apply_status_table

    food = next(d for d in desk.documents(ADMIN) if d.file_name == "L10_食品安全法_2021.md")
    desk.set_document(ADMIN, food.doc_id, {"date_until": "2030-12-31"})
    (tmp_path / "STATUS.tsv").write_text(
        "file\teffective_until\tnote\tsuperseded_by\n"
        "L10_食品安全法_2021.md\t2029-01-01\t测试说明\t\n"
        "nope.md\t2029-01-01\t\t\n",
        encoding="utf-8",
    )
    knowledge = desk._knowledge  # the desk's own library
    container = SimpleNamespace(knowledge=knowledge, desk=desk, console_admin=ADMIN)
    assert apply_status_table(container, tmp_path) == 1  # type: ignore[arg-type]
    doc = knowledge.get(food.doc_id)
    assert (doc.date_until, doc.status_note) == ("2030-12-31", "测试说明")
    assert apply_status_table(container, tmp_path) == 0  # type: ignore[arg-type]


def test_a_change_is_audited_with_the_fields_it_moved(desk: Desk) -> None:
    food = next(d for d in desk.documents(ADMIN) if d.file_name == "L10_食品安全法_2021.md")
    desk.set_document(ADMIN, food.doc_id, {"date_repealed": "2026-01-01", "checked_on": ""})
    desk.set_document(ADMIN, food.doc_id, {"date_repealed": "2026-01-01"})  # nothing moves
    with pytest.raises(InvalidDocumentField) as refused:
        desk.set_document(ADMIN, food.doc_id, {"date_effective": "2024-13-45"})
    assert (refused.value.field, refused.value.value, refused.value.reason) == (
        "date_effective",
        "2024-13-45",
        "date",
    )
    audited = [
        (e.action, e.subject, e.detail) for e in desk.audit_log(ADMIN) if e.action == "status"
    ]
    assert audited == [("status", "L10_食品安全法_2021.md", "date_repealed")]


def test_the_console_reads_a_documents_status_and_a_tickets_clauses_as_of_today(
    desk: Desk,
) -> None:
    food = next(d for d in desk.documents(ADMIN) if d.file_name == "L10_食品安全法_2021.md")
    _, label, citing = desk.document_status(ADMIN, food.doc_id)
    assert label == "现行有效" and citing == []
    [entry] = [e for e in desk.library(ADMIN) if e.document.doc_id == food.doc_id]
    assert (entry.status, entry.status_label) == ("in_force", "现行有效")
    clause = Citation(food.file_name, food.title, "第一条", "…", 1.0)
    desk.set_document(ADMIN, food.doc_id, {"superseded_by": ["GB 2760-2024"]})
    [labelled] = desk.current_status(EXPERT, [clause])
    assert (labelled.status, labelled.status_label) == ("superseded", "已被GB 2760-2024代替")
    [entry] = [e for e in desk.library(ADMIN) if e.document.doc_id == food.doc_id]
    assert entry.status == "superseded"
    with pytest.raises(NotPermitted):
        desk.document_status(EXPERT, food.doc_id)
    with pytest.raises(NotPermitted):
        desk.current_status(ASKER, [clause])
