"""Follow-ups and document status over the Telegram and WeChat stand-ins, on the real desk as
``app.bootstrap.build`` makes it (escalation on SQLite, Chroma + BM25 with the offline e5 model)
over three documents of the shipped library: a follow-up answered from the completed question,
an answer citing a document marked superseded saying so, a pending document labelled, and a
status change flagging the FAQ entry resting on the document."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app import bootstrap
from app.settings import Settings
from core.people import Channel, UserRef
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import Telegram, no_proxy, running_bot, tg_user
from tests.fakes.wechat_platform import new_openid, wechat_rig

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LAWS = Path(__file__).resolve().parents[2] / "library" / "laws"
SLICE = [
    LAWS / "L03_计量法_2018.md",
    LAWS / "L13_强制检定的工作计量器具检定管理办法_1987.md",
    LAWS / "L04_认证认可条例_2023.md",
]
ASKER = tg_user(1001, "老板")
ADMIN = UserRef(Channel.CONSOLE, "admin")
EXPERT = UserRef(Channel.TELEGRAM, "2001", display_name="王工")
SCALE = "店里的电子秤要强制检定吗"
PUMP = "那加油机呢"
PUMP_COMPLETED = "店里的加油机要强制检定吗"


def settings_for(data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        admins=["telegram:9001"],
        experts=["telegram:2001"],
    )


@pytest.fixture(scope="module")
def library(tmp_path_factory, e5_embedder) -> Path:
    """The three documents ingested once; each test works on a copy."""
    root = tmp_path_factory.mktemp("conversation-library")
    container = bootstrap.build(settings_for(root), embedder=e5_embedder)
    try:
        assert not container.pipeline.ingest_paths(SLICE).errors
    finally:
        container.close()
    return root


@pytest.fixture
async def api():
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


@pytest.fixture
def real(library: Path, tmp_path: Path, e5_embedder: Any) -> Iterator[Any]:
    shutil.copytree(library, tmp_path / "data")
    container = bootstrap.build(settings_for(tmp_path / "data"), embedder=e5_embedder)
    try:
        yield container
    finally:
        container.close()


def doc_id(container: Any, prefix: str) -> str:
    return next(d.doc_id for d in container.desk.documents(ADMIN) if d.file_name.startswith(prefix))


async def test_a_telegram_follow_up_is_answered_from_the_completed_question(api, real):
    tg = Telegram(api)
    async with running_bot(api, real.desk):
        await tg.text(ASKER, SCALE)
        await api.wait_message(1001, "强制检定")
        await tg.text(ASKER, PUMP)
        reply = await api.wait_message(1001, "您问的是")
    assert reply.plain.startswith(f"您问的是：{PUMP_COMPLETED}")
    assert "燃油加油机" in reply.plain  # the catalogue of the 1987 measures
    assert "（现行有效）" in reply.plain


async def test_superseded_and_pending_documents_are_said_so_and_faq_entries_flagged(api, real):
    tg = Telegram(api)
    l13, l04 = doc_id(real, "L13"), doc_id(real, "L04")
    real.desk.set_document(ADMIN, l13, {"superseded_by": ["L03_计量法_2018.md"]})
    year = date.today().year + 1
    real.desk.set_document(ADMIN, l04, {"date_effective": f"{year}-03-01"})
    async with running_bot(api, real.desk):
        await tg.text(ASKER, "加油机需要强制检定吗")
        superseded = await api.wait_message(1001, "代替")
        await tg.text(ASKER, "哪些产品必须经过认证才能出厂销售")
        pending = await api.wait_message(1001, "认证", after=superseded.message_id)
    assert "所引《强制检定的工作计量器具检定管理办法》已被《计量法》代替" in superseded.plain
    assert f"尚未生效，自{year}年3月1日起施行" in pending.plain

    # an expert answer published from a ticket rests on its documents; a status change flags it
    asker = UserRef(Channel.TELEGRAM, "1002", "1002", "店主")
    reply = real.desk.ask(asker, "出租汽车计价器属于强制检定的计量器具吗")
    ticket = reply.ticket or real.desk.escalate(asker, reply.interaction_id)
    real.desk.claim(EXPERT, ticket.ticket_id)
    real.desk.answer_ticket(EXPERT, ticket.ticket_id, "燃油加油机属于强制检定的工作计量器具。")
    entry = real.desk.publish(EXPERT, ticket.ticket_id)
    assert entry.sources
    rested_on = next(d for d in real.desk.documents(ADMIN) if d.file_name == entry.sources[0])
    _, flagged = real.desk.set_document(ADMIN, rested_on.doc_id, {"date_repealed": "2020-01-01"})
    assert entry.faq_id in flagged
    [record] = real.desk.faq_entries(EXPERT, flagged=True)
    assert record.flag_reason == f"status:{rested_on.file_name}"


async def test_a_wechat_follow_up_is_answered_from_the_completed_question(real):
    openid = new_openid()
    async with wechat_rig(real.desk, budget_s=4.0, timeout_s=4.5) as rig:
        first = await rig.ask(openid, SCALE)
        second = await rig.ask(openid, PUMP)
    assert "强制检定" in first and not first.startswith("您问的是")
    assert second.startswith(f"您问的是：{PUMP_COMPLETED}")
    assert "燃油加油机" in second


async def test_a_telegram_clarifying_round_is_answered_through_a_button(api, real):
    tg = Telegram(api)
    async with running_bot(api, real.desk):
        await tg.text(ASKER, "想办个证，怎么弄")
        asked = await api.wait_message(1001, "请回复")
        labels = [label for label, _ in asked.buttons()]
        assert labels[0] == "3C强制性产品认证" and labels[-1] == "其他·转人工专家"
        await tg.press(ASKER, asked, asked.button("3C强制性产品认证"))
        chosen = await api.wait_message(1001, "您问的是", after=asked.message_id)
    assert chosen.plain.startswith("您问的是：哪些产品需要3C强制性产品认证，怎么办理")
    assert "认证认可条例" in chosen.plain


async def test_a_wechat_clarifying_round_is_answered_with_a_number(real):
    openid = new_openid()
    async with wechat_rig(real.desk, budget_s=4.0, timeout_s=4.5) as rig:
        asked = await rig.ask(openid, "我想问问检测")
        chosen = await rig.ask(openid, "3")
        again = await rig.ask(openid, "想办个证，怎么弄")
        first = await rig.ask(openid, "1")  # 1 is also 有用: while a choice is open, a choice
    assert "3. 计量器具强制检定" in asked and "请回复 1/2/3/4" in asked
    assert chosen.startswith("您问的是：哪些计量器具需要强制检定")
    assert "强制检定" in chosen and "计量器具" in chosen
    assert "1. 3C强制性产品认证" in again
    assert first.startswith("您问的是：哪些产品需要3C强制性产品认证，怎么办理")
