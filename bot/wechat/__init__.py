"""The WeChat Official Account (公众号) channel: callbacks at ``/wechat``, answers inside
WeChat's 5-second rule, customer-service messages and held replies, expert answers from the
outbox, new tickets to a WeCom group robot. ``build_wechat_channel`` is the entry point."""

from bot.wechat.notifier import WECOM_ROBOT
from bot.wechat.runtime import WeChatChannel, build_wechat_channel

__all__ = ["WECOM_ROBOT", "WeChatChannel", "build_wechat_channel"]
