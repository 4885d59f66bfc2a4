"""What the console refuses, in headless Chromium against ``qadesk serve`` with the real desk
(SQLite, Chroma; a deterministic embedder): no session → the sign-in page; an expert on an admin
page → 403; a state-changing request without the CSRF token → 403; an expired or reused login
link → refused; someone who is not staff gets no link; ``<script>`` in a question is shown as
text, never run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.ports import SystemClock
from desk.console_access import login_token
from tests.fakes.browser import chromium
from tests.fakes.console_server import SECRET, ConsoleServer, console_server, telegram_ref
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.telegram_harness import tg_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ASKER = tg_user(1001, "老板")
WANG = tg_user(2001, "王工")
SCRIPTED = (
    '<script>window.hacked = 1</script><img src=x onerror="window.hacked = 2">我家锅炉要年检吗？'
)


class PastClock(SystemClock):
    def __init__(self, ago: timedelta) -> None:
        self.ago = ago

    def now(self):  # type: ignore[no-untyped-def]
        return super().now() - self.ago


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ConsoleServer]:
    with console_server(
        tmp_path / "data",
        embedder=FakeEmbedder(),
        admins=["telegram:9001"],
        experts=["telegram:2001"],
    ) as server:
        yield server


def test_the_console_refuses_what_it_must(served, tmp_path):
    console = served.console
    with chromium(tmp_path) as browser:
        browser.open(f"{console}/queue")  # no session
        browser.wait_url("/console/login")
        assert "获取登录链接" in browser.text("main")
        browser.screenshot("01-login-without-session")

        expired = login_token(SECRET, "telegram:2001", PastClock(timedelta(minutes=11)))
        browser.open(f"{console}/login?token={expired}")
        browser.click("#login-button")
        browser.wait_text("已过期", "#login-error")
        browser.screenshot("02-login-link-expired")

        forged = login_token(
            "another-secret-of-the-same-length-000000", "telegram:9001", SystemClock()
        )
        browser.open(f"{console}/login?token={forged}")
        browser.click("#login-button")
        browser.wait_text("无效", "#login-error")

        assert "只对专家和管理员开放" in served.ask(ASKER, "/console")  # an asker gets no link

        link = served.login_link(WANG)
        browser.open(link)
        browser.click("#login-button")
        browser.wait_url("/console/queue")
        browser.open(link)  # once only
        browser.click("#login-button")
        browser.wait_text("已经用过", "#login-error")
        browser.screenshot("03-login-link-reused")

        browser.open(f"{console}/queue")  # still signed in by the first use
        browser.wait_text("王工", "header")
        served.ask(ASKER, SCRIPTED)
        [ticket] = served.desk.my_tickets(telegram_ref(ASKER))
        browser.wait_for(f"#ticket-{ticket.ticket_id}")
        assert "<script>" in browser.text(f"#ticket-{ticket.ticket_id}")
        browser.open(f"{console}/tickets/{ticket.ticket_id}")
        shown = browser.wait_text("<script>", "#question")
        assert "onerror" in shown
        assert browser.script("return window.hacked === undefined") is True
        browser.screenshot("04-script-shown-as-text")

        claim = f"{console}/tickets/{ticket.ticket_id}/claim"
        assert browser.fetch("POST", claim) == 403  # no CSRF token
        assert browser.fetch("POST", claim, "csrf_token=0123abcd") == 403
        wrong = {"X-CSRF-Token": "0" * 64, "Content-Type": "application/x-www-form-urlencoded"}
        assert browser.fetch("POST", claim, headers=wrong) == 403
        assert served.desk.ticket(telegram_ref(WANG), ticket.ticket_id).claimed_by is None
        token = browser.script(
            "return JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']"
        )
        right = {"X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencoded"}
        assert browser.fetch("POST", claim, headers=right) != 403  # a redirect to the ticket
        assert (
            served.desk.ticket(telegram_ref(WANG), ticket.ticket_id).claimed_by == "telegram:2001"
        )

        browser.open(f"{console}/admin/people")  # an expert on an admin page
        browser.wait_text("没有权限", "main")
        assert browser.fetch("GET", f"{console}/admin/people") == 403
        browser.screenshot("05-expert-on-admin-page")

        browser.open(f"{console}/tickets/999999")
        browser.wait_text("没有找到", "main")
        browser.screenshot("06-ticket-not-found")


ADMIN = tg_user(9001, "管理员")


def test_an_admin_sets_a_password_and_signs_in_with_it(served, tmp_path):
    console = served.console
    with chromium(tmp_path) as browser:
        browser.open(served.login_link(ADMIN))
        browser.click("#login-button")
        browser.wait_url("/console/queue")
        browser.click("#account")
        browser.wait_for("#new-password")
        browser.fill("#new-password", "短密码")
        browser.fill("#again-password", "短密码")
        browser.script("document.getElementById('new-password').removeAttribute('minlength')")
        browser.click("#set-password")
        browser.wait_text("至少需要", "#messages")
        browser.fill("#new-password", "质量第一 correct horse")
        browser.fill("#again-password", "质量第一 correct horse")
        browser.click("#set-password")
        browser.wait_text("密码已设置", "#messages")
        browser.screenshot("07-account-password-set")
        browser.click("header .who button")  # 退出
        browser.wait_url("/console/login")

        browser.click("details summary")
        browser.fill("input[name=user]", "telegram:9001")
        browser.fill("input[name=password]", "wrong password!!")
        browser.click("form[action$='/login/password'] button")
        browser.wait_text("账号或密码不正确", "#login-error")
        browser.click("details summary")
        browser.fill("input[name=user]", "telegram:9001")
        browser.fill("input[name=password]", "质量第一 correct horse")
        browser.click("form[action$='/login/password'] button")
        browser.wait_url("/console/queue")
        browser.wait_text("管理员", "header")
        browser.open(f"{console}/account")
        assert "telegram:9001" in browser.text("main")
    actions = [(e.action, e.detail) for e in served.desk.audit_log(telegram_ref(ADMIN))]
    assert ("password", "") in actions and ("login", "password") in actions
