"""Sending, editing and "typing…": the few ways the bot writes to Telegram.

Every text goes out in HTML parse mode, already escaped by :mod:`.render`. Long texts arrive
here as several messages; buttons go under the last one.

What each ticket card shows is remembered in the desk's channel state
(``telegram-card:<chat_id>:<message_id>``: a digest of its text and buttons), so a card is only
edited when its content changes, by whichever worker redraws it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.telegram import keyboards
from bot.telegram.cards import card_text
from bot.telegram.services import CHANNEL, BotServices, message_ref, parse_message_ref
from core.tickets import Ticket

log = logging.getLogger(__name__)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send_html(
    bot: Bot,
    chat_id: int | str,
    messages: Sequence[str],
    reply_markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
    rate_limit_args: int | None = None,
) -> list[Message]:
    """Send escaped HTML ``messages`` in order; buttons under the last one.
    ``rate_limit_args``: see :mod:`.network` (``NO_WAITING``: raise a 429 at once)."""
    extra: dict[str, Any] = {} if rate_limit_args is None else {"rate_limit_args": rate_limit_args}
    sent: list[Message] = []
    last = len(messages) - 1
    for index, text in enumerate(messages):
        reply = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to is not None and index == 0
            else None
        )
        sent.append(
            await bot.send_message(
                chat_id=chat_id,
                text=text,
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
                reply_markup=reply_markup if index == last else None,
                reply_parameters=reply,
                **extra,
            )
        )
    return sent


async def edit_html(
    bot: Bot,
    chat_id: int | str,
    message_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit a message; editing to identical content is not an error."""
    try:
        await bot.edit_message_text(
            chat_id=chat_id,
            message_id=message_id,
            text=text,
            parse_mode=ParseMode.HTML,
            link_preview_options=_NO_PREVIEW,
            reply_markup=reply_markup,
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def drop_buttons(bot: Bot, chat_id: int | str, message_id: int) -> None:
    """Remove the buttons under a message (after they did their job); best effort."""
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except TelegramError as exc:
        log.debug("drop_buttons_failed chat_id=%s message_id=%s error=%s", chat_id, message_id, exc)


async def _chat_action(bot: Bot, chat_id: int | str) -> None:
    try:
        await bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
    except Forbidden:
        raise
    except TelegramError as exc:  # "typing…" is a courtesy; never fail an answer over it
        log.debug("typing_failed chat_id=%s error=%s", chat_id, exc)


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int | str, every_s: float) -> AsyncIterator[None]:
    """Show "typing…" at once, and again every ``every_s`` seconds until the block ends."""
    await _chat_action(bot, chat_id)

    async def repeat() -> None:
        while True:
            await asyncio.sleep(every_s)
            await _chat_action(bot, chat_id)

    task = asyncio.create_task(repeat(), name=f"typing:{chat_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TelegramError):
            await task


async def refresh_cards(
    bot: Bot, services: BotServices, ticket: Ticket, *, chat_id: int | str | None = None
) -> int:
    """Redraw every card that shows ``ticket`` (claimed, answered, published…), or only those
    in ``chat_id``; a card that already shows this is left alone. How many were edited."""
    refs = await services.state(services.memory.ticket_messages, ticket.ticket_id, CHANNEL)
    if chat_id is not None:
        refs = [ref for ref in refs if ref.startswith(f"{chat_id}:")]
    text, markup = card_text(ticket), keyboards.card(ticket)
    digest = card_digest(text, markup)
    updated = 0
    for ref in refs:
        drawn = _drawn_key(ref)
        if await services.state(services.memory.value, drawn) == digest:
            continue
        # noted first, so that a redraw starting meanwhile (another path, another worker)
        # leaves the card alone; forgotten again when the edit fails
        await services.state(services.memory.set_value, drawn, digest)
        card_chat, card_id = parse_message_ref(ref)
        try:
            await edit_html(bot, card_chat, card_id, text, markup)
        except TelegramError as exc:  # a deleted card must not stop the others
            await services.state(services.memory.set_value, drawn, "")
            log.warning(
                "card_refresh_failed ticket_id=%s ref=%s error=%s", ticket.ticket_id, ref, exc
            )
            continue
        updated += 1
    return updated


async def post_card(
    bot: Bot,
    services: BotServices,
    chat_id: int | str,
    ticket_id: int,
    text: str,
    markup: InlineKeyboardMarkup,
) -> Message:
    """Post a ticket card and remember it in the channel memory (replies to it answer the
    ticket)."""
    [message] = await send_html(bot, chat_id, [text], markup)
    ref = message_ref(message.chat_id, message.message_id)
    await services.state(services.memory.link_ticket_message, ticket_id, CHANNEL, ref)
    await services.state(services.memory.set_value, _drawn_key(ref), card_digest(text, markup))
    return message


def card_digest(text: str, markup: InlineKeyboardMarkup | None) -> str:
    """A short fingerprint of what a card shows (its HTML and its buttons)."""
    shown = text + "\0" + (markup.to_json() if markup is not None else "")
    return hashlib.sha256(shown.encode("utf-8")).hexdigest()[:24]


def _drawn_key(ref: str) -> str:
    return f"telegram-card:{ref}"
