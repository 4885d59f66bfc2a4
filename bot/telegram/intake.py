"""What every update passes before the handlers, and what happens when a handler fails.

:meth:`Intake.gate` runs first (handler group -1): it drops re-deliveries (the desk remembers
which updates any worker has seen, for a few days) and throttles a flooding sender in a private
chat.
Flood control counts messages by the time they were sent (Telegram's ``date``), so a backlog
released at once — after an outage or a restart — is not taken for a flood. When the desk's
store is unavailable the update cannot be checked against earlier deliveries; it is handled
anyway (the desk keeps the question and says so) rather than dropped.
:meth:`Intake.on_error` is the one error handler: it logs with context first, then tells the
user politely, unless the user blocked the bot.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Chat, ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus
from telegram.error import Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

import prompts
from bot.telegram.render import html_text
from bot.telegram.sending import send_html
from bot.telegram.services import BotServices, user_ref
from bot.telegram.throttle import Verdict
from core.errors import StoreUnavailable

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


def inbound_key(update: Update, bot_id: int) -> str:
    """A name for what the user did that stays unique for good: update ids restart after a quiet
    week, and message ids restart when the desk is moved to another bot. So: the bot, then the
    callback query, or the message in its chat with its date (with the edit's date for an
    edit), else the update."""
    if update.callback_query is not None:
        return f"telegram:{bot_id}:callback:{update.callback_query.id}"
    if update.edited_message is not None:
        edited = update.edited_message
        stamp = int(edited.edit_date.timestamp()) if edited.edit_date else 0
        return f"telegram:{bot_id}:edit:{edited.chat_id}:{edited.message_id}:{stamp}"
    if update.message is not None:
        message = update.message
        sent = int(message.date.timestamp())
        return f"telegram:{bot_id}:message:{message.chat_id}:{message.message_id}:{sent}"
    return f"telegram:{bot_id}:update:{update.update_id}"


def update_kind(update: Update) -> str:
    for kind in ("callback_query", "edited_message", "message", "my_chat_member"):
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


class Intake:
    def __init__(self, services: BotServices) -> None:
        self.s = services

    async def gate(self, update: Update, context: Context) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        if chat.type == Chat.PRIVATE:
            verdict = self.s.flood.check(str(user.id), self.sent_at(update))
            if verdict is not Verdict.ALLOW:
                log.info("throttled user_id=%s verdict=%s", user.id, verdict.value)
                await self._slow_down(update, context, verdict)
                raise ApplicationHandlerStop
        key = inbound_key(update, context.bot.id)
        try:
            first = await self.s.state(self.s.memory.record_inbound, user_ref(user), key)
        except StoreUnavailable as exc:
            log.warning("dedup_unavailable update_id=%s error=%s", update.update_id, exc.detail)
            first = True
        if not first:
            log.info("duplicate_update update_id=%s", update.update_id)
            raise ApplicationHandlerStop

    def sent_at(self, update: Update) -> float:
        """When the user sent this (seconds): the message's date, never later than now; for a
        button press, now."""
        now = self.s.clock()
        message = update.message or update.edited_message
        if message is None or update.callback_query is not None:
            return now
        moment = message.edit_date if update.edited_message is not None else message.date
        return min(moment.timestamp(), now) if moment is not None else now

    async def _slow_down(self, update: Update, context: Context, verdict: Verdict) -> None:
        busy = prompts.text("telegram.ask.busy")
        with contextlib.suppress(TelegramError):
            if update.callback_query is not None:
                await update.callback_query.answer(busy if verdict is Verdict.WARN else None)
            elif verdict is Verdict.WARN and update.effective_chat is not None:
                await send_html(
                    context.bot, update.effective_chat.id, [html_text("telegram.ask.busy")]
                )

    async def added_to_group(self, update: Update, context: Context) -> None:
        """The bot joined a group: the expert group is its place, any other gets one note."""
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None or change.chat.type == Chat.PRIVATE or self.s.is_expert_chat(change.chat):
            return
        joined = change.new_chat_member.status in (
            ChatMemberStatus.MEMBER,
            ChatMemberStatus.ADMINISTRATOR,
        )
        was_out = change.old_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
        if joined and was_out:
            log.info("added_to_group chat_id=%s", change.chat.id)
            await send_html(context.bot, change.chat.id, [html_text("telegram.unsupported.group")])

    async def on_error(self, update: object, context: Context) -> None:
        error = context.error
        tg_update = update if isinstance(update, Update) else None
        chat = tg_update.effective_chat if tg_update else None
        user = tg_update.effective_user if tg_update else None
        log.error(
            "handler_failed update_id=%s kind=%s chat_id=%s user_id=%s error=%r",
            tg_update.update_id if tg_update else None,
            update_kind(tg_update) if tg_update else type(update).__name__,
            chat.id if chat else None,
            user.id if user else None,
            error,
            exc_info=error,
        )
        if tg_update is None or isinstance(error, Forbidden):
            return  # nobody to tell, or the user blocked the bot: never retry
        with contextlib.suppress(TelegramError):
            if tg_update.callback_query is not None:
                await tg_update.callback_query.answer()
            if chat is not None and (chat.type == Chat.PRIVATE or self.s.is_expert_chat(chat)):
                await send_html(context.bot, chat.id, [html_text("telegram.error.generic")])
