"""The web console's expert side in headless Chromium, against ``qadesk serve`` (the one ASGI
app with its lifespan: Telegram polling the stand-in Bot API, the outbox dispatcher) on
127.0.0.1 with the real desk (SQLite, Chroma, the offline e5 model, the ingest pipeline).

An expert signs in with the link the bot sends, watches a new ticket arrive without reloading,
claims it while a second expert's claim loses, answers with a clause found in the library, and
the asker receives the answer once on Telegram; it is published as FAQ and the next asker is
answered from it; after the source document is replaced the entry waits in FAQ review.
Screenshots of every screen go to the test's tmp dir.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.people import Channel, UserRef
from tests.fakes.browser import PHONE, Browser, chromium
from tests.fakes.console_server import ConsoleServer, console_server, telegram_ref
from tests.fakes.telegram_harness import tg_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ASKER = tg_user(1001, "老板")
NEXT_ASKER = tg_user(1002, "店主")
WANG = tg_user(2001, "王工")
LI = tg_user(2002, "李工")
ADMIN = tg_user(9001, "管理员")
QUESTION = "锅炉要年检吗？"
RULES = """# 特种设备定期检验办法

第一条 为了加强特种设备安全管理，制定本办法。

第二条 锅炉、压力容器的使用单位应当在检验合格有效期届满前一个月，向特种设备检验机构提出定期检验要求。

