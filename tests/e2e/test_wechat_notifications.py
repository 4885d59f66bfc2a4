"""Expert answers from the outbox, inside and outside the 48-hour window, and new tickets
announced to the experts' WeCom group robot."""

from __future__ import annotations

import socket
import time

import pytest

import prompts
from bot.wechat import WECOM_ROBOT, build_wechat_channel
from core.errors import DeliveryError, PermanentDeliveryError
from core.people import Channel, Role, UserRef
from core.tickets import Notification, NotificationKind
from tests.fakes.wechat_platform import WatchedDesk, new_openid, wechat_rig

pytestmark = pytest.mark.e2e

EXPERT = UserRef(Channel.TELEGRAM, "900")
EXPERT_TEXT = "锅炉属于特种设备，应当按规定定期检验。"
PREFIX = prompts.text("wechat.expert_answer", answer="").strip()


def expert_desk() -> WatchedDesk:
    return WatchedDesk(roles={EXPERT.key: Role.EXPERT})


def answer(desk: WatchedDesk, user: UserRef, notification_id: int = 1) -> Notification:
    (ticket,) = desk.my_tickets(user)
    desk.answer_ticket(EXPERT, ticket.ticket_id, EXPERT_TEXT)
    (interaction,) = [i for i, (u, _, _) in desk._interactions.items() if u == user]
    return Notification(
        notification_id,
        NotificationKind.EXPERT_ANSWER,
        user,
        EXPERT_TEXT,
        ticket.ticket_id,
        data={"interaction_id": str(interaction)},
    )


async def test_expert_answer_inside_the_window_is_pushed() -> None:
    desk = expert_desk()
    openid = new_openid()
    user = UserRef(Channel.WECHAT, openid)
    async with wechat_rig(desk) as rig:
        asked = await rig.platform.send_text(openid, "锅炉要年检吗？")
        assert asked.reply is not None and "工单号" in asked.reply
        note = answer(desk, user)
        await rig.channel.notifier.send(note)
        pushed = await rig.api.wait_sent(openid, 1)
        thanks = await rig.platform.send_text(openid, "1")  # feedback on the expert's answer
    assert pushed == [f"{EXPERT_TEXT}\n\n{prompts.text('wechat.expert_feedback_hint')}"]
    assert desk.holds == []
    assert desk.feedbacks == [(user, int(note.data["interaction_id"]), True)]
    assert thanks.reply == "感谢反馈！"


async def test_expert_answer_outside_the_window_waits_for_the_next_message() -> None:
    desk = expert_desk()
    openid = new_openid()
    user = UserRef(Channel.WECHAT, openid)
    async with wechat_rig(desk) as rig:
        await rig.platform.send_text(openid, "锅炉要年检吗？")
        desk.make_stale(user)  # the asker last wrote 49 hours ago
        await rig.channel.notifier.send(answer(desk, user))
        assert rig.api.send_requests == 0  # not even tried: WeChat would refuse (45015)
        assert len(desk.holds) == 1
        later = await rig.platform.send_text(openid, "3C认证？")
    assert later.violations == []
    assert later.reply is not None
    assert later.reply.startswith(f"{PREFIX}\n{EXPERT_TEXT}")
    assert "列入目录的产品须经强制性产品认证。" in later.reply  # and the new question's answer


async def test_window_closed_on_wechats_side_holds_too() -> None:
    desk = expert_desk()
    openid = new_openid()
    user = UserRef(Channel.WECHAT, openid)
    async with wechat_rig(desk) as rig:
        await rig.platform.send_text(openid, "锅炉要年检吗？")
        rig.api.note_inbound(openid, at=time.time() - 49 * 3600)  # WeChat disagrees: 45015
        await rig.channel.notifier.send(answer(desk, user))
        assert rig.api.refused == [(openid, 45015)]
        later = await rig.platform.send_text(openid, "0")
    assert later.reply == prompts.text("wechat.expert_answer", answer=EXPERT_TEXT)
    assert rig.api.texts_to(openid) == []


async def test_unfollowed_asker_gets_the_answer_when_back() -> None:
    desk = expert_desk()
    openid = new_openid()
    user = UserRef(Channel.WECHAT, openid)
    async with wechat_rig(desk) as rig:
        await rig.platform.send_text(openid, "锅炉要年检吗？")
        await rig.platform.send_event(openid, "unsubscribe")
        await rig.channel.notifier.send(answer(desk, user))
        assert rig.api.send_requests == 0
        back = await rig.platform.send_event(openid, "subscribe")
    assert back.reply is not None and back.reply.startswith(PREFIX)
    assert EXPERT_TEXT in back.reply


