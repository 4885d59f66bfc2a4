"""Build the python-telegram-bot ``Application`` from plain values and register the handlers.

Routing (handler group 0 takes the first match, so the order below is the precedence):

======================================  ==============================================
update                                  handled by
======================================  ==============================================
any edited message                      a note in private chats, silence elsewhere
the bot added to a group                one note pointing to the private chat
/answer, /queue, /stats (anywhere)      experts (the desk checks the role)
a reply in the expert group             experts: the answer, if it replies to a card
a reply in a private chat               experts if it replies to a card, else a question
/start /help /my /cancel (private)      askers
/docs /remove, a document (private)     admins (non-admins get a polite refusal)
text (private)                          askers: a question
anything else (private)                 a specific polite reply (photo, voice…)
a command in another group              a note pointing to the private chat
card buttons (``tk:``)                  experts
every other button                      askers
======================================  ==============================================
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.telegram.admins import AdminHandlers
from bot.telegram.askers import AskerHandlers
from bot.telegram.experts import ExpertHandlers
from bot.telegram.intake import Intake
from bot.telegram.network import RetryingRateLimiter
from bot.telegram.services import BotServices

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
ASKER_COMMANDS = ("start", "help", "my", "cancel")


def build_application(
    token: str,
    services: BotServices,
    *,
    base_url: str | None = None,
    base_file_url: str | None = None,
    webhook: bool = False,
) -> Application:  # type: ignore[type-arg]
    """The Application, not yet initialised; ``webhook`` builds it without an Updater."""
    tuning = services.tuning
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(
            RetryingRateLimiter(
                overall_max_rate=tuning.overall_max_rate,
                group_max_rate=tuning.group_max_rate,
                max_retries=tuning.retry_after_retries,
                network_retries=tuning.network_retries,
                network_backoff_s=tuning.network_backoff_s,
            )
        )
        .concurrent_updates(tuning.concurrent_updates)
        .job_queue(None)
        .read_timeout(10)
        .get_updates_read_timeout(10)
    )
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    if webhook:
        builder = builder.updater(None)
    application = builder.build()
    register_handlers(application, services)
    return application


def register_handlers(application: Application, services: BotServices) -> None:  # type: ignore[type-arg]
    intake = Intake(services)
    askers = AskerHandlers(services)
    experts = ExpertHandlers(services)
    admins = AdminHandlers(services)

    new = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new
    expert_chat = (
        filters.Chat(chat_id=services.expert_chat_id)
        if services.expert_chat_id is not None
        else filters.Chat(allow_empty=False)
    )

    async def private_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply to a card an expert got privately answers it; any other reply is a question."""
        if not await experts.reply_to_card(update, context):
            await askers.question(update, context)

    async def group_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In the expert group a reply to a card is its answer; other replies are chat."""
        await experts.reply_to_card(update, context)

    application.add_handler(TypeHandler(Update, intake.gate), group=-1)
    handlers: list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]] = [
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.ChatType.PRIVATE, askers.edited),
        MessageHandler(filters.UpdateType.EDITED_MESSAGE, _silence),
        ChatMemberHandler(intake.added_to_group, ChatMemberHandler.MY_CHAT_MEMBER),
        CommandHandler("answer", experts.answer_command, filters=new),
        CommandHandler("queue", experts.queue, filters=new),
        CommandHandler("stats", experts.stats, filters=new),
        MessageHandler(
            expert_chat & new & filters.REPLY & filters.TEXT & ~filters.COMMAND, group_reply
        ),
        MessageHandler(private & filters.REPLY & filters.TEXT & ~filters.COMMAND, private_reply),
        CommandHandler("start", askers.start, filters=private),
        CommandHandler("help", askers.help, filters=private),
        CommandHandler("my", askers.my, filters=private),
        CommandHandler("console", experts.console, filters=private),
        CommandHandler("cancel", askers.cancel, filters=private),
        CommandHandler("docs", admins.docs, filters=private),
        CommandHandler("remove", admins.remove, filters=private),
        MessageHandler(private & filters.Document.ALL, admins.document),
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, askers.question),
        MessageHandler(private & filters.COMMAND, askers.help),
        MessageHandler(private, askers.unsupported),
        CommandHandler(
            list(ASKER_COMMANDS),
            askers.elsewhere,
            filters=filters.ChatType.GROUPS & ~expert_chat & new,
        ),
        CallbackQueryHandler(experts.press, pattern=r"^tk:"),
        CallbackQueryHandler(askers.press),
    ]
    application.add_handlers(handlers)
    application.add_error_handler(intake.on_error)


async def _silence(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliberately nothing (edited messages outside private chats)."""
