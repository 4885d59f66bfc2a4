"""Handlers for business owners in their private chat with the bot.

Each handler turns the update into one or two desk calls and renders the result; the desk
decides everything else (answer or escalate, which ticket, what feedback means).
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update, User
from telegram.ext import ContextTypes

import prompts
from bot.telegram import keyboards
from bot.telegram.keyboards import Action, Kind
from bot.telegram.render import escape, html_text, plain_messages, ticket_list
from bot.telegram.sending import drop_buttons, send_html, typing
from bot.telegram.services import BotServices, user_ref
from core.errors import QadeskError
from core.people import UserRef
from core.tickets import TicketStatus

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
_PENDING = (TicketStatus.OPEN, TicketStatus.CLAIMED)


def _error(exc: QadeskError) -> list[str]:
    return [escape(prompts.error_text(exc.code))]


class AskerHandlers:
    def __init__(self, services: BotServices) -> None:
        self.s = services

    # --- commands -------------------------------------------------------------------------
    async def start(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        examples = prompts.texts("telegram.start.examples")
        text = html_text("telegram.start.welcome", name=user.first_name)
        await send_html(context.bot, message.chat_id, [text], keyboards.examples(examples))

    async def help(self, update: Update, context: Context) -> None:
        if update.effective_message is not None:
            await send_html(
                context.bot, update.effective_message.chat_id, [html_text("telegram.help.text")]
            )

    async def my(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        tickets = await self.s.call(self.s.desk.my_tickets, user_ref(user))
        if not tickets:
            await send_html(context.bot, message.chat_id, [html_text("telegram.my.empty")])
            return
        await send_html(context.bot, message.chat_id, ticket_list(tickets))

    async def cancel(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        asker = user_ref(user)
        args = context.args or []
        if args:
            if not args[0].lstrip("#").isdigit():
                await send_html(context.bot, message.chat_id, [html_text("telegram.cancel.usage")])
                return
            await self._cancel(context, message.chat_id, asker, int(args[0].lstrip("#")))
            return
        tickets = await self.s.call(self.s.desk.my_tickets, asker)
        pending = [t for t in tickets if t.status in _PENDING]
        if not pending:
            await send_html(context.bot, message.chat_id, [html_text("telegram.cancel.nothing")])
        elif len(pending) == 1:
            await self._cancel(context, message.chat_id, asker, pending[0].ticket_id)
        else:
            await send_html(
                context.bot,
                message.chat_id,
                [html_text("telegram.cancel.choose")],
                keyboards.cancel_buttons(pending),
            )

    async def _cancel(self, context: Context, chat_id: int, asker: UserRef, ticket_id: int) -> None:
        try:
            ticket = await self.s.call(self.s.desk.cancel, asker, ticket_id)
        except QadeskError as exc:
            await send_html(context.bot, chat_id, _error(exc))
            return
        await send_html(
            context.bot, chat_id, [html_text("telegram.cancel.done", ticket_id=ticket.ticket_id)]
        )

    # --- questions ------------------------------------------------------------------------
    async def question(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        await self._answer(context, user, message.chat_id, message.text, message.message_id)

    async def _answer(
        self,
        context: Context,
        user: User,
        chat_id: int,
        text: str,
        reply_to: int | None,
        title: str | None = None,
    ) -> None:
        asker = user_ref(user)
        async with typing(context.bot, chat_id, self.s.tuning.typing_every_s):
            try:
                reply = await self.s.call(self.s.desk.ask, asker, text)
            except QadeskError as exc:
                log.info("ask_refused user=%s code=%s", asker.key, exc.code)
                await send_html(context.bot, chat_id, _error(exc), reply_to=reply_to)
                return
        messages = plain_messages(reply.text, title)
        markup = None
        if reply.choices:  # a clarifying question: one button per choice
            markup = keyboards.choices(reply.choices)
        elif reply.offer_feedback and reply.ticket is None:
            markup = keyboards.answer_feedback(reply.interaction_id)
            messages[-1] += f"\n\n<i>{html_text('telegram.ask.answer_footer')}</i>"
        log.info(
            "answered user=%s interaction_id=%s decision=%s ticket_id=%s",
            asker.key,
            reply.interaction_id,
            reply.answer.decision.value,
            reply.ticket.ticket_id if reply.ticket else None,
        )
        await send_html(context.bot, chat_id, messages, markup, reply_to=reply_to)

    # --- buttons --------------------------------------------------------------------------
    async def press(self, update: Update, context: Context) -> None:
        """Every asker-side button: examples, feedback on answers and on expert answers, 撤回."""
        query = update.callback_query
        if query is None:
            return
        press = keyboards.decode(query.data)
        message = query.message if isinstance(query.message, Message) else None
        if press is None or message is None:
            await query.answer(prompts.text("telegram.ask.unknown_button"), show_alert=True)
            return
        asker = user_ref(query.from_user)
        chat_id = message.chat_id
        match press.kind:
            case Kind.EXAMPLE:
                await query.answer()
                examples = prompts.texts("telegram.start.examples")
                if 0 <= press.ident < len(examples):
                    question = examples[press.ident]
                    await self._answer(context, query.from_user, chat_id, question, None, question)
            case Kind.FEEDBACK:
                await self._feedback(context, query, asker, chat_id, press)
            case Kind.EXPERT_ANSWER:
                await self._expert_feedback(context, query, asker, chat_id, press)
            case Kind.CHOICE:  # the number picks the choice, as a typed number would
                await query.answer()
                await drop_buttons(context.bot, chat_id, message.message_id)
                await self._answer(context, query.from_user, chat_id, str(press.ident), None)
            case Kind.CANCEL:
                await query.answer()
                await drop_buttons(context.bot, chat_id, message.message_id)
                await self._cancel(context, chat_id, asker, press.ident)
            case _:
                await query.answer(prompts.text("telegram.ask.unknown_button"), show_alert=True)

    async def _feedback(
        self,
        context: Context,
        query: CallbackQuery,
        asker: UserRef,
        chat_id: int,
        press: keyboards.Press,
    ) -> None:
        desk, iid = self.s.desk, press.ident
        if press.action not in (Action.HELPFUL, Action.NOT_SOLVED, Action.TO_EXPERT):
            await query.answer(prompts.text("telegram.ask.unknown_button"), show_alert=True)
            return
        try:
            if press.action is Action.HELPFUL:
                result = await self.s.call(desk.feedback, asker, iid, True)
                await query.answer(
                    result.text[:200] or prompts.text("telegram.ask.feedback_thanks")
                )
                await self._drop(context, query)
                return
            if press.action is Action.NOT_SOLVED:  # not helpful, and to an expert (the desk's rule)
                text = escape((await self.s.call(desk.not_solved, asker, iid)).text)
            else:
                ticket = await self.s.call(desk.escalate, asker, iid)
                text = html_text("telegram.ask.escalated", ticket_id=ticket.ticket_id)
        except QadeskError as exc:
            await query.answer()
            await send_html(context.bot, chat_id, _error(exc))
            return
        await query.answer()
        await self._drop(context, query)
        await send_html(context.bot, chat_id, [text])

    async def _expert_feedback(
        self,
        context: Context,
        query: CallbackQuery,
        asker: UserRef,
        chat_id: int,
        press: keyboards.Press,
    ) -> None:
        desk, tid = self.s.desk, press.ident
        if press.action not in (Action.HELPFUL, Action.NOT_SOLVED, Action.TO_EXPERT):
            await query.answer(prompts.text("telegram.ask.unknown_button"), show_alert=True)
            return
        try:
            if press.action is Action.HELPFUL:
                text = prompts.text("telegram.ask.feedback_thanks")
                if press.extra is not None:
                    text = (await self.s.call(desk.feedback, asker, press.extra, True)).text or text
                await query.answer(text[:200])
                await self._drop(context, query)
                return
            ticket = await self.s.call(desk.reopen, asker, tid)
        except QadeskError as exc:
            await query.answer()
            await send_html(context.bot, chat_id, _error(exc))
            return
        await query.answer()
        await self._drop(context, query)
        await send_html(
            context.bot,
            chat_id,
            [html_text("telegram.notify.reopened", ticket_id=ticket.ticket_id)],
        )

    async def _drop(self, context: Context, query: CallbackQuery) -> None:
        if isinstance(query.message, Message):
            await drop_buttons(context.bot, query.message.chat_id, query.message.message_id)

    # --- everything that is not a text question -------------------------------------------
    async def unsupported(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        if message.photo:
            key = "photo"
        elif message.sticker:
            key = "sticker"
        elif message.voice or message.audio or message.video_note:
            key = "voice"
        elif message.location or message.venue:
            key = "location"
        else:
            key = "other"
        await send_html(context.bot, message.chat_id, [html_text(f"telegram.unsupported.{key}")])

    async def edited(self, update: Update, context: Context) -> None:
        message = update.edited_message
        if message is not None and message.text:
            await send_html(
                context.bot,
                message.chat_id,
                [html_text("telegram.unsupported.edited")],
                reply_to=message.message_id,
            )

    async def elsewhere(self, update: Update, context: Context) -> None:
        """A command in a group that is not the expert group: point to the private chat."""
        if update.effective_message is not None:
            await send_html(
                context.bot,
                update.effective_message.chat_id,
                [html_text("telegram.unsupported.group")],
            )
