"""Keeping the library from the admin console: a preview of what ingestion will learn, then
confirm; replace; remove after listing the FAQ entries citing the document; bad files refused
with the ingest layer's codes and nothing written; admins only; every change audited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.documents import DocumentKind
from core.errors import DocumentNotFound, EmptyDocument, NotPermitted, UnsupportedFormat
from core.people import Channel, UserRef
from desk.library_admin import PreviewOutdated, file_hash
from desk.service import Desk
from escalation.store import EscalationStore
from ingest.pipeline import IngestPipeline
from tests.fakes.clock import FakeClock
from tests.fakes.knowledge import FakeKnowledge
from tests.fixtures.ingest.builders import make_pdf

ADMIN = UserRef(Channel.CONSOLE, "admin", display_name="管理员")
EXPERT = UserRef(Channel.TELEGRAM, "2002", display_name="张工")
ASKER = UserRef(Channel.TELEGRAM, "1001", "1001", "王老板")

MEASURES = [
    "国家市场监督管理总局文件",
    "国市监计量〔2022〕12号",
    "计量器具监督管理办法",
    "第一章 总则",
    "第一条 为了加强计量监督管理，提高计量器具的准确性，保障贸易结算公正，根据有关法律法规，",
    "制定本办法。",
    "第二条 用于贸易结算的电子秤应当依法强制检定，未经检定或者检定不合格的不得使用。",
    "第三条 本办法自2022年6月1日起施行。",
]


@dataclass
class Rig:
    desk: Desk
    store: EscalationStore
    knowledge: FakeKnowledge
    tmp: Path


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    clock = FakeClock()
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}", clock=clock)
    store.seed_roles(admins=[ADMIN.key], experts=[f"{EXPERT.key}=metrology"])
    knowledge = FakeKnowledge()
    desk = Desk(knowledge, store, IngestPipeline(knowledge), clock=clock)
    try:
        yield Rig(desk, store, knowledge, tmp_path)
    finally:
        store.close()


def upload(rig: Rig, lines: list[str], name: str = "upload-1.bin") -> Path:
    """The file as the console saves an upload: under a temporary name of its own."""
    return make_pdf(rig.tmp / name, lines)


def file_names(rig: Rig) -> list[str]:
    return [d.file_name for d in rig.knowledge.documents()]


def test_the_preview_shows_what_the_desk_will_learn_and_stores_nothing(rig: Rig) -> None:
    before = file_names(rig)
    path = upload(rig, MEASURES)
    preview = rig.desk.preview_upload(ADMIN, path, "计量器具监督管理办法.pdf")
    doc = preview.document
    assert (doc.title, doc.doc_number, doc.file_name) == (
        "计量器具监督管理办法",
        "国市监计量〔2022〕12号",
        "计量器具监督管理办法.pdf",
    )
    assert doc.kind is not DocumentKind.FAQ
    assert preview.chunk_count >= 1 and preview.first_chunks
    assert "强制检定" in " ".join(c.text for c in preview.first_chunks)
    assert preview.replaces is None and not preview.unchanged
    assert preview.content_hash == file_hash(path)
    assert file_names(rig) == before
    assert rig.desk.audit_log(ADMIN) == []


def test_confirming_stores_the_previewed_file_and_audits_it(rig: Rig) -> None:
    path = upload(rig, MEASURES)
    preview = rig.desk.preview_upload(ADMIN, path, "办法.pdf")
    outcome = rig.desk.confirm_upload(ADMIN, path, "办法.pdf", preview.content_hash)
    assert outcome.error is None and outcome.document is not None
    assert outcome.chunks == preview.chunk_count
    assert "办法.pdf" in file_names(rig)
    listed = {e.document.file_name: e for e in rig.desk.library(ADMIN)}
    assert listed["办法.pdf"].chunks >= 1 and listed["办法.pdf"].citing_faq == 0
    entry = rig.desk.audit_log(ADMIN)[0]
    assert (entry.action, entry.subject) == ("upload", "办法.pdf")
    assert "管理员" in entry.actor
    again = rig.desk.preview_upload(ADMIN, path, "办法.pdf")
    assert again.unchanged and again.replaces is None


def test_a_file_changed_after_its_preview_is_not_stored(rig: Rig) -> None:
    path = upload(rig, MEASURES)
    preview = rig.desk.preview_upload(ADMIN, path, "办法.pdf")
    make_pdf(path, [*MEASURES, "第四条 另有规定的，从其规定。"])
    with pytest.raises(PreviewOutdated):
        rig.desk.confirm_upload(ADMIN, path, "办法.pdf", preview.content_hash)
    assert "办法.pdf" not in file_names(rig)


def test_bad_files_are_refused_with_the_ingest_layers_codes_and_nothing_written(rig: Rig) -> None:
    before = file_names(rig)
    exe = rig.tmp / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00")
    with pytest.raises(UnsupportedFormat) as unsupported:
        rig.desk.preview_upload(ADMIN, exe, "tool.exe")
    assert unsupported.value.code == "unsupported_format"
    blank = rig.tmp / "blank.txt"
    blank.write_text("   \n", encoding="utf-8")
    with pytest.raises(EmptyDocument):
        rig.desk.preview_upload(ADMIN, blank, "blank.txt")
    refused = rig.desk.confirm_upload(ADMIN, blank, "blank.txt", file_hash(blank))
    assert refused.error_code == "empty_document" and refused.document is None
    assert file_names(rig) == before
    assert rig.desk.audit_log(ADMIN) == []


def test_replacing_with_a_file_of_the_same_type_keeps_the_documents_name(rig: Rig) -> None:
    first = upload(rig, MEASURES)
    stored = rig.desk.confirm_upload(ADMIN, first, "办法.pdf", file_hash(first)).document
    assert stored is not None
    newer = upload(rig, [*MEASURES, "第四条 另有规定的，从其规定。"], "upload-2.bin")
    preview = rig.desk.preview_upload(ADMIN, newer, "新版本.pdf", replacing=stored.doc_id)
    assert preview.document.file_name == "办法.pdf"
    assert preview.replaces is not None and preview.replaces.doc_id == stored.doc_id
    outcome = rig.desk.confirm_upload(
        ADMIN, newer, "新版本.pdf", preview.content_hash, replacing=stored.doc_id
    )
    assert outcome.replaced is not None and outcome.replaced.doc_id == stored.doc_id
    assert file_names(rig).count("办法.pdf") == 1 and "新版本.pdf" not in file_names(rig)
    assert rig.knowledge.get(stored.doc_id) is None
    assert rig.desk.audit_log(ADMIN)[0].action == "replace"


def test_replacing_with_a_file_of_another_type_stores_it_then_removes_the_old_one(rig: Rig) -> None:
    first = upload(rig, MEASURES)
    stored = rig.desk.confirm_upload(ADMIN, first, "办法.pdf", file_hash(first)).document
    assert stored is not None
    text = rig.tmp / "upload-3.bin"
    text.write_text("\n".join(MEASURES), encoding="utf-8")
    preview = rig.desk.preview_upload(ADMIN, text, "办法.txt", replacing=stored.doc_id)
    assert preview.document.file_name == "办法.txt"
    rig.desk.confirm_upload(ADMIN, text, "办法.txt", preview.content_hash, replacing=stored.doc_id)
    assert "办法.txt" in file_names(rig) and "办法.pdf" not in file_names(rig)


def test_removal_lists_the_faq_entries_citing_the_document_first(rig: Rig) -> None:
    food = rig.knowledge.find_by_file("L10_食品安全法_2021.md")
    assert food is not None
    ticket = rig.desk.ask(ASKER, "我们小作坊自己灌装散装白酒卖，需要办哪些许可证？").ticket
    assert ticket is not None
    rig.desk.answer_ticket(ADMIN, ticket.ticket_id, "需要取得食品生产许可证。", publish=True)
    document, citing = rig.desk.removal(ADMIN, food.doc_id)
    assert document.file_name == food.file_name
    assert [r.entry.ticket_id for r in citing] == [ticket.ticket_id]
    assert {e.document.file_name: e.citing_faq for e in rig.desk.library(ADMIN)}[
        food.file_name
    ] == 1
    removed = rig.desk.remove_from_library(ADMIN, food.doc_id)
    assert removed.doc_id == food.doc_id and food.file_name not in file_names(rig)
    flagged = rig.desk.faq_entries(ADMIN, flagged=True)
    assert [r.entry.faq_id for r in flagged] == [citing[0].entry.faq_id]
    entry = rig.desk.audit_log(ADMIN)[0]
    assert (entry.action, entry.subject) == ("remove", food.file_name)
    with pytest.raises(DocumentNotFound):
        rig.desk.removal(ADMIN, food.doc_id)


def test_experts_and_askers_may_not_keep_the_library(rig: Rig) -> None:
    path = upload(rig, MEASURES)
    doc = rig.knowledge.documents()[0]
    for who in (EXPERT, ASKER):
        with pytest.raises(NotPermitted):
            rig.desk.library(who)
        with pytest.raises(NotPermitted):
            rig.desk.preview_upload(who, path, "办法.pdf")
        with pytest.raises(NotPermitted):
            rig.desk.confirm_upload(who, path, "办法.pdf", file_hash(path))
        with pytest.raises(NotPermitted):
            rig.desk.removal(who, doc.doc_id)
        with pytest.raises(NotPermitted):
            rig.desk.remove_from_library(who, doc.doc_id)
    assert "办法.pdf" not in file_names(rig) and doc.file_name in file_names(rig)
