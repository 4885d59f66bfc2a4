"""What the desk says to one WeChat message: one desk call, rendered as Chinese text.

* a text question → ``desk.ask``; the answer ends with "回复 1 有用，回复 2 转人工专家" and its
  interaction id is kept in the channel state (``wechat-last:<openid>``), so that
* a bare 1 or 2 right after an answer → ``desk.feedback`` / ``desk.escalate`` on it;
* 0 → what is held for the user (answers that could not be pushed, the rest of a long one);
* 我的问题 / 使用说明, or the menu keys ``MY_QUESTIONS`` / ``HELP`` → ``desk.my_tickets`` / help;
* 控制台 → an expert's or admin's one-time login link to the web console;
* subscribe → welcome with example questions; unsubscribe → recorded, no reply;
* images, voice, video, locations, links → the desk reads text questions.

Held messages (``desk.take_held``) come first in whatever reply the user gets next.
Errors of the desk become their Chinese text here, at the edge.
"""

from __future__ import annotations

import logging
from enum import StrEnum

import prompts
from bot.wechat.protocol import Inbound, InboundKind
from bot.wechat.rendering import join_texts
from bot.wechat.state import WeChatState
from core.errors import QadeskError, StoreUnavailable
from core.people import UserRef
from core.text import clip
from desk import texts
from desk.api import DeskApi

log = logging.getLogger(__name__)

MENU_KEYS = {"MY_QUESTIONS": "my_questions", "HELP": "help"}  # menu CLICK EventKey → command
SUBSCRIBE_EVENTS = frozenset({"subscribe", "subscribe_scan"})
MAX_LISTED_TICKETS = 5
QUESTION_PREVIEW_CHARS = 30  # a question in 我的问题, the ellipsis included


class Command(StrEnum):
    MORE = "more"
    HELPFUL = "helpful"
    EXPERT = "expert"
    MY_QUESTIONS = "my_questions"
    HELP = "help"
    CONSOLE = "console"


def command_of(text: str) -> Command | None:
    """The command a message is (its whole text, trimmed), or None for a question."""
    words = text.strip()
    for command in Command:
        if words in prompts.texts(f"wechat.commands.{command.value}"):
            return command
    return None


class Conversation:
    def __init__(self, desk: DeskApi, state: WeChatState) -> None:
        self._state = state
        self._desk = desk

    async def respond(self, inbound: Inbound) -> str | None:
        """The reply text for ``inbound``; None when WeChat expects no reply."""
        user = inbound.user
        command = self._command(inbound)
        if inbound.kind is InboundKind.EVENT:
            if inbound.event == "unsubscribe":
                await self._state.set_subscribed(user, False)
                log.info("wechat_unsubscribed ref=%s", inbound.ref)
                return None
            if inbound.event not in SUBSCRIBE_EVENTS and command is None:
                return None  # menu links, location reports, scans: nothing to say
        elif inbound.kind is InboundKind.OTHER:
            return None
        try:
            held = await self._state.take_held(user)
        except StoreUnavailable:  # they stay held for the next message
            held = []
        try:
            body = await self._body(inbound, command, bool(held))
        except QadeskError as exc:
            log.info("wechat_desk_refused ref=%s code=%s", inbound.ref, exc.code)
            body = prompts.error_text(exc.code)
        except Exception:
            log.exception("wechat_desk_failed ref=%s", inbound.ref)
            body = prompts.error_text("error")
        return join_texts([*held, body]) or None

    def _command(self, inbound: Inbound) -> Command | None:
        if inbound.kind is InboundKind.TEXT:
            return command_of(inbound.message.text)
        if inbound.kind is InboundKind.EVENT and inbound.event == "click":
            name = MENU_KEYS.get(inbound.event_key.upper())
            return Command(name) if name else None
        return None

    async def _body(self, inbound: Inbound, command: Command | None, has_held: bool) -> str:
        user = inbound.user
        if inbound.kind is InboundKind.MEDIA:
            return prompts.text("wechat.text_only")
        if inbound.kind is InboundKind.EVENT and inbound.event in SUBSCRIBE_EVENTS:
            await self._state.set_subscribed(user, True)
            return welcome()
        match command:
            case Command.MORE:
                return "" if has_held else prompts.text("wechat.nothing_held")
            case Command.HELPFUL | Command.EXPERT:
                if await self._state.work(self._desk.awaiting_choice, user):  # 回复 1/2/3
                    return await self._ask(user, inbound.message.text)
                return await self._feedback(user, command, has_held)
            case Command.MY_QUESTIONS:
                return await self._my_tickets(user)
            case Command.HELP:
                return prompts.text("wechat.help")
            case Command.CONSOLE:
                return await self._state.work(self._desk.console_link_message, user)
        return await self._ask(user, inbound.message.text)

    async def _ask(self, user: UserRef, question: str) -> str:
        reply = await self._state.work(self._desk.ask, user, question)
        if not reply.interaction_id:  # the desk could not record it (and says so)
            return reply.text
        if reply.offer_feedback and reply.ticket is None:
            await self._state.set_last_interaction(user, reply.interaction_id)
            return f"{reply.text}\n\n{prompts.text('wechat.feedback_hint')}"
        await self._state.set_last_interaction(user, None)
        return reply.text

    async def _feedback(self, user: UserRef, command: Command, has_held: bool) -> str:
        interaction = await self._state.last_interaction(user)
        if interaction is None:
            return "" if has_held else prompts.text("wechat.feedback_none")
        await self._state.set_last_interaction(user, None)
        if command is Command.HELPFUL:
            result = await self._state.work(self._desk.feedback, user, interaction, True)
            return result.text
        result = await self._state.work(self._desk.not_solved, user, interaction)
        return result.text

    async def _my_tickets(self, user: UserRef) -> str:
        tickets = await self._state.work(self._desk.my_tickets, user)
        if not tickets:
            return prompts.text("wechat.my_tickets_empty")
        recent = sorted(tickets, key=lambda t: t.created_at, reverse=True)
        lines = [prompts.text("wechat.my_tickets_header")]
        for ticket in recent[:MAX_LISTED_TICKETS]:
            question = clip(ticket.question, QUESTION_PREVIEW_CHARS)
            status = texts.status_label(ticket.status)
            lines.append(
                prompts.text(
                    "wechat.my_tickets_item",
                    ticket_id=ticket.ticket_id,
                    status=status,
                    question=question,
                )
            )
        if len(recent) > MAX_LISTED_TICKETS:
            lines.append(
                prompts.text("wechat.my_tickets_more", count=len(recent), shown=MAX_LISTED_TICKETS)
            )
        return "\n".join(lines)


def welcome() -> str:
    examples = [
        prompts.text("wechat.example_item", question=q) for q in prompts.texts("wechat.examples")
    ]
    return "\n".join([prompts.text("wechat.welcome"), *examples])
