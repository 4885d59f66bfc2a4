"""Who talks to the desk, and on which channel."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WECHAT = "wechat"
    CONSOLE = "console"  # CLI, `qadesk chat`


class Role(StrEnum):
    ASKER = "asker"
    EXPERT = "expert"
    ADMIN = "admin"


class Domain(StrEnum):
    """Expert domains (Chinese labels live in ``prompts/``)."""

    METROLOGY = "metrology"  # 计量
    STANDARDS = "standards"  # 标准
    CERTIFICATION = "certification"  # 认证认可
    TESTING = "testing"  # 检验检测
    QUALITY = "quality"  # 质量管理
    FOOD = "food"  # 食品
    OTHER = "other"  # 其他


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person on one channel: enough to reply to them there later.

    ``user_id`` is the channel's own id (Telegram user id, WeChat openid); ``chat_id`` is where
    replies go when it differs from the user (Telegram chat id).
    """

    channel: Channel
    user_id: str
    chat_id: str | None = None
    display_name: str | None = None

    @property
    def key(self) -> str:
        return f"{self.channel.value}:{self.user_id}"

    @property
    def address(self) -> str:
        """Where to deliver to on the channel (chat id when known, else the user id)."""
        return self.chat_id or self.user_id


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A text a channel adapter received, already stripped of protocol details."""

    user: UserRef
    text: str
    message_id: str | None = None
