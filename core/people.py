"""Who talks to the desk, and on which channel."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import ConfigurationError


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


@dataclass(frozen=True, slots=True)
class Person:
    user: UserRef
    role: Role
    domains: tuple[Domain, ...] = ()

    @property
    def is_staff(self) -> bool:
        """Experts and admins may claim and answer tickets."""
        return self.role in (Role.EXPERT, Role.ADMIN)

    @property
    def takes_tickets(self) -> bool:
        """Whether new tickets are announced to this person: experts, and admins who listed
        domains of their own."""
        return self.role == Role.EXPERT or (self.role == Role.ADMIN and bool(self.domains))

    def covers(self, domain: Domain) -> bool:
        """An expert without domains covers them all."""
        return not self.domains or domain in self.domains


def user_from_key(key: str, display_name: str | None = None) -> UserRef:
    """``"telegram:123"`` → ``UserRef(TELEGRAM, "123")``; raises ConfigurationError if malformed."""
    channel, sep, user_id = key.strip().partition(":")
    if not sep or not user_id:
        raise ConfigurationError(f"not a channel:user_id key: {key!r}")
    try:
        return UserRef(Channel(channel.strip().lower()), user_id.strip(), None, display_name)
    except ValueError:
        raise ConfigurationError(f"unknown channel in {key!r}") from None
