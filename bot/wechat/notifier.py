"""The outbox's way into WeChat (``core.ports.Notifier``).

* ``EXPERT_ANSWER`` reaches the asker as customer-service messages while the 48-hour window is
  open (``desk.last_inbound``; WeChat's own 45015 decides too), ending with "回复 1 有用，回复 2
  没解决" (the interaction is remembered for the 1 / 2). Outside the window, without permission
  (48001), to a user who unfollowed, or after the five messages a user message allows, the
  answer is held and becomes the reply to the asker's next message ("专家已回复您的问题：…").
  Nothing is lost: holding counts as delivered. WeChat unreachable before anything was sent
  raises :class:`DeliveryError`, and the outbox tries again later; a request that went out but
  whose answer was lost raises :class:`UncertainDelivery` (it may have arrived: never sent
  again). The outcome (``sent``, ``held``, ``partly_held``) is returned for the outbox to keep.
* ``DESK_REPLY`` — the desk's late reply to a question it kept during an outage — is pushed (or
  held) like an answer, with "回复 1 有用…" when the desk offers feedback on it.
* ``NEW_TICKET`` / ``REANNOUNCE`` addressed to :data:`WECOM_ROBOT` (an expert destination of the
  desk) go to the experts' WeCom group robot; addressed to an expert who uses WeChat, they are
  pushed like an answer (or held for the expert's next message).
* ``TICKET_CLAIMED`` has no card to redraw on WeChat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import prompts
from bot.wechat.api_client import WeChatApiError
from bot.wechat.outbound import Pushed, Pusher
from bot.wechat.state import WeChatState
from bot.wechat.wecom_robot import WeComRobot
from core.errors import DeliveryError, PermanentDeliveryError, UncertainDelivery
from core.people import Channel, UserRef
from core.tickets import Notification, NotificationKind

log = logging.getLogger(__name__)

WECOM_ROBOT = UserRef(Channel.WECHAT, "wecom-robot", display_name="企业微信专家群")
"""The experts' WeCom group, as a shared expert destination of the desk."""

ANNOUNCEMENTS = frozenset({NotificationKind.NEW_TICKET, NotificationKind.REANNOUNCE})
TO_ASKERS = frozenset({NotificationKind.EXPERT_ANSWER, NotificationKind.DESK_REPLY})


class WeChatNotifier:
    def __init__(
        self,
        pusher: Pusher,
        state: WeChatState,
        robot: WeComRobot | None,
        ready: Callable[[], bool],
    ) -> None:
        self._pusher = pusher
        self._state = state
        self._robot = robot
        self._ready = ready

    async def send(self, notification: Notification) -> str | None:
        n = notification
        if not self._ready():
            raise DeliveryError("wechat channel not started", notification_id=n.notification_id)
        if n.recipient.channel is not Channel.WECHAT:
            raise PermanentDeliveryError(
                f"not a WeChat recipient: {n.recipient.key}", notification_id=n.notification_id
            )
        if n.kind is NotificationKind.TICKET_CLAIMED:
            log.info("wechat_nothing_to_redraw ticket_id=%s", n.ticket_id)
            return None
        if n.kind not in ANNOUNCEMENTS and n.kind not in TO_ASKERS:
            raise PermanentDeliveryError(f"unknown notification kind {n.kind}")
        if n.recipient.user_id == WECOM_ROBOT.user_id:
            await self._announce(n)
            return None
        interaction = n.data.get("interaction_id", "")
        if n.kind is NotificationKind.EXPERT_ANSWER:
            text = f"{n.text.strip()}\n\n{prompts.text('wechat.expert_feedback_hint')}"
            outcome = await self._push(n, text, expert_answer_text(n))
            if outcome is not Pushed.HELD and interaction.isdigit():
                await self._state.set_last_interaction(n.recipient, int(interaction))
        elif n.kind is NotificationKind.DESK_REPLY:
            feedback = interaction.isdigit() and n.data.get("feedback") == "1"
            hint = f"\n\n{prompts.text('wechat.feedback_hint')}" if feedback else ""
            outcome = await self._push(n, f"{n.text.strip()}{hint}", n.text)
            if outcome is not Pushed.HELD and feedback:
                await self._state.set_last_interaction(n.recipient, int(interaction))
        else:
            outcome = await self._push(n, n.text, n.text)
        log.info(
            "delivered notification_id=%s kind=%s ticket_id=%s outcome=%s",
            n.notification_id,
            n.kind.value,
            n.ticket_id,
            outcome.value,
        )
        return outcome.value

    async def _announce(self, n: Notification) -> None:
        if n.kind not in ANNOUNCEMENTS:
            raise PermanentDeliveryError("the WeCom robot only announces tickets")
        if self._robot is None:
            raise PermanentDeliveryError(
                "no WeCom robot configured", notification_id=n.notification_id
            )
        await self._robot.announce(n)

    async def _push(self, n: Notification, text: str, held: str) -> Pushed:
        try:
            return await self._pusher.push(
                n.recipient, text, check_window=True, hold_transient=False, held_text=held
            )
        except WeChatApiError as exc:
            log.warning(
                "delivery_failed notification_id=%s errcode=%s", n.notification_id, exc.errcode
            )
            if exc.may_have_arrived and n.kind in TO_ASKERS:
                raise UncertainDelivery(str(exc), notification_id=n.notification_id) from None
            raise DeliveryError(str(exc), notification_id=n.notification_id) from None


def expert_answer_text(n: Notification) -> str:
    """The held form of an expert's answer, "专家已回复您的问题：…", from the notification's
    fields when it has them, else from its text (which is not prefixed twice)."""
    answer = n.data.get("answer", "").strip()
    question = n.data.get("question", "").strip()
    if answer and question:
        return prompts.text("wechat.expert_answer_about", question=question, answer=answer)
    text = answer or n.text.strip()
    prefix = prompts.text("wechat.expert_answer", answer="").strip()
    if text.startswith(prefix):
        return text
    return prompts.text("wechat.expert_answer", answer=text)
