"""The LLM composer on the channels, with a chat model injected through the composition root:
Telegram shows "typing…" and answers once (composed, or extractive after the timeout); WeChat
answers once, passively within its window or later as a customer-service message, and not at
all through the model when the account cannot push."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import bootstrap
from app.settings import Settings
from desk.service import Desk
from escalation.store import EscalationStore
from tests.fakes.chat_model import LEAD, QuotingChatModel
from tests.fakes.knowledge import FakeKnowledge
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import Telegram, make_docx, no_proxy, running_bot, tg_user
from tests.fakes.wechat_platform import new_openid, wechat_rig

pytestmark = pytest.mark.e2e

ASKER = tg_user(1001, "老板")
SCALES = "贸易结算用的电子秤要申请周期检定吗？"
GUIDE = make_docx("计量器具使用管理指引", [
    "第一条 为规范计量器具使用，制定本指引。",
    "第二条 用于贸易结算的电子秤属于强制检定的计量器具，使用单位应当向当地计量行政部门指定的"
    "计量检定机构申请周期检定。",
    "第三条 未按照规定申请检定或者检定不合格的电子秤，不得使用。",
])  # fmt: skip


def settings_for(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg]


# --- Telegram, on the real knowledge base -----------------------------------------------------
@pytest.fixture
async def api():
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


def telegram_container(
    tmp_path: Path, api: FakeBotApi, embedder: Any, model: QuotingChatModel, timeout_s: float
) -> bootstrap.Container:
    settings = settings_for(tmp_path, telegram_token=api.token, llm_timeout_s=timeout_s)
    container = bootstrap.build(settings, embedder=embedder, chat_model=model)
    guide = tmp_path / "计量指引.docx"
    guide.write_bytes(GUIDE)
    container.pipeline.ingest_file(guide)
    return container


@pytest.mark.slow
async def test_telegram_gets_the_composed_answer_once_after_typing(
    tmp_path: Path, api: FakeBotApi, e5_embedder: Any
) -> None:
    model = QuotingChatModel()
    container = telegram_container(tmp_path, api, e5_embedder, model, timeout_s=20)
    try:
        async with running_bot(api, container.desk):
            await Telegram(api).text(ASKER, SCALES)
            answer = await api.wait_message(1001, LEAD)
        stats = container.desk.stats(container.console_admin)
    finally:
        container.close()
    assert model.calls == 1
    assert [m.plain for m in api.messages(1001)] == [answer.plain]
    assert answer.plain.startswith(LEAD + "用于贸易结算的电子秤属于强制检定的计量器具")
    assert "《计量器具使用管理指引》第二条" in answer.plain and "“" not in answer.plain
    assert any(chat == 1001 and action == "typing" for chat, action, _ in api.chat_actions)
    assert stats.answered_by_desk == 1 and stats.composed_by == {"llm": 1}


@pytest.mark.slow
async def test_telegram_falls_back_to_the_extractive_answer_after_the_timeout(
    tmp_path: Path, api: FakeBotApi, e5_embedder: Any
) -> None:
    gate = threading.Event()
    model = QuotingChatModel(gate=gate)
    container = telegram_container(tmp_path, api, e5_embedder, model, timeout_s=1.0)
    tg = Telegram(api)
    try:
        async with running_bot(api, container.desk):
            await tg.text(ASKER, SCALES)
            first = await api.wait_message(1001, "周期检定")
            gate.set()  # the model replies late: its answer is never sent
            await api.wait_for(model.finished.is_set)
            await tg.text(ASKER, "电子秤检定不合格还能用吗？")
            second = await api.wait_message(1001, LEAD, after=first.message_id)
    finally:
        container.close()
    assert first.plain.startswith("根据《计量器具使用管理指引》第二条")  # the extractive answer
    assert LEAD not in first.plain
    assert [m.message_id for m in api.messages(1001)] == [first.message_id, second.message_id]


# --- WeChat, on the real desk service with the deterministic knowledge base ------------------
WECHAT_QUESTION = "用于贸易结算的电子秤需要强制检定吗？"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EscalationStore]:
    opened = EscalationStore.open(f"sqlite:///{tmp_path / 'desk.sqlite3'}")
    try:
        yield opened
    finally:
        opened.close()


def wechat_desk(
    tmp_path: Path, store: EscalationStore, model: QuotingChatModel, *, can_push: bool
) -> Desk:
    push = {"wechat_app_id": "wx-app", "wechat_app_secret": "s" * 32} if can_push else {}
    settings = settings_for(tmp_path, wechat_token="t" * 16, **push)
    return Desk(
        FakeKnowledge(),
        store,
        composer=bootstrap.build_composer(settings, model),
        compose_for=bootstrap.composed_channels(settings),
    )


async def test_wechat_sends_a_quick_composed_answer_as_the_passive_reply(
    tmp_path: Path, store: EscalationStore
) -> None:
    model = QuotingChatModel()
    openid = new_openid()
    async with wechat_rig(wechat_desk(tmp_path, store, model, can_push=True)) as rig:
        exchange = await rig.platform.send_text(openid, WECHAT_QUESTION)
    assert exchange.violations == [] and exchange.reply is not None
    assert exchange.reply.startswith(LEAD)
    assert rig.api.send_requests == 0
    assert rig.platform.seen_by(openid) == [exchange.reply]


async def test_wechat_pushes_a_slow_composed_answer_once(
    tmp_path: Path, store: EscalationStore
) -> None:
    gate = threading.Event()
    model = QuotingChatModel(gate=gate)
    openid = new_openid()
    async with wechat_rig(wechat_desk(tmp_path, store, model, can_push=True)) as rig:
        exchange = await rig.platform.send_text(openid, WECHAT_QUESTION)
        assert exchange.accepted and exchange.reply is None  # `success` inside the window
        gate.set()
        pushed = await rig.api.wait_sent(openid, 1)
    assert exchange.violations == []
    assert len(pushed) == 1 and pushed[0].startswith(LEAD)
    assert rig.platform.seen_by(openid) == pushed


async def test_wechat_without_push_answers_extractively_at_once(
    tmp_path: Path, store: EscalationStore
) -> None:
    model = QuotingChatModel()
    openid = new_openid()
    async with wechat_rig(wechat_desk(tmp_path, store, model, can_push=False)) as rig:
        exchange = await rig.platform.send_text(openid, WECHAT_QUESTION)
    assert exchange.violations == [] and exchange.reply is not None
    assert exchange.reply.startswith("根据《中华人民共和国计量法》")
    assert model.calls == 0
    assert rig.api.send_requests == 0