第三条 未经定期检验或者检验不合格的锅炉，不得继续使用。
"""
OWN_WORDS = "您好，锅炉需要定期检验，请提前一个月向检验机构申请。"


@pytest.fixture
def served(tmp_path: Path, e5_embedder: Any) -> Iterator[ConsoleServer]:
    with console_server(
        tmp_path / "data",
        embedder=e5_embedder,
        admins=["telegram:9001"],
        experts=["telegram:2001", "telegram:2002"],
    ) as server:
        rules = tmp_path / "特种设备定期检验办法.md"
        rules.write_text(RULES, encoding="utf-8")
        outcome = server.desk.add_document(telegram_ref(ADMIN), rules)
        assert outcome.error is None and outcome.chunks > 0
        yield server


def escalate(server: ConsoleServer, user: dict[str, Any], question: str) -> int:
    """``user`` asks; when the desk answers by itself, they press 转人工专家. The ticket id."""
    server.ask(user, question)
    ref = telegram_ref(user)
    if not server.desk.my_tickets(ref):
        answered = server.api.messages(user["id"])[-1]
        server.run(server.tg.press(user, answered, answered.button("转人工专家")))
        server.run(server.api.wait_for(lambda: server.desk.my_tickets(ref), what="a ticket"))
    [ticket] = server.desk.my_tickets(ref)
    return int(ticket.ticket_id)


def hold_queue(browser: Browser) -> None:
    """Stop the queue's own refresh in ``browser`` (every later request of ``#queue-rows`` is
    cancelled by htmx's ``htmx:beforeRequest``) and wait out a refresh already under way, so
    the rows on screen are the ones the expert saw."""
    browser.script(
        "document.body.addEventListener('htmx:beforeRequest', e => {"
        " if (e.detail.elt.id === 'queue-rows') e.preventDefault(); })"
    )
    browser.wait(
        lambda: not browser.script("return document.querySelector('.htmx-request')"),
        what="no queue refresh under way",
    )


def test_an_expert_works_a_ticket_from_arrival_to_faq_in_the_browser(served, tmp_path):
    with chromium(tmp_path, name="wang") as wang, chromium(tmp_path, name="li") as li:
        link = served.sign_in(wang, WANG)
        wang.wait_text("目前没有待处理的问题", "#queue-rows")
        wang.screenshot("01-queue-empty")
        wang.script("window.sameDocument = 'yes'")

        ticket_id = escalate(served, ASKER, QUESTION)
        row = f"#ticket-{ticket_id}"
        wang.wait_for(row)  # arrived by the queue's own refresh
        assert wang.script("return window.sameDocument") == "yes"  # no reload
        assert QUESTION in wang.text(row) and "待认领" in wang.text(row)
        wang.screenshot("02-queue-new-ticket")

        served.sign_in(li, LI)
        li.wait_for(f"#claim-{ticket_id}")
        hold_queue(li)  # li's page stays as it was when wang claims

        wang.click(f"#claim-{ticket_id}")
        wang.wait_url(f"/tickets/{ticket_id}")
        li.click(f"#claim-{ticket_id}")  # the stale button of the second expert
        li.wait_text("已被 王工 认领", "#messages")
        li.screenshot("03-claim-lost")
        assert served.desk.ticket(telegram_ref(WANG), ticket_id).claimed_by == "telegram:2001"

        wang.wait_text(QUESTION, "#question")
        wang.fill("#search-q", "锅炉 定期检验")
        wang.click("#search")
        wang.wait_for("#results button.insert")
        wang.screenshot("04-ticket-search")
        wang.click("#results button.insert")
        inserted = wang.wait(
            lambda: (wang.find("#reply-text").get_property("value") or "").strip() or None,
            what="a clause in the reply",
        )
        assert re.match(r"《特种设备定期检验办法》第[一二三]条", inserted), inserted
        assert "规定：“" in inserted
        wang.find("#reply-text").send_keys("\n" + OWN_WORDS)
        wang.wait_text(OWN_WORDS, "#preview")
        assert "其他专家答复如下" in wang.text("#preview") or "专家" in wang.text("#preview")
        wang.screenshot("05-reply-preview")
        wang.click("#send")

        delivered = served.run(served.api.wait_message(1001, OWN_WORDS, timeout=30))
        assert inserted.split("规定")[0] in delivered.plain  # 《title》第N条
        wang.wait_text("已送达", "#delivery", timeout=30)
        wang.screenshot("06-answered-delivered")
        sent_to_asker = [m for m in served.api.messages(1001) if OWN_WORDS in m.plain]
        assert len(sent_to_asker) == 1

        wang.click("#publish")
        wang.wait_text("常见问题", "#messages")
        wang.screenshot("07-published")
        reply = served.ask(NEXT_ASKER, QUESTION)
        assert OWN_WORDS in reply  # answered from the expert's entry, at once
        assert not served.desk.my_tickets(telegram_ref(NEXT_ASKER))

        changed = tmp_path / "特种设备定期检验办法.md"
        changed.write_text(RULES.replace("一个月", "两个月"), encoding="utf-8")
        outcome = served.desk.add_document(telegram_ref(ADMIN), changed)
        assert outcome.replaced is not None
        wang.open(f"{served.console}/faq")
        wang.wait_text("来源文件已被替换", "main")
        assert QUESTION in wang.text("main")
        wang.screenshot("08-faq-review")
        wang.click(".faq button.primary")  # 确认保留
        wang.wait_text("没有需要审核的常见问题", "main")

        wang.resize(PHONE)
        wang.open(f"{served.console}/tickets/{ticket_id}")
        wang.wait_text(OWN_WORDS, "#answer")
        wang.screenshot("09-ticket-phone")
        wang.open(f"{served.console}/queue")
        wang.wait_for("#queue-rows")
        wang.screenshot("10-queue-phone")

        wang.open(link)  # the link was spent when王工 signed in
        wang.click("#login-button")
        wang.wait_text("已经用过", "#login-error")

    log = served.desk.audit_log(telegram_ref(ADMIN))
    actions = [(e.action, e.subject) for e in log]
    assert ("claim", f"ticket {ticket_id}") in actions
    assert ("answer", f"ticket {ticket_id}") in actions
    assert ("publish", f"ticket {ticket_id}") in actions
    assert any(a == "login" for a, _ in actions)
    assert UserRef(Channel.TELEGRAM, "2001").key in {
        e.actor.split("(")[-1].rstrip(")") for e in log
    }
