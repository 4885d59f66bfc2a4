"""Two ``qadesk serve`` workers on one PostgreSQL database, in headless Chromium: nothing about
the console lives in a worker's memory. A link from one worker's bot signs in on the other and is
then spent for both; the session cookie one worker signed is good on the other; a ticket asked on
one is claimed on the other and the first sees who has it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.browser import chromium
from tests.fakes.console_server import console_server, telegram_ref
from tests.fakes.databases import fresh_database
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.telegram_harness import tg_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.postgres]

ASKER = tg_user(1001, "老板")
WANG = tg_user(2001, "王工")


def test_two_workers_share_sign_ins_sessions_and_tickets(tmp_path: Path):
    people = {"admins": ["telegram:9001"], "experts": ["telegram:2001"]}
    with (
        fresh_database("postgresql", tmp_path) as url,
        console_server(tmp_path / "a", embedder=FakeEmbedder(), database_url=url, **people) as a,
        console_server(tmp_path / "b", embedder=FakeEmbedder(), database_url=url, **people) as b,
        chromium(tmp_path) as browser,
    ):
        link = a.login_link(WANG)
        on_b = link.replace(a.base, b.base)
        browser.open(on_b)
        browser.click("#login-button")
        browser.wait_url(f"{b.base}/console/queue")

        browser.open(link)  # the same link on the worker that issued it
        browser.click("#login-button")
        browser.wait_text("已经用过", "#login-error")

        a.ask(ASKER, "我们的情况特殊，电子秤要不要送检？请专家看看")
        [ticket] = a.desk.my_tickets(telegram_ref(ASKER))
        browser.open(f"{a.console}/queue")  # the cookie b signed (cookies ignore the port)
        browser.wait_for(f"#claim-{ticket.ticket_id}")
        browser.open(f"{b.console}/queue")
        browser.click(f"#claim-{ticket.ticket_id}")
        browser.wait_url(f"{b.base}/console/tickets/{ticket.ticket_id}")
        browser.open(f"{a.console}/queue")
        browser.wait_text("我已认领", f"#ticket-{ticket.ticket_id}")
        browser.screenshot("01-claimed-on-the-other-worker")
