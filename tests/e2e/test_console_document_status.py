"""A document's status on the console's library page, in headless Chromium against
``qadesk serve`` with the real desk (SQLite, Chroma, the offline e5 model, Telegram on the
stand-in Bot API).

An admin sees each document's status (现行有效, …) with its dates, refuses a bad date in Chinese
with nothing changed, marks a document superseded by a newer one of the library (the same
desk call as ``qadesk docs set``), sees the new status and the FAQ entry resting on it listed
as flagged; the entry waits in FAQ 审核, the change is in the audit log, and the ticket page's
clauses and the reply editor's inserted clause carry the document's status as of today. The
question log shows a follow-up with its completed question and a clarifying round as such. Screenshots go to the test's tmp dir.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.browser import chromium
from tests.fakes.console_server import ConsoleServer, console_server, telegram_ref
from tests.fakes.telegram_harness import tg_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADMIN = tg_user(9001, "管理员")
WANG = tg_user(2001, "王工")
ASKER = tg_user(1001, "老板")
OLD = "特种设备定期检验办法.md"
NEW = "特种设备定期检验规则.md"
OLD_TEXT = """# 特种设备定期检验办法

第一条 为了加强特种设备安全管理，制定本办法。

第二条 锅炉、压力容器的使用单位应当在检验合格有效期届满前一个月，向特种设备检验机构提出定期检验要求。
"""
NEW_TEXT = """# 特种设备定期检验规则

第一条 为了规范特种设备定期检验工作，制定本规则。

