"""Handing tickets around in headless Chromium against ``qadesk serve`` (real desk, a
deterministic embedder): an expert releases a ticket back to the queue, an admin reassigns it to
another expert, private notes stay on the ticket, the queue's filters narrow it down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import Select

from tests.fakes.browser import chromium
from tests.fakes.console_server import ConsoleServer, console_server, telegram_ref
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.telegram_harness import tg_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ASKER = tg_user(1001, "老板")
WANG = tg_user(2001, "王工")
LI = tg_user(2002, "李工")
ADMIN = tg_user(9001, "管理员")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ConsoleServer]:
    with console_server(
        tmp_path / "data",
        embedder=FakeEmbedder(),
        admins=["telegram:9001"],
        experts=["telegram:2001", "telegram:2002"],
    ) as server:
        yield server


def test_release_reassign_notes_and_filters(served, tmp_path):
    served.ask(ASKER, "我们的情况特殊，电子秤要不要送检？请专家看看")
    [ticket] = served.desk.my_tickets(telegram_ref(ASKER))
    tid = ticket.ticket_id
    served.login_link(LI)  # 李工 becomes known to the desk by name
    with chromium(tmp_path, name="wang") as wang, chromium(tmp_path, name="admin") as admin:
        wang.open(served.login_link(WANG))
        wang.click("#login-button")
        wang.click(f"#claim-{tid}")
        wang.wait_url(f"/tickets/{tid}")
        wang.fill("#note-text", "先确认是否用于贸易结算 <b>重要</b>")
        wang.click("#add-note")
        wang.wait_text("先确认是否用于贸易结算 <b>重要</b>", "#notes")
        wang.click("#release")
        wang.wait_url("/console/queue")
        wang.wait_for(f"#claim-{tid}")  # open again

        admin.open(served.login_link(ADMIN))
        admin.click("#login-button")
        admin.wait_url("/console/queue")  # signed in before the next page is asked for
        admin.open(f"{served.console}/tickets/{tid}")
        Select(admin.wait_for("select[name=to]")).select_by_value("telegram:2002")
        admin.click("form[hx-post$='/reassign'] button")
        admin.wait_text("李工", "dl.facts")
        assert "先确认是否用于贸易结算" in admin.text("#notes")  # notes stay with the ticket
        admin.screenshot("01-admin-reassigned")
        assert served.desk.ticket(telegram_ref(ADMIN), tid).claimed_by == "telegram:2002"

        admin.open(f"{served.console}/queue?status=claimed")
        admin.wait_text("已认领 · 李工", f"#ticket-{tid}")
        admin.open(f"{served.console}/queue?status=open")
        admin.wait_text("共 0 个工单", "#queue-rows")
        admin.open(f"{served.console}/queue?channel=wechat")
        admin.wait_text("共 0 个工单", "#queue-rows")
        admin.screenshot("02-queue-filtered")
    actions = [e.action for e in served.desk.audit_log(telegram_ref(ADMIN))]
    assert {"claim", "release", "reassign"} <= set(actions)
