"""Admins adding documents by sending them, through getFile on the stand-in Bot API."""

from __future__ import annotations

from pathlib import Path

import pytest

import prompts
from core.people import Channel, Role, UserRef
from desk.api import IngestOutcome
from tests.fakes.desk import FakeDesk
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import (
    Telegram,
    make_docx,
    make_pdf,
    no_proxy,
    running_bot,
    tg_user,
)

pytestmark = pytest.mark.e2e

ADMIN = tg_user(9001, "管理员")
ASKER = tg_user(1001, "老板")
LIMIT = 5 * 1024 * 1024

PDF = make_pdf(["关于加强电动自行车充电器质量监管的通知", "市监质发〔2025〕12号", "一、总体要求",
                "充电器生产企业应当在产品出厂前逐批进行绝缘电阻检测。"])  # fmt: skip
DOCX = make_docx(
    "计量器具使用指引", ["第一条 用于贸易结算的电子秤应当定期检定。", "第二条 未经检定不得使用。"]
)


@pytest.fixture
async def api():
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


@pytest.fixture
def desk() -> FakeDesk:
    return FakeDesk(roles={"telegram:9001": Role.ADMIN})


async def test_admin_sends_a_real_pdf_and_docx_and_hears_what_was_learned(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk, max_file_bytes=LIMIT):
        await tg.document(ADMIN, PDF, "充电器通知.pdf")
        pdf_reply = await api.wait_message(9001, "已加入知识库：《充电器通知.pdf》")
        await tg.document(ADMIN, DOCX, "计量指引.docx")
        docx_reply = await api.wait_message(9001, "已加入知识库：《计量指引.docx》")
    assert desk.documents_added == [("充电器通知.pdf", PDF), ("计量指引.docx", DOCX)]
    assert len(api.called("getFile")) == 2 and len(api.downloads) == 2
    assert "共 1 个章节，1 个检索片段" in pdf_reply.plain and "文号：未识别" in pdf_reply.plain
    assert docx_reply.reply_to is not None
    assert api.find(9001, "收到文件《充电器通知.pdf》，正在读取")


async def test_what_the_desk_learned_names_title_doc_number_and_sections(api):
    class Learning(FakeDesk):
        def add_document(
            self, admin: UserRef, path: Path, file_name: str | None = None
        ) -> IngestOutcome:
            outcome = super().add_document(admin, path, file_name)
            assert outcome.document is not None
            from dataclasses import replace

            document = replace(outcome.document, title="关于加强电动自行车充电器质量监管的通知",
                               doc_number="市监质发〔2025〕12号")  # fmt: skip
            return replace(outcome, document=document, sections=3, chunks=9)

    desk = Learning(roles={"telegram:9001": Role.ADMIN})
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.document(ADMIN, PDF, "通知.pdf")
        reply = await api.wait_message(9001, "已加入知识库")
    assert "《关于加强电动自行车充电器质量监管的通知》" in reply.plain
    assert (
        "文号：市监质发〔2025〕12号" in reply.plain and "共 3 个章节，9 个检索片段" in reply.plain
    )


async def test_oversized_document_is_refused_before_anything_is_downloaded(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk, max_file_bytes=LIMIT):
        await tg.document(ADMIN, b"%PDF-1.4 tiny", "大文件.pdf", declared_size=LIMIT + 1)
        reply = await api.wait_message(9001, "超过了 5.0 MB 的上限")
    assert api.called("getFile") == [] and api.downloads == [] and desk.documents_added == []
    assert reply.reply_to is not None


async def test_file_bigger_than_announced_is_caught_at_get_file(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk, max_file_bytes=LIMIT):
        await tg.document(ADMIN, b"x" * (LIMIT + 10), "谎报.txt", declared_size=100)
        await api.wait_message(9001, "超过了 5.0 MB 的上限")
    assert len(api.called("getFile")) == 1 and api.downloads == [] and desk.documents_added == []


async def test_unsupported_format_is_refused_and_says_which_formats_work(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.document(ADMIN, b"MZ\x90\x00", "工具.exe")
        reply = await api.wait_message(9001, "未能加入《工具.exe》")
    assert prompts.error_text("unsupported_format") in reply.plain
    assert api.called("getFile") == [] and desk.documents_added == []


async def test_refusal_by_the_desk_says_exactly_why(api):
    class Refusing(FakeDesk):
        def add_document(
            self, admin: UserRef, path: Path, file_name: str | None = None
        ) -> IngestOutcome:
            return IngestOutcome(
                file_name or path.name,
                error="no text layer on 3 pages",
                error_code="empty_document",
            )

    desk = Refusing(roles={"telegram:9001": Role.ADMIN})
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.document(ADMIN, make_pdf([""]), "扫描件.pdf")
        reply = await api.wait_message(9001, "未能加入《扫描件.pdf》")
    assert prompts.error_text("empty_document") in reply.plain
    assert "详情：no text layer on 3 pages" in reply.plain


async def test_download_failing_on_the_network_is_retried(api, desk):
    api.fail("download", 502)
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.document(ADMIN, DOCX, "指引.docx")
        await api.wait_message(9001, "已加入知识库")
    assert len(api.failed_downloads) == 1 and len(api.downloads) == 1
    assert desk.documents_added == [("指引.docx", DOCX)]


async def test_file_names_cannot_escape_the_download_folder(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.document(ADMIN, b"# title\n\ntext", "../../etc/通知 <1>.md")
        await api.wait_message(9001, "已加入知识库")
    [(name, data)] = desk.documents_added
    assert name == "通知_1_.md" and data == b"# title\n\ntext"


async def test_non_admins_are_told_politely_and_nothing_is_fetched(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.document(ASKER, PDF, "我的资料.pdf")
        await api.wait_message(1001, prompts.text("telegram.unsupported.document_not_admin"))
        await tg.text(ASKER, "/docs")
        await api.wait_message(1001, prompts.text("telegram.admin.only_admins"))
        await tg.text(ASKER, "/remove d1")
        await api.wait_message(1001, prompts.error_text("not_permitted"))
    assert api.called("getFile") == [] and desk.documents_added == []


async def test_docs_lists_the_library_and_remove_takes_a_document_out(api, desk):
    tg = Telegram(api)
    async with running_bot(api, desk):
        await tg.text(ADMIN, "/docs")
        await api.wait_message(9001, prompts.text("telegram.admin.docs_empty"))
        await tg.document(ADMIN, PDF, "通知<一>.pdf")
        await api.wait_message(9001, "已加入知识库")
        await tg.text(ADMIN, "/docs")
        listing = await api.wait_message(9001, "知识库文件（共 1 份）")
        assert "d1｜通知_一_.pdf｜—" in listing.plain
        await tg.text(ADMIN, "/remove")
        await api.wait_message(9001, "用法：/remove")
        await tg.text(ADMIN, "/remove d1")
        await api.wait_message(9001, "已从知识库删除：《通知_一_.pdf》")
    assert desk.documents(UserRef(Channel.TELEGRAM, "9001")) == []
