"""`qadesk tickets|experts|stats` through typer's runner, against a desk built with the fake
knowledge base and a SQLite file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from app.cli.tickets import register
from core.people import Channel, Role, UserRef
from core.tickets import NotificationKind, TicketStatus
from desk.service import Desk
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.history import seeded_desk
from tests.fakes.knowledge import FakeKnowledge

ASKER = UserRef(Channel.TELEGRAM, "1001", "1001", "王老板")
BAIJIU = "我们小作坊自己灌装散装白酒卖，需要办哪些许可证？"
TOYS = "出口到欧盟的玩具需要做哪些CE认证？"


@dataclass
class Console:
    app: typer.Typer
    desk: Desk
    store: EscalationStore
    runner: CliRunner

    def run(self, *args: str) -> tuple[int, str, str]:
        result = self.runner.invoke(self.app, list(args))
        return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    clock = FakeClock()
    store = EscalationStore.open(f"sqlite:///{tmp_path / 'cli.sqlite3'}", clock=clock)
    store.seed_roles(admins=["console:admin"], experts=["console:admin", "telegram:2002=food"])
    desk = Desk(FakeKnowledge(), store, clock=clock)
    app = typer.Typer()
    register(app, lambda: desk)
    try:
        yield Console(app, desk, store, CliRunner())
    finally:
        store.close()


def test_tickets_list_filters_by_status_and_domain(console: Console) -> None:
    food = console.desk.ask(ASKER, BAIJIU).ticket
    toys = console.desk.ask(ASKER, TOYS).ticket
    assert food and toys
    console.desk.claim(UserRef(Channel.TELEGRAM, "2002"), food.ticket_id)

    code, out, _ = console.run("tickets", "list")
    assert code == 0
    assert f"#{food.ticket_id}" in out and f"#{toys.ticket_id}" in out
    assert "共 2 个工单。" in out
    code, out, _ = console.run("tickets", "list", "--status", "open")
    assert f"#{toys.ticket_id}" in out and f"#{food.ticket_id}" not in out
    code, out, _ = console.run("tickets", "list", "--domain", "food")
    assert f"#{food.ticket_id}" in out and "专家处理中" in out and "食品" in out
    code, out, _ = console.run("tickets", "list", "--domain", "metrology")
    assert "没有符合条件的工单。" in out
    code, _, err = console.run("tickets", "list", "--domain", "astrology")
    assert code == 1 and "未知领域" in err
    code, _, err = console.run("tickets", "list", "--as", "telegram:1001")
    assert code == 1 and "权限" in err


def test_show_claim_answer_and_publish(console: Console) -> None:
    ticket = console.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    code, out, _ = console.run("tickets", "show", str(ticket.ticket_id))
    assert code == 0
    assert BAIJIU in out and "《中华人民共和国食品安全法》" in out and "提交" in out

    code, out, _ = console.run("tickets", "claim", str(ticket.ticket_id))
    assert (code, out.strip()) == (0, f"已认领工单 #{ticket.ticket_id}。")
    code, _, err = console.run("tickets", "claim", str(ticket.ticket_id), "--as", "telegram:2002")
    assert code == 1 and "已由 专家 认领" in err  # the console admin has no name on record

    code, out, _ = console.run(
        "tickets", "answer", str(ticket.ticket_id), "--text", "需要食品生产许可证。", "--publish"
    )
    assert code == 0
    assert "已答复" in out and "已发布到知识库" in out
    answered = console.desk.ticket(ASKER, ticket.ticket_id)
    assert answered.status is TicketStatus.ANSWERED
    assert answered.published_faq_id is not None
    with console.store.reading() as tx:
        kinds = [r.notification.kind for r in tx.outbox.records()]
    assert NotificationKind.EXPERT_ANSWER in kinds

    code, out, _ = console.run("tickets", "show", str(ticket.ticket_id))
    assert "需要食品生产许可证。" in out and "认领" in out and "答复" in out
    code, _, err = console.run("tickets", "show", "999")
    assert code == 1 and "没有找到这个工单" in err
    code, _, err = console.run("tickets", "answer", str(ticket.ticket_id), "--text", "  ")
    assert code == 1 and "不能为空" in err


def test_experts_add_list_remove(console: Console) -> None:
    code, out, _ = console.run("experts", "add", "wechat:o-wu", "metrology", "testing|quality")
    assert code == 0 and "wechat:o-wu" in out and "计量、检验检测、质量管理" in out
    assert console.desk.role_of(UserRef(Channel.WECHAT, "o-wu")) is Role.EXPERT
    code, out, _ = console.run("experts", "list")
    assert "telegram:2002" in out and "wechat:o-wu" in out and "管理员" in out
    code, out, _ = console.run("experts", "remove", "wechat:o-wu")
    assert code == 0
    assert console.desk.role_of(UserRef(Channel.WECHAT, "o-wu")) is Role.ASKER
    code, _, err = console.run("experts", "add", "nobody")
    assert code == 1 and "渠道:用户ID" in err
    code, _, err = console.run("experts", "add", "wechat:o-x", "--as", "telegram:2002")
    assert code == 1 and "权限" in err


def test_stats_prints_the_figures_and_csv(console: Console) -> None:
    console.desk.ask(ASKER, "用于贸易结算的电子秤需要强制检定吗？")
    console.desk.ask(ASKER, BAIJIU)
    code, out, _ = console.run("stats")
    assert code == 0
    assert "收到的问题：2" in out and "系统直接回答：1" in out and "转交专家：1" in out
    code, out, _ = console.run("stats", "--since", "2025-03-03T00:00+00:00", "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert ["figure", "questions", "2"] in rows
    assert ["backlog", "food", "1"] in rows
    code, out, _ = console.run("stats", "--since", "2025-03-04T00:00+00:00", "--csv")
    assert ["figure", "questions", "0"] in list(csv.reader(io.StringIO(out)))
    code, _, err = console.run("stats", "--until", "yesterday")
    assert code == 1 and "时间格式" in err


def test_qadesk_stats_on_an_installation_prints_every_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commands as installed: the desk comes from settings through the composition root;
    statistics and the ticket list never open the knowledge base (no model is loaded)."""
    url = f"sqlite:///{tmp_path / 'qadesk.sqlite3'}"
    _, store = seeded_desk(url)
    store.close()
    monkeypatch.setenv("QADESK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("QADESK_DATABASE_URL", url)
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 0, result.output
    for line in (
        "服务统计（全部时间）",
        "服务的提问人：3",
        "收到的问题：5",
        "系统直接回答：2",
        "转交专家：3",
        "专家答复：2",
        "认领用时（中位数 / 90%）：20 分钟 / 28 分钟",
        "答复用时（中位数 / 90%）：45 分钟 / 57 分钟",
        "反馈“有用”：1",
        "反馈“没解决”：1",
        "有用率：50.0%",
        "  食品：1",
        "  计量：0",
        f"  2 次｜{BAIJIU}",
        f"  1 次｜{TOYS}",
    ):
        assert line in result.stdout.splitlines(), line

    result = runner.invoke(
        app, ["stats", "--since", "2025-03-03T09:02+00:00", "--until", "2025-03-03T09:40+00:00"]
    )
    assert "收到的问题：2" in result.stdout and "专家答复：1" in result.stdout
    result = runner.invoke(app, ["stats", "--csv"])
    assert ["figure", "answer_p90_s", "3420.0"] in list(csv.reader(io.StringIO(result.stdout)))

    result = runner.invoke(app, ["tickets", "list", "--status", "open"])
    assert result.exit_code == 0 and "共 1 个工单。" in result.stdout
    assert not (tmp_path / "var" / "index").exists()


def test_tickets_reassign_and_domain(console: Console) -> None:
    console.store.seed_roles(admins=[], experts=["wechat:o-wu=metrology"])
    ticket = console.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    tid = str(ticket.ticket_id)
    console.desk.claim(UserRef(Channel.TELEGRAM, "2002"), ticket.ticket_id)

    code, _, err = console.run("tickets", "reassign", tid, "wechat:o-wu", "--as", "telegram:1001")
    assert code == 1 and "权限" in err
    code, _, err = console.run("tickets", "reassign", tid, "telegram:1001")
    assert code == 1 and "没有找到这位专家" in err  # the asker is no expert
    code, out, _ = console.run("tickets", "reassign", tid, "wechat:o-wu")
    assert (code, out.strip()) == (0, f"工单 #{tid} 已转交给 专家（wechat:o-wu）。")
    assert console.desk.ticket(ASKER, ticket.ticket_id).claimed_by == "wechat:o-wu"
    code, _, err = console.run("tickets", "reassign", "999", "wechat:o-wu")
    assert code == 1 and "没有找到这个工单" in err

    code, out, _ = console.run("tickets", "domain", tid, "metrology", "--as", "wechat:o-wu")
    assert (code, out.strip()) == (0, f"工单 #{tid} 的领域已改为：计量。")
    assert console.desk.ticket(ASKER, ticket.ticket_id).domain.value == "metrology"
    code, _, err = console.run("tickets", "domain", tid, "astrology")
    assert code == 1 and "未知领域" in err
    code, _, err = console.run("tickets", "domain", tid, "food", "--as", "telegram:1001")
    assert code == 1 and "权限" in err
    code, out, _ = console.run("tickets", "show", tid)
    assert "转交" in out and "修改领域" in out


def test_faq_list_review_and_withdraw(console: Console) -> None:
    code, out, _ = console.run("faq", "list")
    assert (code, out.strip()) == (0, "没有符合条件的常见问题。")
    ticket = console.desk.ask(ASKER, BAIJIU).ticket
    assert ticket is not None
    console.desk.claim(UserRef(Channel.TELEGRAM, "2002"), ticket.ticket_id)
    console.desk.answer_ticket(
        UserRef(Channel.TELEGRAM, "2002"), ticket.ticket_id, "需要食品生产许可证。", publish=True
    )
    (record,) = console.desk.faq_entries(UserRef(Channel.TELEGRAM, "2002"))
    faq_id = record.entry.faq_id
    with console.store.transaction() as tx:
        assert tx.faq.flag_citing(record.entry.sources, f"replaced:{record.entry.sources[0]}")

    code, out, _ = console.run("faq", "list", "--flagged")
    assert code == 0
    assert f"{faq_id}  有效  待审核（来源文件已被替换：{record.entry.sources[0]}）" in out
    assert BAIJIU[:20] in out and "共 1 条常见问题。" in out
    code, _, err = console.run("faq", "list", "--as", "telegram:1001")
    assert code == 1 and "权限" in err

    code, _, err = console.run("faq", "review", faq_id, "--as", "telegram:1001")
    assert code == 1 and "权限" in err
    code, _, err = console.run("faq", "review", "faq-nonexistent")
    assert code == 1 and "没有找到常见问题 faq-nonexistent" in err
    code, out, _ = console.run("faq", "review", faq_id)
    assert (code, out.strip()) == (0, f"常见问题 {faq_id} 已审核，继续使用。")
    code, out, _ = console.run("faq", "list", "--flagged")
    assert out.strip() == "没有符合条件的常见问题。"

    code, _, err = console.run("faq", "withdraw", faq_id, "--as", "telegram:1001")
    assert code == 1 and "权限" in err
    code, _, err = console.run("faq", "withdraw", "faq-nonexistent")
    assert code == 1 and "没有找到常见问题 faq-nonexistent" in err
    code, out, _ = console.run("faq", "withdraw", faq_id)
    assert code == 0 and "已撤回" in out
    code, out, _ = console.run("faq", "list")
    assert f"{faq_id}  已撤回  " in out
    assert console.desk.ask(ASKER, BAIJIU).answer.from_expert is False
