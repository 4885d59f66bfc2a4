"""The outbox's way into WeChat (``core.ports.Notifier``).

* ``EXPERT_ANSWER`` reaches the asker as customer-service messages while the 48-hour window is
  open (``desk.last_inbound``; WeChat's own 45015 decides too). Outside it, without permission
  (48001), or after the five messages a user message allows, the answer is held and becomes the
  reply to the asker's next message ("专家已回复您的问题：…"). Nothing is lost: holding counts as
  delivered. WeChat unreachable before anything was sent raises :class:`DeliveryError`, and the
  outbox tries again later.
* ``NEW_TICKET`` / ``REANNOUNCE`` go to the experts' WeCom group robot when one is configured.
* ``TICKET_CLAIMED`` has nothing to redraw on WeChat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import prompts
from bot.wechat.api_client import WeChatApiError
from bot.wechat.outbound import Pusher
from bot.wechat.wecom_robot import WeComRobot
from core.errors import DeliveryError, PermanentDeliveryError
from core.people import Channel
from core.tickets import Notification, NotificationKind

log = logging.getLogger(__name__)


class WeChatNotifier:
    def __init__(self, pusher: Pusher, robot: WeComRobot | None, ready: Callable[[], bool]) -> None:
        self._pusher = pusher
        self._robot = robot
        self._ready = ready

    async def send(self, notification: Notification) -> None:
        n = notification
        if not self._ready():
            raise DeliveryError("wechat channel not started", notification_id=n.notification_id)
        match n.kind:
            case NotificationKind.EXPERT_ANSWER:
                await self._expert_answer(n)
            case NotificationKind.NEW_TICKET | NotificationKind.REANNOUNCE:
                if self._robot is None:
                    raise PermanentDeliveryError(
                        "no WeCom robot configured", notification_id=n.notification_id
                    )
                await self._robot.announce(n)
            case NotificationKind.TICKET_CLAIMED:
                log.info("wechat_nothing_to_redraw ticket_id=%s", n.ticket_id)
            case _:
                raise PermanentDeliveryError(f"unknown notification kind {n.kind}")

    async def _expert_answer(self, n: Notification) -> None:
        if n.recipient.channel is not Channel.WECHAT:
            raise PermanentDeliveryError(
                f"not a WeChat user: {n.recipient.key}", notification_id=n.notification_id
            )
        try:
            outcome = await self._pusher.push(
                n.recipient, expert_answer_text(n), check_window=True, hold_transient=False
            )
        except WeChatApiError as exc:
            log.warning(
                "delivery_failed notification_id=%s errcode=%s", n.notification_id, exc.errcode
            )
            raise DeliveryError(str(exc), notification_id=n.notification_id) from None
        log.info(
            "delivered notification_id=%s kind=%s ticket_id=%s outcome=%s",
            n.notification_id,
            n.kind.value,
            n.ticket_id,
            outcome.value,
        )


def expert_answer_text(n: Notification) -> str:
    """The text "专家已回复您的问题：…", from the notification's fields when it has them, else
    from its text (which is not prefixed twice)."""
    answer = n.data.get("answer", "").strip()
    question = n.data.get("question", "").strip()
    if answer and question:
        return prompts.text("wechat.expert_answer_about", question=question, answer=answer)
    text = answer or n.text.strip()
    prefix = prompts.text("wechat.expert_answer", answer="").strip()
    if text.startswith(prefix):
        return text
    return prompts.text("wechat.expert_answer", answer=text)
