"""The shared places every new ticket is announced, as the composition root builds them."""

from __future__ import annotations

from app import bootstrap
from app.settings import Settings
from bot.wechat.notifier import WECOM_ROBOT
from core.people import Channel


def test_the_expert_group_and_the_wecom_robot_when_their_channels_are_configured() -> None:
    assert bootstrap.expert_destinations(Settings(_env_file=None)) == []
    robot_without_wechat = Settings(_env_file=None, wecom_robot_url="http://127.0.0.1:9/robot")
    assert bootstrap.expert_destinations(robot_without_wechat) == []
    both = Settings(
        _env_file=None,
        telegram_token="123:abc",
        telegram_expert_chat_id=-100,
        wechat_token="token",
        wecom_robot_url="http://127.0.0.1:9/robot",
    )
    group, robot = bootstrap.expert_destinations(both)
    assert (group.channel, group.user_id, group.chat_id) == (Channel.TELEGRAM, "-100", "-100")
    assert robot == WECOM_ROBOT
