"""The desk's console part on SQLite and PostgreSQL: login links good once whichever worker
takes them, expiry, rate limiting, admin passwords, the audit log, notes and delivery state;
and ``qadesk serve`` refusing a console without a secret."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from pydantic import ValidationError

from app import bootstrap
from app.settings import Settings
from core.errors import InvalidQuestion, LoginRefused, NotPermitted
from core.people import Channel, Role, UserRef
from desk.console_access import MAX_FAILURES, ConsoleLinks
from desk.service import Desk
from escalation.channel_memory import StoreChannelMemory
from escalation.store import EscalationStore
from tests.fakes.clock import FakeClock
from tests.fakes.databases import BACKENDS, fresh_database
from tests.fakes.knowledge import FakeIngest, FakeKnowledge

pytestmark = pytest.mark.integration

SECRET = "s" * 40
ADMIN = UserRef(Channel.TELEGRAM, "9", "9", "管理员")
WANG = UserRef(Channel.TELEGRAM, "1", "1", "王工")
ASKER = UserRef(Channel.TELEGRAM, "5", "5", "老板")


class Worker:
    """One ``qadesk serve`` process: its own store (engine) and desk on the shared database."""

    def __init__(self, url: str, clock: FakeClock) -> None:
        self.store = EscalationStore.open(url, clock=clock)
        self.store.seed_roles(admins=["telegram:9"], experts=["telegram:1"])
        kb = FakeKnowledge()
        links = ConsoleLinks(SECRET, "https://desk.example.cn/console", timedelta(minutes=10))
        self.desk = Desk(kb, self.store, FakeIngest(kb), clock=clock, console_links=links)


@pytest.fixture(params=BACKENDS)
def workers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Worker, Worker, FakeClock]]:
    clock = FakeClock()
    with fresh_database(request.param, tmp_path) as url:
        first, second = Worker(url, clock), Worker(url, clock)
        try:
            yield first, second, clock
        finally:
            first.store.close()
            second.store.close()


def token_of(link: str) -> str:
    assert link.startswith("https://desk.example.cn/console/login?token=")
    return parse_qs(urlparse(link).query)["token"][0]


def test_a_login_link_works_once_whichever_worker_takes_it(workers):
    first, second, _ = workers
    token = token_of(first.desk.console_link(WANG))
    person = second.desk.sign_in_with_link(token, "10.0.0.1")
    assert person.user.key == WANG.key and person.role is Role.EXPERT
    for desk in (first.desk, second.desk):
        with pytest.raises(LoginRefused) as refused:
            desk.sign_in_with_link(token, "10.0.0.1")
        assert refused.value.reason == "used"


def test_links_expire_are_only_for_staff_and_cannot_be_forged(workers):
    first, _, clock = workers
    with pytest.raises(NotPermitted):
        first.desk.console_link(ASKER)
    assert "只对专家和管理员开放" in first.desk.console_link_message(ASKER)
    assert "10 分钟内有效" in first.desk.console_link_message(WANG)
    token = token_of(first.desk.console_link(WANG))
    clock.advance(minutes=11)
    with pytest.raises(LoginRefused) as refused:
        first.desk.sign_in_with_link(token, "10.0.0.1")
    assert refused.value.reason == "expired"
    with pytest.raises(LoginRefused) as refused:
        first.desk.sign_in_with_link(token[:-2] + "xx", "10.0.0.1")
    assert refused.value.reason == "invalid"
    fresh = token_of(first.desk.console_link(WANG))
    first.desk.remove_expert(ADMIN, WANG)  # no longer staff when the link is used
    with pytest.raises(LoginRefused) as refused:
        first.desk.sign_in_with_link(fresh, "10.0.0.1")
    assert refused.value.reason == "not_staff"
    assert first.desk.staff_member(WANG.key) is None  # their session ends too


def test_failed_sign_ins_are_limited_per_client_across_workers(workers):
    first, second, clock = workers
    for n in range(MAX_FAILURES):
        desk = (first if n % 2 else second).desk
        with pytest.raises(LoginRefused):
            desk.sign_in_with_link(f"bad-{n}", "10.0.0.66")
    good = token_of(first.desk.console_link(WANG))
    with pytest.raises(LoginRefused) as refused:
        second.desk.sign_in_with_link(good, "10.0.0.66")
    assert refused.value.reason == "rate_limited"
    assert first.desk.sign_in_with_link(good, "10.0.0.7").user.key == WANG.key
    clock.advance(minutes=16)  # the window has passed
    other = token_of(first.desk.console_link(WANG))
    assert first.desk.sign_in_with_link(other, "10.0.0.66").user.key == WANG.key


def test_admins_sign_in_with_a_password_they_set(workers):
    first, second, _ = workers
    with pytest.raises(InvalidQuestion):
        first.desk.set_console_password(ADMIN, "short")
    with pytest.raises(NotPermitted):
        first.desk.set_console_password(WANG, "a long enough password")
    first.desk.set_console_password(ADMIN, "质量第一 correct horse")
    assert (
        second.desk.sign_in_with_password("telegram:9", "质量第一 correct horse", "c").role
        is Role.ADMIN
    )
    for user, password in (
        ("telegram:9", "wrong password!!"),
        ("telegram:1", "质量第一 correct horse"),
    ):
        with pytest.raises(LoginRefused) as refused:
            second.desk.sign_in_with_password(user, password, "c")
        assert refused.value.reason == "wrong_password"
    with first.store.reading() as tx:  # only a hash is kept
        assert "correct horse" not in (tx.console.password_hash("telegram:9") or "")


def test_the_audit_log_notes_and_deliveries(workers):
    first, second, clock = workers
    reply = first.desk.ask(ASKER, "我们公司的情况特殊，电子秤要不要检定？请专家看看")
    ticket = reply.ticket or first.desk.escalate(ASKER, reply.interaction_id)
    start = clock.now()
    clock.advance(minutes=1)
    second.desk.claim(WANG, ticket.ticket_id)
    note = first.desk.add_note(WANG, ticket.ticket_id, "  先查一下计量法第九条 ")
    assert note.text == "先查一下计量法第九条" and note.author == "王工"
    with pytest.raises(InvalidQuestion):
        first.desk.add_note(WANG, ticket.ticket_id, "   ")
    with pytest.raises(NotPermitted):
        first.desk.ticket_notes(ASKER, ticket.ticket_id)
    first.desk.answer_ticket(WANG, ticket.ticket_id, "用于贸易结算的电子秤要强制检定。")
    [delivery] = second.desk.deliveries(WANG, ticket.ticket_id)
    assert delivery.state == "waiting" and delivery.kind == "expert_answer"
    assert second.desk.answer_deliveries(WANG, [ticket.ticket_id]) == {ticket.ticket_id: "waiting"}
    first.desk.publish(WANG, ticket.ticket_id)
    first.desk.add_expert(ADMIN, UserRef(Channel.WECHAT, "o-li", display_name="李工"))
    first.desk.record_audit(ADMIN, "upload", "计量法.pdf", "12 passages")

    log = second.desk.audit_log(ADMIN)
    assert [(e.action, e.subject) for e in log][:5] == [
        ("upload", "计量法.pdf"),
        ("role", "wechat:o-li"),
        ("publish", f"ticket {ticket.ticket_id}"),
        ("answer", f"ticket {ticket.ticket_id}"),
        ("claim", f"ticket {ticket.ticket_id}"),
    ]
    assert log[0].actor == "管理员 (telegram:9)" and log[0].detail == "12 passages"
    assert log[2].actor == "王工 (telegram:1)"
    assert second.desk.audit_log(ADMIN, until=start) == []
    assert len(second.desk.audit_log(ADMIN, since=start, limit=2)) == 2
    with pytest.raises(NotPermitted):
        second.desk.audit_log(WANG)


def test_the_console_refuses_to_start_without_a_secret(tmp_path):
    base = {"_env_file": None, "data_dir": tmp_path, "console_enabled": True}
    for secret in (None, "too-short"):
        with pytest.raises(ValidationError, match="QADESK_CONSOLE_SECRET"):
            Settings(**base, console_secret=secret)  # type: ignore[arg-type]
    links = bootstrap.console_links(Settings(**base, console_secret=SECRET))  # type: ignore[arg-type]
    assert links.base_url == "http://127.0.0.1:8080/console" and links.valid_for == timedelta(
        minutes=10
    )
    assert bootstrap.console_links(Settings(_env_file=None, data_dir=tmp_path)) is None  # type: ignore[call-arg]


def test_a_wechat_asker_can_be_reached_for_48_hours_after_their_last_message(workers):
    first, _, clock = workers
    wechat = UserRef(Channel.WECHAT, "o-asker", display_name="老板")
    memory = StoreChannelMemory(first.store)
    memory.record_inbound(wechat, "msg-1")
    reply = first.desk.ask(wechat, "我们的情况特殊，请专家看看电子秤要不要检定")
    ticket = reply.ticket or first.desk.escalate(wechat, reply.interaction_id)
    asked = clock.now()
    assert first.desk.asker_reachable_until(WANG, ticket) == asked + timedelta(hours=48)
    clock.advance(hours=30)
    memory.record_inbound(wechat, "msg-2")
    assert first.desk.asker_reachable_until(WANG, ticket) == clock.now() + timedelta(hours=48)
    telegram = first.desk.ask(ASKER, "我们的情况特殊，请专家看看锅炉要不要检验")
    on_telegram = telegram.ticket or first.desk.escalate(ASKER, telegram.interaction_id)
    assert first.desk.asker_reachable_until(WANG, on_telegram) is None  # no window there


def test_a_ticket_shows_the_askers_other_questions_newest_first(workers):
    first, _, clock = workers
    opened = []
    questions = [
        "我们的情况特殊，电子秤要不要送检？请专家看看",
        "食品标签上的生产日期能贴纸吗？请专家看看我们的包装",
        "出口到东南亚的充电宝需要哪些认证？想请专家给个方案",
    ]
    for question in questions:
        reply = first.desk.ask(ASKER, question)
        opened.append(reply.ticket or first.desk.escalate(ASKER, reply.interaction_id))
        clock.advance(minutes=1)
    history = first.desk.asker_history(WANG, opened[1])
    assert [t.ticket_id for t in history] == [opened[2].ticket_id, opened[0].ticket_id]
    with pytest.raises(NotPermitted):
        first.desk.asker_history(ASKER, opened[1])


async def test_wechat_staff_get_a_login_link_by_sending_控制台(tmp_path):
    from bot.wechat.conversation import Conversation
    from bot.wechat.protocol import Inbound, InboundKind
    from bot.wechat.state import WeChatState
    from core.people import IncomingMessage

    clock = FakeClock()
    worker = Worker(f"sqlite:///{tmp_path / 'desk.sqlite3'}", clock)
    expert = UserRef(Channel.WECHAT, "o-expert", display_name="李工")
    worker.desk.add_expert(ADMIN, expert)
    conversation = Conversation(worker.desk, WeChatState(StoreChannelMemory(worker.store)))

    async def say(user: UserRef, content: str) -> str:
        key = f"wechat:msg:{user.user_id}"
        inbound = Inbound(InboundKind.TEXT, IncomingMessage(user, content, key), key, "text", "gh")
        return await conversation.respond(inbound) or ""

    reply = await say(expert, " 控制台 ")
    assert "登录链接" in reply and "10 分钟内有效" in reply
    token = token_of(reply.split("\n")[1])
    assert worker.desk.sign_in_with_link(token, "c").user.key == "wechat:o-expert"
    assert "只对专家和管理员开放" in await say(UserRef(Channel.WECHAT, "o-asker"), "控制台")
    worker.store.close()


def test_a_ticket_shows_what_the_asker_asked_since(workers):
    first, _, clock = workers
    question = "我们的情况特殊，电子秤要不要送检？请专家看看"
    before = first.desk.ask(ASKER, "食品标签上的生产日期能贴纸吗？")
    clock.advance(minutes=1)
    reply = first.desk.ask(ASKER, question)
    ticket = reply.ticket or first.desk.escalate(ASKER, reply.interaction_id)
    clock.advance(minutes=1)
    first.desk.ask(ASKER, "电子秤是用来称散装糖果卖给顾客的")
    later = first.desk.follow_ups(WANG, ticket)
    assert [m.text for m in later] == ["电子秤是用来称散装糖果卖给顾客的"]
    assert later[0].at == clock.now() and before.interaction_id
    with pytest.raises(NotPermitted):
        first.desk.follow_ups(ASKER, ticket)
