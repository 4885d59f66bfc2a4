"""The Telegram channel's memory on the real desk (``desk.service.Desk``, escalation on a SQLite
file in the data dir, the outbox dispatcher), over HTTP through the stand-in Bot API:

* the data dir moved to another bot (message ids start again at 1) — its users are answered;
* a ticket card is edited only when what it shows changes, whichever path redraws it, and a
  "message is not modified" from Telegram is harmless;
* an expert answering from the command line is shown to the asker and on the cards as 专家,
  never as ``console:admin``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import prompts
from app.cli.tickets import register
from core.people import Channel, UserRef
from core.tickets import Notification, NotificationKind
from desk.service import Desk
from desk.texts import domain_label
from escalation.channel_memory import StoreChannelMemory
from escalation.dispatcher import Dispatcher
from escalation.store import EscalationStore
from tests.fakes.knowledge import FakeKnowledge
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_harness import EXPERT_CHAT, Telegram, no_proxy, running_bot, tg_user

pytestmark = pytest.mark.e2e

ASKER = tg_user(1001, "老板")
WANG = tg_user(2001, "王工")
GROUP_REF = UserRef(Channel.TELEGRAM, str(EXPERT_CHAT), str(EXPERT_CHAT), "专家群")
ANSWERABLE = "用于贸易结算的电子秤需要强制检定吗？"
FOOD = "从事食品销售需要取得许可吗？"
BOILER = "锅炉要年检吗？"


@dataclass
class DataDir:
    path: Path
    store: EscalationStore
    desk: Desk

    def dispatcher(self, channel) -> Dispatcher:
        return Dispatcher(self.store, {"telegram": channel.notifier}, lease_seconds=30)


def open_data_dir(path: Path) -> DataDir:
    """The desk as a ``qadesk serve`` worker opens it from the data dir."""
    store = EscalationStore.open(f"sqlite:///{path / 'qadesk.sqlite3'}")
    store.seed_roles(admins=["console:admin"], experts=["telegram:2001", "console:admin"])
    return DataDir(path, store, Desk(FakeKnowledge(), store, expert_destinations=[GROUP_REF]))


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[DataDir]:
    opened = open_data_dir(tmp_path)
    try:
        yield opened
    finally:
        opened.store.close()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


async def test_a_second_bot_on_the_same_data_dir_answers_its_users(tmp_path: Path) -> None:
    first_api = FakeBotApi("111111:FIRST-token", bot_id=111111)
    second_api = FakeBotApi("222222:SECOND-token", bot_id=222222)
    with no_proxy():
        data = open_data_dir(tmp_path)
        async with first_api, running_bot(first_api, data.desk, expert_chat_id=None):
            await Telegram(first_api).text(ASKER, ANSWERABLE)
            await first_api.wait_message(1001, "计量法")
        data.store.close()  # the desk is stopped and pointed at another bot token

        data = open_data_dir(tmp_path)
        try:
            async with second_api, running_bot(second_api, data.desk, expert_chat_id=None):
                tg = Telegram(second_api)
                sent = await tg.text(ASKER, FOOD)  # message id 1 again, in the same chat
                answered = await second_api.wait_message(1001, "食品安全法")
                await tg.text(ASKER, ANSWERABLE)
                again = await second_api.wait_message(1001, "计量法")
        finally:
            data.store.close()
    assert sent["message"]["message_id"] == 1
    assert answered.message_id < again.message_id


async def test_a_card_is_not_edited_again_with_what_it_already_shows(
    api: FakeBotApi, data_dir: DataDir
) -> None:
    tg = Telegram(api)
    async with running_bot(api, data_dir.desk) as channel:
        outbox = data_dir.dispatcher(channel)
        await tg.text(ASKER, BOILER)
        await api.wait_message(1001, "专家")
        await outbox.run_round()  # NEW_TICKET: the group card and the expert's own
        card = await api.wait_message(EXPERT_CHAT, BOILER)
        personal = await api.wait_message(2001, BOILER)
        ticket_id = int(card.button("认领").split(":")[1])
        await tg.press(WANG, card, card.button("认领"))
        await api.wait_for(lambda: "王工 已认领" in card.plain)
        await outbox.run_round()  # TICKET_CLAIMED: redraws the cards of the ticket
        await api.wait_for(lambda: "王工 已认领" in personal.plain)
        claimed = Notification(
            99, NotificationKind.TICKET_CLAIMED, GROUP_REF, "已认领", ticket_id=ticket_id
        )
        await channel.notifier.send(claimed)  # the same again: nothing to change

        # a card drawn before the desk remembered what cards show: Telegram says "not modified"
        StoreChannelMemory(data_dir.store).set_value(
            f"telegram-card:{EXPERT_CHAT}:{card.message_id}", ""
        )
        await channel.notifier.send(claimed)
        refused = [c for c in api.called("editMessageText") if c.status != 200]
        await channel.notifier.send(claimed)  # and now it is remembered
    edits = api.called("editMessageText")
    assert [len(card.edits), len(personal.edits)] == [1, 1]  # each redrawn once, when claimed
    assert len(refused) == 1 and len(edits) == 3  # the one harmless "not modified"
    assert "王工 已认领" in card.plain and "王工 已认领" in personal.plain


async def test_an_answer_from_the_command_line_is_signed_as_an_expert(
    api: FakeBotApi, data_dir: DataDir
) -> None:
    tg = Telegram(api)
    cli = typer.Typer()
    register(cli, lambda: data_dir.desk)
    async with running_bot(api, data_dir.desk) as channel:
        outbox = data_dir.dispatcher(channel)
        await tg.text(ASKER, BOILER)
        await api.wait_message(1001, "专家")
        await outbox.run_round()
        card = await api.wait_message(EXPERT_CHAT, BOILER)
        ticket_id = int(card.button("认领").split(":")[1])
        text = "锅炉属于特种设备，应当定期检验。"
        result = CliRunner().invoke(cli, ["tickets", "answer", str(ticket_id), "--text", text])
        assert result.exit_code == 0, result.output
        await outbox.run_round()  # the answer to the asker, the cards redrawn
        delivered = await api.wait_message(1001, text)
        await api.wait_for(lambda: "已答复" in card.plain)
    assert "console" not in delivered.plain and "console" not in card.plain
    expert = prompts.text("desk.notify.unnamed_expert")
    domain = domain_label(data_dir.desk.ticket(GROUP_REF, ticket_id).domain)
    signed = prompts.text("desk.notify.expert_signature_unnamed", domain=domain)
    assert f"{signed}答复如下" in delivered.plain
    assert prompts.text("telegram.card.state_answered", name=expert) in card.plain
