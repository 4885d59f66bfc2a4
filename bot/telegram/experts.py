"""Handlers for experts: ticket cards in the expert group, answers, the queue, statistics.

Who may claim, answer or publish is the desk's decision (``NotPermitted``, ``AlreadyClaimed``);
these handlers only translate it. Which card shows which ticket lives in the desk's channel
state, so an expert can reply to a card posted before a restart.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.ext import ContextTypes

import prompts
from bot.telegram import keyboards
from bot.telegram.cards import original_messages
from bot.telegram.keyboards import Action, Kind
from bot.telegram.render import escape, html_text, queue_list, stats_text
from bot.telegram.sending import drop_buttons, refresh_cards, send_html
from bot.telegram.services import CHANNEL, BotServices, message_ref, user_ref
from core.errors import AlreadyClaimed, NotPermitted, QadeskError
from core.people import UserRef

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


def _refusal(exc: QadeskError) -> str:
    """Short text for a refused expert action (also fits a callback answer)."""
    if isinstance(exc, AlreadyClaimed):
        return prompts.text("telegram.expert.claimed_by_other", holder=exc.holder or "—")
    if isinstance(exc, NotPermitted):
        return prompts.text("telegram.expert.not_expert")
    return prompts.error_text(exc.code)


class ExpertHandlers:
    def __init__(self, services: BotServices) -> None:
        self.s = services

    # --- card buttons ---------------------------------------------------------------------
    async def press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        press = keyboards.decode(query.data)
        if press is None or press.kind is not Kind.TICKET:
            await query.answer(prompts.text("telegram.ask.unknown_button"), show_alert=True)
            return
        expert = user_ref(query.from_user)
        match press.action:
            case Action.CLAIM:
                await self._claim(context, query, expert, press.ident)
            case Action.VIEW:
                await self._view(context, query, expert, press.ident)
            case Action.PUBLISH:
                await self._publish(context, query, expert, press.ident)
            case _:
                await query.answer(prompts.text("telegram.ask.unknown_button"), show_alert=True)

    async def _claim(
        self, context: Context, query: CallbackQuery, expert: UserRef, ticket_id: int
    ) -> None:
        try:
            ticket = await self.s.call(self.s.desk.claim, expert, ticket_id)
        except QadeskError as exc:
            log.info(
                "claim_refused expert=%s ticket_id=%s code=%s", expert.key, ticket_id, exc.code
            )
            await query.answer(_refusal(exc)[:200], show_alert=True)
            return
        log.info("claimed expert=%s ticket_id=%s", expert.key, ticket_id)
        await query.answer(prompts.text("telegram.expert.claimed", ticket_id=ticket_id)[:200])
        await refresh_cards(context.bot, self.s, ticket)

    async def _view(
        self, context: Context, query: CallbackQuery, expert: UserRef, ticket_id: int
    ) -> None:
        try:
            ticket = await self.s.call(self.s.desk.ticket, expert, ticket_id)
        except QadeskError as exc:
            await query.answer(_refusal(exc)[:200], show_alert=True)
            return
        await query.answer()
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat_id if message else query.from_user.id
        await send_html(
            context.bot,
            chat_id,
            original_messages(ticket),
            reply_to=message.message_id if message else None,
        )

    async def _publish(
        self, context: Context, query: CallbackQuery, expert: UserRef, ticket_id: int
    ) -> None:
        try:
            entry = await self.s.call(self.s.desk.publish, expert, ticket_id)
            ticket = await self.s.call(self.s.desk.ticket, expert, ticket_id)
        except QadeskError as exc:
            await query.answer(_refusal(exc)[:200], show_alert=True)
            return
        log.info("published expert=%s ticket_id=%s faq_id=%s", expert.key, ticket_id, entry.faq_id)
        await query.answer(prompts.text("telegram.expert.published", faq_id=entry.faq_id)[:200])
        if isinstance(query.message, Message):
            refs = await self.s.state(self.s.memory.ticket_messages, ticket_id, CHANNEL)
            here = message_ref(query.message.chat_id, query.message.message_id)
            if here not in refs:  # the confirmation under an answer, not a card
                await drop_buttons(context.bot, query.message.chat_id, query.message.message_id)
        await refresh_cards(context.bot, self.s, ticket)

    # --- answers --------------------------------------------------------------------------
    async def reply_to_card(self, update: Update, context: Context) -> bool:
        """A reply to a ticket card (in the expert group, or a card sent to an expert
        privately) is that ticket's answer. False when the reply is to something else."""
        message = update.effective_message
        if message is None or message.reply_to_message is None or message.from_user is None:
            return False
        card = message.reply_to_message
        ref = message_ref(card.chat_id, card.message_id)
        ticket_id = await self.s.state(self.s.memory.ticket_for_message, CHANNEL, ref)
        if ticket_id is None:
            return False  # ordinary group conversation, or an asker quoting an answer
        expert = user_ref(message.from_user)
        await self._answer(context, message, expert, ticket_id, message.text or "")
        return True

    async def answer_command(self, update: Update, context: Context) -> None:
        """/answer ID 文本 — the text keeps its line breaks."""
        message = update.effective_message
        if message is None or message.from_user is None or message.text is None:
            return
        parts = message.text.split(maxsplit=2)
        if len(parts) < 2 or not parts[1].lstrip("#").isdigit():
            await send_html(
                context.bot,
                message.chat_id,
                [html_text("telegram.expert.answer_usage")],
                reply_to=message.message_id,
            )
            return
        text = parts[2] if len(parts) > 2 else ""
        ticket_id = int(parts[1].lstrip("#"))
        await self._answer(context, message, user_ref(message.from_user), ticket_id, text)

    async def _answer(
        self, context: Context, message: Message, expert: UserRef, ticket_id: int, text: str
    ) -> None:
        if not text.strip():
            await send_html(
                context.bot,
                message.chat_id,
                [html_text("telegram.expert.answer_empty")],
                reply_to=message.message_id,
            )
            return
        try:
            ticket = await self.s.call(self.s.desk.answer_ticket, expert, ticket_id, text.strip())
        except QadeskError as exc:
            log.info(
                "answer_refused expert=%s ticket_id=%s code=%s", expert.key, ticket_id, exc.code
            )
            await send_html(
                context.bot, message.chat_id, [escape(_refusal(exc))], reply_to=message.message_id
            )
            return
        log.info("expert_answered expert=%s ticket_id=%s", expert.key, ticket_id)
        await send_html(
            context.bot,
            message.chat_id,
            [html_text("telegram.expert.answer_sent", ticket_id=ticket_id)],
            None if ticket.published_faq_id else keyboards.publish_only(ticket_id),
            reply_to=message.message_id,
        )
        await refresh_cards(context.bot, self.s, ticket)

    # --- queue and figures ----------------------------------------------------------------
    async def queue(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        try:
            tickets = await self.s.call(self.s.desk.pending_tickets, user_ref(user))
        except QadeskError as exc:
            await send_html(context.bot, message.chat_id, [escape(_refusal(exc))])
            return
        if not tickets:
            await send_html(
                context.bot, message.chat_id, [html_text("telegram.expert.queue_empty")]
            )
            return
        await send_html(
            context.bot, message.chat_id, queue_list(tickets), keyboards.claim_buttons(tickets)
        )

    async def console(self, update: Update, context: Context) -> None:
        """/console in a private chat: a one-time login link to the web console."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        text = await self.s.call(self.s.desk.console_link_message, user_ref(user))
        await send_html(context.bot, message.chat_id, [escape(text)])

    async def stats(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        try:  # the desk decides who may see the figures
            figures = await self.s.call(self.s.desk.stats, user_ref(user))
        except NotPermitted:
            await send_html(context.bot, message.chat_id, [html_text("telegram.expert.not_expert")])
            return
        await send_html(context.bot, message.chat_id, stats_text(figures))
