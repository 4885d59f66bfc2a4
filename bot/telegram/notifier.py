"""The outbox's way into Telegram (``core.ports.Notifier``).

* ``EXPERT_ANSWER`` goes to the asker's chat, with 有用 / 没解决 / 转人工专家 under it;
  ``DESK_REPLY`` (the desk's late reply to a question it kept during an outage) too, with the
  feedback buttons when the desk names the interaction. Each message is announced to the outbox
  before it is sent (``core.delivery.about_to_send``); the message ids sent are returned for
  the outbox to keep; a retry after a partial send (a long answer is several messages) sends
  only the messages not yet delivered.
* ``NEW_TICKET`` and ``REANNOUNCE`` post a ticket card (to the expert group when the desk
  addresses the group, else to the expert it names) and record it with
  ``memory.link_ticket_message`` so replies to it find the ticket, after a restart too. A
  ``NEW_TICKET`` whose card is already in that chat (a retry after a partial failure) posts
  nothing.
* ``TICKET_CLAIMED`` redraws the ticket's cards.

Errors become the desk's delivery errors: a user who blocked the bot (403) or a request
Telegram will never accept (400) is :class:`PermanentDeliveryError`; a 429 is a
:class:`DeliveryError` with Telegram's ``retry_after`` at once (the outbox reschedules it rather
than this send waiting), and so is a network failure Telegram certainly did not act on. A
message to an asker whose request went out but whose answer was lost is
:class:`UncertainDelivery`: it may be in the chat, it is not sent again. (A card for experts is
retried instead: a second card is better than none.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.telegram import keyboards
from bot.telegram.cards import card_text
from bot.telegram.network import NO_WAITING, may_have_arrived, retry_after_seconds
from bot.telegram.render import bold, escape, html_text, plain_messages
from bot.telegram.sending import post_card, refresh_cards, send_html
from bot.telegram.services import CHANNEL, BotServices
from core import delivery
from core.errors import (
    DeliveryError,
    NotPermitted,
    PermanentDeliveryError,
    QadeskError,
    TicketNotFound,
    UncertainDelivery,
)
from core.people import UserRef
from core.tickets import Notification, NotificationKind, Ticket, TicketStatus

log = logging.getLogger(__name__)

TO_ASKERS = frozenset({NotificationKind.EXPERT_ANSWER, NotificationKind.DESK_REPLY})


class _Interrupted(Exception):
    """A Telegram error after ``progress`` (the messages already delivered) went out."""

    def __init__(self, error: TelegramError, progress: str) -> None:
        self.error = error
        self.progress = progress
        super().__init__(str(error))


class TelegramNotifier:
    def __init__(self, services: BotServices, bot: Bot, ready: Callable[[], bool]) -> None:
        self._services = services
        self._bot = bot
        self._ready = ready

    async def send(self, notification: Notification) -> str | None:
        n = notification
        if not self._ready():
            raise DeliveryError("telegram channel not started", notification_id=n.notification_id)
        ref: str | None = None
        try:
            match n.kind:
                case NotificationKind.EXPERT_ANSWER:
                    ref = await self._expert_answer(n)
                case NotificationKind.DESK_REPLY:
                    ref = await self._desk_reply(n)
                case NotificationKind.NEW_TICKET | NotificationKind.REANNOUNCE:
                    await self._card(n)
                case NotificationKind.TICKET_CLAIMED:
                    await self._claimed(n)
                case _:
                    raise PermanentDeliveryError(f"unknown notification kind {n.kind}")
        except _Interrupted as stopped:
            raise self._failure(n, stopped.error, stopped.progress) from stopped.error
        except TelegramError as exc:
            raise self._failure(n, exc, "") from exc
        log.info(
            "delivered notification_id=%s kind=%s ticket_id=%s ref=%s",
            n.notification_id,
            n.kind.value,
            n.ticket_id,
            ref,
        )
        return ref

    def _failure(self, n: Notification, exc: TelegramError, progress: str) -> DeliveryError:
        """The delivery error the outbox acts on for ``exc``."""
        nid = n.notification_id
        if isinstance(exc, Forbidden | BadRequest):
            event = "delivery_refused" if isinstance(exc, Forbidden) else "delivery_rejected"
            log.info(
                "%s notification_id=%s recipient=%s error=%s", event, nid, n.recipient.key, exc
            )
            return PermanentDeliveryError(str(exc), notification_id=nid)
        log.warning(
            "delivery_failed notification_id=%s recipient=%s error=%s", nid, n.recipient.key, exc
        )
        if isinstance(exc, RetryAfter):
            seconds = retry_after_seconds(exc)
            return DeliveryError(
                str(exc), retry_after=seconds, progress=progress, notification_id=nid
            )
        if isinstance(exc, NetworkError) and may_have_arrived(exc) and n.kind in TO_ASKERS:
            return UncertainDelivery(str(exc), progress=progress, notification_id=nid)
        return DeliveryError(str(exc), progress=progress, notification_id=nid)  # 401/404, 5xx…

    async def _expert_answer(self, n: Notification) -> str:
        messages = plain_messages(n.text)
        markup = None
        if n.ticket_id is not None:
            title = html_text("telegram.notify.expert_answer_title", ticket_id=n.ticket_id)
            messages[0] = f"{bold(title)}\n\n{messages[0]}"
            interaction = n.data.get("interaction_id", "")
            markup = (  # feedback on the answer itself when the desk names it, else on the ticket
                keyboards.answer_feedback(int(interaction))
                if interaction.isdigit()
                else keyboards.expert_answer_feedback(n.ticket_id, None)
            )
        return await self._to_asker(n, messages, markup)

    async def _desk_reply(self, n: Notification) -> str:
        messages = plain_messages(n.text)
        interaction = n.data.get("interaction_id", "")
        markup = None
        if interaction.isdigit() and n.data.get("feedback") == "1":
            markup = keyboards.answer_feedback(int(interaction))
            messages[-1] += f"\n\n<i>{html_text('telegram.ask.answer_footer')}</i>"
        return await self._to_asker(n, messages, markup)

    async def _to_asker(
        self, n: Notification, messages: list[str], markup: InlineKeyboardMarkup | None
    ) -> str:
        """Send the messages an earlier attempt did not deliver (``n.progress``); the ref of
        every message delivered for this notification (``chat:id,id``)."""
        chat = n.recipient.address
        delivered = _delivered_ids(n.progress, chat)
        last = len(messages) - 1
        for index, text in enumerate(messages):
            if index < len(delivered):
                continue
            await delivery.about_to_send(_ref(chat, delivered))  # the outbox notes it first
            try:
                [message] = await send_html(
                    self._bot,
                    chat,
                    [text],
                    markup if index == last else None,
                    rate_limit_args=NO_WAITING,
                )
            except TelegramError as exc:
                raise _Interrupted(exc, _ref(chat, delivered)) from exc
            delivered.append(str(message.message_id))
        return _ref(chat, delivered)

    async def _ticket(self, n: Notification) -> Ticket | None:
        if n.ticket_id is None:
            return None
        try:
            return await self._services.call(self._services.desk.ticket, n.recipient, n.ticket_id)
        except (NotPermitted, TicketNotFound) as exc:
            log.info("card_from_text ticket_id=%s reason=%s", n.ticket_id, exc.code)
            return None
        except QadeskError as exc:
            raise DeliveryError(exc.detail, ticket_id=n.ticket_id) from exc

    def _card_chat(self, recipient: UserRef) -> int | str:
        """Where a card goes: the expert group when it is the recipient, else the recipient's
        own chat (an expert the desk notifies personally)."""
        group = self._services.expert_chat_id
        if group is not None and str(group) in (recipient.address, recipient.user_id):
            return group
        return recipient.address

    async def _card(self, n: Notification) -> None:
        if n.ticket_id is None:
            raise PermanentDeliveryError("card without a ticket", notification_id=n.notification_id)
        chat_id = self._card_chat(n.recipient)
        again = n.kind is NotificationKind.REANNOUNCE
        if not again:
            refs = await self._services.state(
                self._services.memory.ticket_messages, n.ticket_id, CHANNEL
            )
            if any(ref.startswith(f"{chat_id}:") for ref in refs):
                log.info("card_exists ticket_id=%s chat_id=%s", n.ticket_id, chat_id)
                return
        ticket = await self._ticket(n)
        if ticket is not None and again:  # older cards in this chat show the state it is in now
            await refresh_cards(self._bot, self._services, ticket, chat_id=chat_id)
        if ticket is not None:
            text, markup = card_text(ticket, again=again), keyboards.card(ticket)
        else:  # the desk would not show us the ticket: the notification's own text
            key = "telegram.card.title_again" if again else "telegram.card.title"
            text = f"🆕 {bold(html_text(key, ticket_id=n.ticket_id))}\n\n{escape(n.text)}"
            markup = keyboards.card_for(n.ticket_id, TicketStatus.OPEN)
        await post_card(self._bot, self._services, chat_id, n.ticket_id, text, markup)

    async def _claimed(self, n: Notification) -> None:
        ticket = await self._ticket(n)
        if ticket is not None:
            await refresh_cards(self._bot, self._services, ticket)


def _ref(chat: int | str, message_ids: list[str]) -> str:
    return f"{chat}:{','.join(message_ids)}" if message_ids else ""


def _delivered_ids(progress: str, chat: int | str) -> list[str]:
    """The message ids an earlier attempt delivered to ``chat`` (from its ref)."""
    where, _, ids = progress.partition(":")
    if where != str(chat) or not ids:
        return []
    return [i for i in ids.split(",") if i.isdigit()]
