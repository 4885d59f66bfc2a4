"""The web console's admin side in headless Chromium, against ``qadesk serve`` on 127.0.0.1
with the real desk (SQLite, Chroma, the offline e5 model, the ingest pipeline, Telegram on the
stand-in Bot API).

An admin signs in with the link the bot sends, uploads a PDF made here, sees the preview
(title, 文号, passages), confirms it, replaces it with a new version, removes it after the
page listed the FAQ entries citing it; reads the question log and opens a ticket from a row;
views the statistics charts and downloads the CSV; sees people and the audit log. An expert
on an admin page gets 403. Screenshots of every screen go to the test's tmp dir.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.browser import PHONE, Browser, chromium
from tests.fakes.console_server import ConsoleServer, console_server, telegram_ref
from tests.fakes.telegram_harness import tg_user
from tests.fixtures.ingest.builders import make_pdf

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADMIN = tg_user(9001, "管理员")
WANG = tg_user(2001, "王工")
ASKER = tg_user(1001, "老板")
RULES = """# 特种设备定期检验办法

第一条 为了加强特种设备安全管理，制定本办法。

第二条 锅炉、压力容器的使用单位应当在检验合格有效期届满前一个月，向特种设备检验机构提出定期检验要求。
"""
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
AMENDED = [
    *MEASURES[:-1],
    "第三条 计量器具的使用者应当妥善保管检定证书。",
    "第四条 本办法自2023年1月1日起施行。",
]
SCRIPT_QUESTION = "<script>window.pwned=1</script>电子秤要强制检定吗？"


@pytest.fixture
def served(tmp_path: Path, e5_embedder: Any) -> Iterator[ConsoleServer]:
    with console_server(
        tmp_path / "data",
        embedder=e5_embedder,
        admins=["telegram:9001"],
        experts=["telegram:2001"],
    ) as server:
        rules = tmp_path / "特种设备定期检验办法.md"
        rules.write_text(RULES, encoding="utf-8")
        assert server.desk.add_document(telegram_ref(ADMIN), rules).error is None
        yield server


def upload(browser: Browser, path: Path) -> None:
    """Choose the file, preview it, and wait for the preview."""
    browser.find("#upload-file").send_keys(str(path))
    browser.click("#preview-button")
    browser.wait(lambda: browser.all("#upload-result > *"), what="the preview")
    assert browser.all("#upload-preview"), browser.text("#upload-result")


def fetch_text(browser: Browser, url: str) -> tuple[int, str, str]:
    """Status, Content-Disposition and body of a GET made from the page (with its cookies)."""
    found: list[Any] = browser.driver.execute_async_script(
        """
        const [url, done] = arguments;
        fetch(url, {credentials: "same-origin"})
          .then(async r => done([r.status, r.headers.get("content-disposition") || "", await r.text()]))
          .catch(e => done([-1, "", String(e)]));
        """,
        url,
    )
    return int(found[0]), str(found[1]), str(found[2])


def test_an_admin_keeps_the_library_reads_the_log_and_the_statistics(served, tmp_path):
    admin_ref = telegram_ref(ADMIN)
    served.ask(ASKER, "锅炉要定期检验吗？多久之前申请？")
    served.ask(ASKER, SCRIPT_QUESTION)
    served.ask(ASKER, "出口到欧盟的玩具需要做哪些认证？")

    with chromium(tmp_path, name="admin") as browser:
        served.sign_in(browser, ADMIN)
        admin = f"{served.console}/admin"

        # 文档库: upload a PDF, preview, confirm
        browser.open(f"{admin}/library")
        browser.wait_text("特种设备定期检验办法", "#documents")
        browser.screenshot("01-library")
        first = make_pdf(tmp_path / "计量器具监督管理办法.pdf", MEASURES)
        upload(browser, first)
        preview = browser.text("#upload-preview")
        assert "《计量器具监督管理办法》" in browser.text("#preview-title")
        assert browser.text("#preview-number") == "国市监计量〔2022〕12号"
        assert "新增到文档库" in preview and "强制检定" in preview
        assert not any(
            d.file_name.endswith(".pdf") for d in served.desk.documents(telegram_ref(ADMIN))
        )
        browser.screenshot("02-upload-preview")
        browser.click("#confirm-button")
        browser.wait_for("#upload-done")
        assert "已导入《计量器具监督管理办法》" in browser.text("#upload-done")
        browser.wait_text("计量器具监督管理办法.pdf", "#documents")
        browser.screenshot("03-uploaded")
        [stored] = [
            d for d in served.desk.documents(telegram_ref(ADMIN)) if d.file_name.endswith(".pdf")
        ]

        # replace it with a new version
        browser.click(f"#doc-{stored.doc_id} a[href$='/replace']")
        browser.wait_text("替换《计量器具监督管理办法》", "h1")
        newer = make_pdf(tmp_path / "计量器具监督管理办法（修订）.pdf", AMENDED)
        upload(browser, newer)
        assert "将替换现有的《计量器具监督管理办法》" in browser.text("#upload-preview")
        browser.screenshot("04-replace-preview")
        browser.click("#confirm-button")
        browser.wait_for("#upload-done")
        assert "已用新版本替换" in browser.text("#upload-done")
        browser.screenshot("05-replaced")
        [replaced] = [
            d for d in served.desk.documents(telegram_ref(ADMIN)) if d.file_name.endswith(".pdf")
        ]
        assert replaced.file_name == stored.file_name and replaced.doc_id != stored.doc_id
        assert any("妥善保管" in c.text for c in served.container.knowledge.chunks(replaced.doc_id))

        # remove it, after the page lists the FAQ entries citing it
        browser.open(f"{admin}/library")
        browser.click(f"#doc-{replaced.doc_id} a[href$='/remove']")
        browser.wait_for("#citing-faq")
        assert "没有常见问题引用这份文档" in browser.text("#citing-faq")
        browser.screenshot("06-remove-confirm")
        browser.click("#remove-button")
        browser.wait_text("已从文档库删除《计量器具监督管理办法》", "#messages")
        browser.screenshot("07-removed")
        assert not any(
            d.file_name.endswith(".pdf") for d in served.desk.documents(telegram_ref(ADMIN))
        )

        # a file the ingest layer refuses: a Chinese error, nothing stored
        bad = tmp_path / "扫描件.exe"
        bad.write_bytes(b"MZ\x90\x00")
        upload_error = browser.find("#upload-file")
        upload_error.send_keys(str(bad))
        browser.click("#preview-button")
        browser.wait_for("#upload-error")
        assert "暂不支持这种文件格式" in browser.text("#upload-error")
        browser.screenshot("08-upload-refused")

        # 提问记录: the question shows as text; a ticket opened from an answered row
        browser.open(f"{admin}/questions")
        browser.wait_text("共 3 条", ".count")
        assert SCRIPT_QUESTION[:20] in browser.text("main")
        assert browser.script("return window.pwned === undefined") is True
        browser.screenshot("09-question-log")
        answered = [r for r in served.desk.question_log(admin_ref).rows if r.ticket_id is None]
        assert answered, "a question the desk answered itself"
        row = answered[0].interaction_id
        browser.click(f"#open-{row}")
        browser.wait_text("已转专家", f"#ticket-cell-{row}")
        [logged] = [r for r in served.desk.question_log(admin_ref).rows if r.interaction_id == row]
        ticket = served.desk.ticket(admin_ref, logged.ticket_id)
        assert (
            ticket.asker.key == telegram_ref(ASKER).key and ticket.question == answered[0].question
        )
        browser.screenshot("10-ticket-opened")
        browser.open(f"{admin}/questions?outcome=escalated")
        browser.wait_text(f"#{ticket.ticket_id}", "main")

        served.desk.claim(telegram_ref(WANG), ticket.ticket_id)  # for the expert times
        served.desk.answer_ticket(telegram_ref(WANG), ticket.ticket_id, "锅炉需要定期检验。")

        # 统计: charts and the CSV
        browser.open(f"{admin}/stats")
        browser.wait_for("#chart-volume")
        for chart in ("#chart-rates", "#chart-times", "#chart-domains", "#chart-channels"):
            assert browser.find(chart).is_displayed()
        assert "提问" in browser.text("#totals")
        assert "出口到欧盟的玩具" in browser.text("#top-unanswered")
        browser.screenshot("11-stats")
        href = browser.find("#csv-link").get_attribute("href")
        status, disposition, body = fetch_text(browser, href)
        assert status == 200 and "attachment" in disposition and ".csv" in disposition
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
        assert rows[0][:3] == ["section", "key", "questions"]
        total = dict(zip(rows[0], next(r for r in rows if r[0] == "total"), strict=True))
        assert (total["questions"], total["tickets"]) == ("3", "3")
        assert float(total["resolution_p50_s"]) >= 0
        assert len(browser.all("#chart-times rect title")) == 2  # response and resolution

        browser.open(f"{admin}/stats?since=2026-12-02&until=2026-11-01")
        browser.wait_text("统计时间段无效", "main")

        # 人员 and 审计日志
        browser.open(f"{admin}/people")
        browser.wait_text("telegram:2001", "main")
        browser.fill("#person-key", "telegram:3003")
        browser.click("input[name=domains][value=food]")
        browser.click("#save-person")
        browser.wait_text("已将 telegram:3003 设为专家", "#messages")
        assert "食品" in browser.text("main")
        browser.screenshot("12-people")
        newcomer = next(p for p in served.desk.experts(admin_ref) if p.user.key == "telegram:3003")
        assert [d.value for d in newcomer.domains] == ["food"]
        browser.open(f"{admin}/audit")
        browser.wait_text("上传文档", "main")
        for action in ("替换文档", "删除文档", "转专家", "变更身份"):
            assert action in browser.text("main")
        browser.screenshot("13-audit")

        browser.resize(PHONE)
        browser.open(f"{admin}/library")
        browser.wait_for("#documents")
        browser.screenshot("14-library-phone")
        browser.open(f"{admin}/stats")
        browser.wait_for("#chart-volume")
        browser.screenshot("15-stats-phone")
        browser.open(f"{admin}/questions")
        browser.wait_for(f"#q-{row}")
        browser.screenshot("16-questions-phone")

    actions = [(e.action, e.subject) for e in served.desk.audit_log(admin_ref)]
    assert ("upload", stored.file_name) in actions
    assert ("replace", stored.file_name) in actions
    assert ("remove", stored.file_name) in actions
    assert ("escalate", f"ticket {ticket.ticket_id}") in actions


def test_an_expert_on_an_admin_page_gets_403(served, tmp_path):
    with chromium(tmp_path, name="wang") as browser:
        browser.open(f"{served.console}/admin/stats")  # no session yet: the sign-in page
        browser.wait_url("/console/login")
        assert "next=/console/admin/stats" in browser.url
        served.sign_in(browser, WANG)
        assert "文档库" not in browser.text("header nav")
        browser.open(f"{served.console}/admin/library")
        browser.wait_text("没有权限", "main")
        browser.screenshot("20-expert-403")
        for path in ("library", "questions", "stats", "stats.csv", "people", "audit"):
            status, _, _ = fetch_text(browser, f"{served.console}/admin/{path}")
            assert status == 403, path
        token = browser.find("body").get_attribute("hx-headers")
        assert token and "X-CSRF-Token" in token
        csrf = token.split('"X-CSRF-Token": "')[1].split('"')[0]
        status = browser.fetch(
            "POST",
            f"{served.console}/admin/people",
            "key=telegram%3A2001&role=admin",
            {"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf},
        )
        assert status == 403
    assert served.desk.role_of(telegram_ref(WANG)).value == "expert"
