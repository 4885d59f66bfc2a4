"""The Telegram channel on the real desk as ``app.bootstrap.build`` makes it: ``desk.service.Desk``
with escalation on SQLite, the real knowledge base (Chroma + BM25; the offline e5
model) and ingest pipeline, and the outbox dispatcher delivering through the channel's
notifier — all over HTTP through the stand-in Bot API.

Flows: an expert's answer reaching the asker through the outbox, two experts racing to claim,
an admin adding a real PDF and DOCX and a user then getting an answer from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import prompts
from app import bootstrap
from app.settings import Settings
from core.people import Channel, UserRef
from core.tickets import NotificationKind, TicketStatus
from desk.service import Desk
from escalation.dispatcher import Dispatcher
from escalation.outbox import OutboxStatus
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import (
    EXPERT_CHAT,
    Telegram,
    group_chat,
    make_docx,
    make_pdf,
    no_proxy,
    running_bot,
    tg_user,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ASKER = tg_user(1001, "老板")
WANG = tg_user(2001, "王工")
LI = tg_user(2002, "李工")
ADMIN = tg_user(9001, "管理员")
GROUP = group_chat(EXPERT_CHAT)
GROUP_REF = UserRef(Channel.TELEGRAM, str(EXPERT_CHAT), str(EXPERT_CHAT), "专家群")
BOILER = "锅炉要年检吗？"
EXPERT_TEXT = "锅炉属于特种设备，使用单位应当按规定向检验机构申请定期检验。"

NOTICE = make_pdf([
    "关于加强电动自行车充电器质量监管的通知",
    "市监质发〔2025〕12号",
    "各省、自治区、直辖市市场监督管理局：",
    "为加强电动自行车充电器质量监管，现就有关事项通知如下。",
    "一、总体要求",
    "各地要把充电器质量安全摆在突出位置。",
    "二、重点任务",
    "（一）充电器生产企业应当在产品出厂前逐批进行绝缘电阻检测，检测不合格的不得出厂。",
    "（二）销售者应当查验充电器的出厂检验报告。",
    "三、保障措施",
    "各地要加强组织领导，确保各项任务落实到位。",
    "市场监管总局",
    "2025年3月1日",
])  # fmt: skip
GUIDE = make_docx("计量器具使用管理指引", [
    "第一条 为规范计量器具使用，制定本指引。",
    "第二条 用于贸易结算的电子秤属于强制检定的计量器具，使用单位应当向当地计量行政部门指定的"
    "计量检定机构申请周期检定。",
    "第三条 未按照规定申请检定或者检定不合格的电子秤，不得使用。",
])  # fmt: skip


@dataclass
class RealDesk:
    container: bootstrap.Container

    @property
    def desk(self) -> Desk:
        return self.container.desk

    def dispatcher(self, channel: Any) -> Dispatcher:
        dispatcher: Dispatcher = self.container.dispatcher(
            bootstrap.notifiers(self.container, [channel])
        )
        return dispatcher

    def outbox(self, kind: NotificationKind) -> list[OutboxStatus]:
        with self.container.store.reading() as tx:
            records = tx.outbox.records()
        return [r.status for r in records if r.notification.kind is kind]


@pytest.fixture
def real(tmp_path: Path, api: FakeBotApi, e5_embedder: Any) -> Iterator[RealDesk]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        admins=["telegram:9001"],
        experts=["telegram:2001", "telegram:2002"],
        telegram_token=api.token,
        telegram_expert_chat_id=EXPERT_CHAT,
    )
    container = bootstrap.build(settings, embedder=e5_embedder)
    try:
        yield RealDesk(container)
    finally:
        container.close()


@pytest.fixture
async def api():
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


async def test_expert_answer_reaches_the_asker_through_the_outbox(api, real):
    tg = Telegram(api)
    async with running_bot(api, real.desk) as channel:
        outbox = real.dispatcher(channel)
        await tg.text(ASKER, BOILER)
        escalated = await api.wait_message(1001, "专家")
        [ticket] = real.desk.my_tickets(UserRef(Channel.TELEGRAM, "1001", "1001", "老板"))
        assert f"#{ticket.ticket_id}" in escalated.plain and escalated.buttons() == []

        await outbox.run_round()  # NEW_TICKET: to each expert and to the expert group
        card = await api.wait_message(EXPERT_CHAT, BOILER)
        assert card.buttons()[0] == ("认领", f"tk:{ticket.ticket_id}:c")
        assert api.find(2001, BOILER) and api.find(2002, BOILER)  # personal cards
        await tg.press(WANG, card, card.button("认领"))
        await api.wait_for(lambda: "王工 已认领" in card.plain)
        await outbox.run_round()  # TICKET_CLAIMED: every card of the ticket is redrawn
        await api.wait_for(lambda: "王工 已认领" in api.find(2002, BOILER).plain)

        await tg.text(WANG, EXPERT_TEXT, chat=GROUP, reply_to=card)
        await api.wait_message(EXPERT_CHAT, "答复已发送给提问者")
        await outbox.run_round()  # EXPERT_ANSWER: to the asker, on Telegram
        delivered = await api.wait_message(1001, EXPERT_TEXT)
        assert delivered.plain.startswith(f"专家答复了您的问题 #{ticket.ticket_id}")
        assert [label for label, _ in delivered.buttons()] == ["👍 有用", "没解决", "转人工专家"]
        query = await tg.press(ASKER, delivered, delivered.button("有用"))
        await api.wait_for(lambda: query in api.callback_answers)
    thanks = api.callback_answers[query]["text"]
    assert thanks == prompts.text("desk.feedback.expert_thanks", ticket_id=ticket.ticket_id)
    assert real.desk.ticket(GROUP_REF, ticket.ticket_id).status is TicketStatus.CLOSED
    assert real.outbox(NotificationKind.EXPERT_ANSWER) == [OutboxStatus.SENT]
    assert set(real.outbox(NotificationKind.NEW_TICKET)) == {OutboxStatus.SENT}


async def test_not_solved_on_an_expert_answer_sends_the_ticket_back(api, real):
    tg = Telegram(api)
    async with running_bot(api, real.desk) as channel:
        outbox = real.dispatcher(channel)
        await tg.text(ASKER, BOILER)
        await api.wait_message(1001, "专家")
        await outbox.run_round()
        card = await api.wait_message(EXPERT_CHAT, BOILER)
        tid = int(card.button("认领").split(":")[1])
        await tg.text(WANG, f"/answer {tid} {EXPERT_TEXT}", chat=GROUP)
        await api.wait_message(EXPERT_CHAT, "答复已发送给提问者")
        await outbox.run_round()
        delivered = await api.wait_message(1001, EXPERT_TEXT)
        await tg.press(ASKER, delivered, delivered.button("没解决"))
        told = await api.wait_message(1001, "重新交给专家", after=delivered.message_id)
        await outbox.run_round()  # REANNOUNCE: a fresh card in the group, the old one redrawn
        fresh = await api.wait_message(EXPERT_CHAT, f"仍未认领 #{tid}")
    assert BOILER in fresh.plain and "状态：待认领" in fresh.plain
    assert "状态：待认领" in card.plain and card.buttons()[0] == ("认领", f"tk:{tid}:c")
    assert told.plain == prompts.text("desk.feedback.expert_reopened", ticket_id=tid)
    assert real.desk.ticket(GROUP_REF, tid).status is TicketStatus.OPEN


async def test_two_experts_race_to_claim_on_the_real_desk(api, real):
    tg = Telegram(api)
    async with running_bot(api, real.desk) as channel:
        outbox = real.dispatcher(channel)
        await tg.text(ASKER, BOILER)
        await api.wait_message(1001, "专家")
        await outbox.run_round()
        card = await api.wait_message(EXPERT_CHAT, BOILER)
        queries = [await tg.press(who, card, card.button("认领")) for who in (WANG, LI)]
        await api.wait_for(lambda: set(queries) <= set(api.callback_answers))
        tid = int(card.button("认领").split(":")[1])
        holder = real.desk.ticket(GROUP_REF, tid).claimed_by_name
        await api.wait_for(lambda: f"{holder} 已认领" in card.plain)
    texts = sorted(api.callback_answers[q]["text"] for q in queries)
    assert texts == sorted([prompts.text("telegram.expert.claimed", ticket_id=tid),
                            prompts.text("telegram.expert.claimed_by_other", holder=holder)])  # fmt: skip
    assert holder in ("王工", "李工")


async def test_admin_adds_a_pdf_and_a_docx_then_a_user_is_answered_from_them(api, real):
    tg = Telegram(api)
    async with running_bot(api, real.desk):
        await tg.document(ADMIN, NOTICE, "充电器通知.pdf")
        notice = await api.wait_message(9001, "已加入知识库")
        await tg.document(ADMIN, GUIDE, "计量指引.docx")
        guide = await api.wait_message(9001, "《计量器具使用管理指引》")
        await tg.document(ADMIN, NOTICE, "充电器通知.pdf")
        await api.wait_message(9001, prompts.text("telegram.admin.unchanged"))
        await tg.document(ADMIN, make_pdf([" "]), "扫描件.pdf")
        empty = await api.wait_message(9001, "未能加入《扫描件.pdf》")
        await tg.document(ADMIN, b"PK\x03\x04 not really a docx", "坏文件.docx")
        broken = await api.wait_message(9001, "未能加入《坏文件.docx》")

        await tg.text(ASKER, "电动自行车充电器出厂前要做什么检测？")
        answer = await api.wait_message(1001, "绝缘电阻检测")
        await tg.text(ASKER, "贸易结算用的电子秤要申请周期检定吗？")
        second = await api.wait_message(1001, "周期检定。")
        await tg.text(ADMIN, "/docs")
        listing = await api.wait_message(9001, "知识库文件（共 2 份）")
    assert "《关于加强电动自行车充电器质量监管的通知》" in notice.plain
    assert "文号：市监质发〔2025〕12号" in notice.plain and "个章节" in notice.plain
    assert "文号：未识别" in guide.plain
    assert prompts.text("ingest.reason.no_text_layer") in empty.plain  # the precise reason
    assert prompts.text("ingest.reason.corrupt_docx") in broken.plain
    assert "关于加强电动自行车充电器质量监管的通知" in answer.plain and "来源" in answer.plain
    assert [label for label, _ in answer.buttons()] == ["👍 有用", "没解决", "转人工专家"]
    assert "《计量器具使用管理指引》第二条" in second.plain
    assert "市监质发〔2025〕12号" in listing.plain
