"""The outbox's way into Telegram (``core.ports.Notifier``).

* ``EXPERT_ANSWER`` goes to the asker's chat, with 有用 / 没解决 / 转人工专家 under it.
* ``NEW_TICKET`` and ``REANNOUNCE`` post a ticket card (to the expert group when the desk
  addresses the group, else to the expert it names) and record it with
  ``desk.link_ticket_message`` so replies to it find the ticket, after a restart too. A
  ``NEW_TICKET`` whose card is already in that chat (a retry after a partial failure) posts
  nothing.
* ``TICKET_CLAIMED`` redraws the ticket's cards.

Errors become the desk's delivery errors: a user who blocked the bot (403) or a request
Telegram will never accept (400) is :class:`PermanentDeliveryError`; a 429 that outlasted the
rate limiter's retries, or a network failure, is :class:`DeliveryError` (the outbox retries).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError

from core.errors import (
    DeliveryError,
    NotPermitted,
    PermanentDeliveryError,
    QadeskError,
    TicketNotFound,
)
from core.people import UserRef
from core.tickets import Notification, NotificationKind, Ticket, TicketStatus

from . import keyboards
from .cards import card_text
from .render import bold, escape, html_text, plain_messages
from .sending import post_card, refresh_cards, send_html
from .services import CHANNEL, BotServices

log = logging.getLogger(__name__)


class TelegramNotifier:
    def __init__(self, services: BotServices, bot: Bot, ready: Callable[[], bool]) -> None:
        self._services = services
        self._bot = bot
        self._ready = ready

    async def send(self, notification: Notification) -> None:
        n = notification
        if not self._ready():
            raise DeliveryError("telegram channel not started", notification_id=n.notification_id)
        try:
            match n.kind:
                case NotificationKind.EXPERT_ANSWER:
                    await self._expert_answer(n)
                case NotificationKind.NEW_TICKET | NotificationKind.REANNOUNCE:
                    await self._card(n)
                case NotificationKind.TICKET_CLAIMED:
                    await self._claimed(n)
                case _:
                    raise PermanentDeliveryError(f"unknown notification kind {n.kind}")
        except Forbidden as exc:
            log.info(
                "delivery_refused notification_id=%s recipient=%s error=%s",
                n.notification_id,
                n.recipient.key,
                exc,
            )
            raise PermanentDeliveryError(str(exc), notification_id=n.notification_id) from exc
        except BadRequest as exc:
            log.warning(
                "delivery_rejected notification_id=%s recipient=%s error=%s",
                n.notification_id,
                n.recipient.key,
                exc,
            )
            raise PermanentDeliveryError(str(exc), notification_id=n.notification_id) from exc
        except (InvalidToken, TelegramError) as exc:  # RetryAfter, NetworkError, TimedOut…
            log.warning(
                "delivery_failed notification_id=%s recipient=%s error=%s",
                n.notification_id,
                n.recipient.key,
                exc,
            )
            raise DeliveryError(str(exc), notification_id=n.notification_id) from exc
        log.info(
            "delivered notification_id=%s kind=%s ticket_id=%s",
            n.notification_id,
            n.kind.value,
            n.ticket_id,
        )

    async def _expert_answer(self, n: Notification) -> None:
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
        await send_html(self._bot, n.recipient.address, messages, markup)

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
                self._services.desk.ticket_messages, n.ticket_id, CHANNEL
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