async def test_held_expert_answer_built_from_question_and_answer() -> None:
    desk = expert_desk()
    openid = new_openid()
    user = UserRef(Channel.WECHAT, openid)
    async with wechat_rig(desk) as rig:
        await rig.platform.send_text(openid, "锅炉要年检吗？")
        desk.make_stale(user)
        note = answer(desk, user)
        detailed = Notification(
            2,
            note.kind,
            user,
            "……",
            note.ticket_id,
            data={"question": "锅炉要年检吗？", "answer": EXPERT_TEXT},
        )
        await rig.channel.notifier.send(detailed)
        shown = await rig.platform.send_text(openid, "0")
    assert shown.reply == prompts.text(
        "wechat.expert_answer_about", question="锅炉要年检吗？", answer=EXPERT_TEXT
    )


async def test_unreachable_api_leaves_the_answer_to_the_outbox() -> None:
    desk = expert_desk()
    user = UserRef(Channel.WECHAT, new_openid())
    desk.memory.record_inbound(user, "wechat:msg:1")  # the window is open
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    channel = build_wechat_channel(
        desk,
        desk.memory,
        token="t",
        aes_key=None,
        app_id="wx0123456789abcdef",
        app_secret="s",
        api_url=f"http://127.0.0.1:{closed_port}",
        wecom_robot_url=None,
    )
    await channel.start()
    try:
        with pytest.raises(DeliveryError) as failed:
            await channel.notifier.send(
                Notification(1, NotificationKind.EXPERT_ANSWER, user, EXPERT_TEXT, 1)
            )
    finally:
        await channel.stop()
    assert not isinstance(failed.value, PermanentDeliveryError)
    assert desk.holds == []  # the outbox tries again later; nothing is held twice


async def test_notifier_refuses_what_is_not_for_wechat() -> None:
    desk = expert_desk()
    async with wechat_rig(desk) as rig:
        telegram_user = UserRef(Channel.TELEGRAM, "5")
        with pytest.raises(PermanentDeliveryError):
            await rig.channel.notifier.send(
                Notification(1, NotificationKind.EXPERT_ANSWER, telegram_user, "x", 1)
            )
        with pytest.raises(PermanentDeliveryError):  # no robot configured
            await rig.channel.notifier.send(
                Notification(2, NotificationKind.NEW_TICKET, WECOM_ROBOT, "新问题", 1)
            )
        channel = rig.channel
    with pytest.raises(DeliveryError):  # stopped: the outbox keeps it for later
        await channel.notifier.send(
            Notification(3, NotificationKind.EXPERT_ANSWER, UserRef(Channel.WECHAT, "o"), "x", 1)
        )


async def test_new_tickets_reach_the_wecom_robot_within_its_limit() -> None:
    desk = expert_desk()
    async with wechat_rig(desk, robot=True) as rig:
        notifier = rig.channel.notifier
        for ticket_id in range(1, 21):
            await notifier.send(
                Notification(
                    ticket_id,
                    NotificationKind.NEW_TICKET,
                    WECOM_ROBOT,
                    f"问题{ticket_id}",
                    ticket_id,
                )
            )
        await notifier.send(Notification(21, NotificationKind.NEW_TICKET, WECOM_ROBOT, "问题1", 1))
        claimed = Notification(22, NotificationKind.TICKET_CLAIMED, WECOM_ROBOT, "已认领", 1)
        await notifier.send(claimed)  # nothing to redraw in a group chat
        with pytest.raises(DeliveryError):  # the 21st message in a minute would be refused
            await notifier.send(
                Notification(23, NotificationKind.REANNOUNCE, WECOM_ROBOT, "问题1", 1)
            )
    assert len(rig.api.robot_messages) == 20  # ticket 1 announced once, never a 45009
    assert rig.api.robot_messages[0] == prompts.text(
        "wechat.robot_new_ticket", ticket_id=1, text="问题1"
    )
    assert desk.memory.ticket_messages(1, "wecom") == ["robot:1"]


async def test_new_ticket_for_an_expert_on_wechat_is_pushed() -> None:
    desk = expert_desk()
    openid = new_openid()
    expert = UserRef(Channel.WECHAT, openid)
    async with wechat_rig(desk, robot=True) as rig:
        await rig.platform.send_event(openid, "subscribe")  # the expert wrote recently
        await rig.channel.notifier.send(
            Notification(1, NotificationKind.NEW_TICKET, expert, "新问题 #1", 1)
        )
        pushed = await rig.api.wait_sent(openid, 1)
    assert pushed == ["新问题 #1"]
    assert rig.api.robot_messages == []