第二条 电梯的使用单位应当每年对电梯进行一次定期检验，检验合格后方可继续使用。
"""


@pytest.fixture
def served(tmp_path: Path, e5_embedder: Any) -> Iterator[ConsoleServer]:
    with console_server(
        tmp_path / "data",
        embedder=e5_embedder,
        admins=["telegram:9001"],
        experts=["telegram:2001"],
    ) as server:
        for name, text in ((OLD, OLD_TEXT), (NEW, NEW_TEXT)):
            path = tmp_path / name
            path.write_text(text, encoding="utf-8")
            assert server.desk.add_document(telegram_ref(ADMIN), path).error is None
        yield server


def document(server: ConsoleServer, file_name: str) -> Any:
    admin = telegram_ref(ADMIN)
    return next(d for d in server.desk.documents(admin) if d.file_name == file_name)


def test_an_admin_marks_a_document_superseded_on_the_library_page(served, tmp_path):
    admin_ref, wang = telegram_ref(ADMIN), telegram_ref(WANG)
    served.ask(ASKER, "锅炉要定期检验吗？多久之前申请？")
    [logged] = served.desk.question_log(admin_ref).rows
    ticket = served.desk.open_ticket_for(admin_ref, logged.interaction_id)
    assert any(c.document == OLD for c in ticket.passages)
    served.desk.claim(wang, ticket.ticket_id)
    served.desk.answer_ticket(wang, ticket.ticket_id, "锅炉需要定期检验，应提前一个月申请。")
    entry = served.desk.publish(wang, ticket.ticket_id)
    old = document(served, OLD)
    assert [f.entry.faq_id for f in served.desk.removal(admin_ref, old.doc_id)[1]] == [entry.faq_id]

    with chromium(tmp_path, name="admin") as browser:
        served.sign_in(browser, ADMIN)
        admin = f"{served.console}/admin"
        browser.open(f"{admin}/library")
        browser.wait_text("现行有效", f"#doc-{old.doc_id} .doc-status")
        browser.screenshot("01-library-in-force")

        # a bad date: refused in Chinese, nothing changed
        browser.click(f"#doc-{old.doc_id} a[href$='/status']")
        browser.wait_text("《特种设备定期检验办法》的效力状态", "h1")
        browser.fill("input[name=effective_from]", "2024-13-45")
        browser.fill("textarea[name=superseded_by]", NEW)
        browser.click("#save-status")
        error = browser.wait_text("不是有效日期", "#status-error")
        assert "施行日期" in error and "2024-13-45" in error and "没有做任何修改" in error
        assert browser.find("input[name=effective_from]").get_attribute("value") == "2024-13-45"
        browser.screenshot("02-bad-date-refused")
        unchanged = document(served, OLD)
        assert unchanged.date_effective == old.date_effective and not unchanged.superseded_by
        assert not served.desk.faq_entries(wang, flagged=True)

        # superseded by the newer document of the library
        browser.fill("input[name=effective_from]", "2019-06-01")
        browser.click("#save-status")
        browser.wait_text("已更新《特种设备定期检验办法》的效力信息", "#messages")
        assert "1 条常见问题已标记待审核" in browser.text("#messages")
        assert "已被《特种设备定期检验规则》代替" in browser.text("#doc-status")
        assert "锅炉要定期检验吗" in browser.text("#flagged")
        browser.screenshot("03-superseded")
        changed = document(served, OLD)
        assert changed.superseded_by == (NEW,) and changed.date_effective == "2019-06-01"

        browser.open(f"{admin}/library")
        row = browser.wait_text(
            "已被《特种设备定期检验规则》代替", f"#doc-{old.doc_id} .doc-status"
        )
        assert "施行 2019-06-01" in row
        assert "现行有效" in browser.text(f"#doc-{document(served, NEW).doc_id} .doc-status")
        browser.screenshot("04-library-superseded")

        # FAQ 审核 lists the entry resting on it
        browser.open(f"{served.console}/faq")
        browser.wait_text("来源文件的效力状态已变更", f"#faq-{entry.faq_id}")
        browser.screenshot("05-faq-review")

        # the audit log records the change
        browser.open(f"{admin}/audit")
        audit = browser.wait_text("修改效力信息", "main")
        assert OLD in audit and "superseded_by" in audit
        browser.screenshot("06-audit")

        # the ticket's clauses carry the status as of today
        browser.open(f"{served.console}/tickets/{ticket.ticket_id}")
        clauses = browser.wait_text("已被《特种设备定期检验规则》代替", "#clauses")
        assert "特种设备定期检验办法" in clauses
        browser.screenshot("07-ticket-clauses")

        # the reply editor's search and inserted clause carry it too
        other = tg_user(1002, "李总")
        served.ask(other, "压力容器的使用单位什么时候提出定期检验？")
        [asked] = [
            r
            for r in served.desk.question_log(admin_ref).rows
            if r.user_key == telegram_ref(other).key
        ]
        second = served.desk.open_ticket_for(admin_ref, asked.interaction_id)
        served.desk.claim(admin_ref, second.ticket_id)
        browser.open(f"{served.console}/tickets/{second.ticket_id}")
        browser.fill("#search-q", "使用单位在检验合格有效期届满前一个月提出定期检验要求")
        browser.click("#search")
        browser.wait_text("已被《特种设备定期检验规则》代替", "#results")
        browser.script(
            """
            const item = [...document.querySelectorAll("#results li")]
              .find(li => li.textContent.includes("特种设备定期检验办法"));
            item.querySelector("button.insert").click();
            """
        )
        inserted = browser.wait(
            lambda: (browser.find("#reply-text").get_property("value") or "").strip() or None,
            what="a clause in the reply",
        )
        assert "《特种设备定期检验办法》" in inserted
        assert "（已被《特种设备定期检验规则》代替）规定：“" in inserted
        browser.screenshot("08-reply-editor-clause")

    [(subject, detail)] = [
        (e.subject, e.detail)
        for e in served.desk.audit_log(admin_ref, None, None, 50)
        if e.action == "status"
    ]
    assert subject == OLD and detail == "date_effective,superseded_by; 1 faq flagged"


def test_the_question_log_shows_a_follow_up_as_completed_and_a_clarifying_round(served, tmp_path):
    served.ask(ASKER, "店里的电子秤要强制检定吗")
    served.ask(ASKER, "那加油机呢")
    served.ask(WANG, "想办个证，怎么弄")
    rows = served.desk.question_log(telegram_ref(ADMIN)).rows
    [follow_up] = [r for r in rows if r.typed]
    assert follow_up.typed == "那加油机呢" and follow_up.question == "店里的加油机要强制检定吗"
    [vague] = [r for r in rows if r.decision == "clarify"]

    with chromium(tmp_path, name="admin") as browser:
        served.sign_in(browser, ADMIN)
        log = f"{served.console}/admin/questions"
        browser.open(log)
        row = browser.wait_text(
            "您问的是：店里的加油机要强制检定吗", f"#q-{follow_up.interaction_id}"
        )
        assert "那加油机呢" in row
        assert "追问澄清" in browser.text(f"#q-{vague.interaction_id}")
        browser.screenshot("10-question-log-conversation")

        browser.open(f"{log}?outcome=clarify")
        browser.wait_text("共 1 条", ".count")
        assert browser.all(f"#q-{vague.interaction_id}")
        browser.open(f"{log}?outcome=follow_up")
        browser.wait_text("共 1 条", ".count")
        assert browser.all(f"#q-{follow_up.interaction_id}")
        browser.screenshot("11-question-log-follow-ups")
