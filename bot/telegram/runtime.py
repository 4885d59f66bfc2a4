"""The Telegram channel as the server runs it (``bot.channel.ChannelRuntime``).

Long polling by default. With a webhook URL the Application is built without an Updater; the
route from :meth:`TelegramChannel.routes` is mounted in the one ASGI app (next to WeChat),
checks ``X-Telegram-Bot-Api-Secret-Token`` (403 on mismatch) and puts updates on the
Application's queue, as in PTB's custom-webhook example.

The server calls :func:`build_telegram_channel` once, mounts ``routes()``, awaits ``start()``
after start-up and ``stop()`` before shutdown, and gives ``notifier`` to the outbox dispatcher.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application

import prompts
from bot.telegram.application import ALLOWED_UPDATES, build_application
from bot.telegram.notifier import TelegramNotifier
from bot.telegram.services import TELEGRAM_DOWNLOAD_LIMIT, BotServices, Tuning
from core.errors import ConfigurationError
from core.ports import ChannelMemory, Notifier
from desk.api import DeskApi

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"


class TelegramChannel:
    name = "telegram"

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        services: BotServices,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        self.application = application
        self.services = services
        self.webhook_url = webhook_url
        self._secret = webhook_secret or ""
        self.webhook_path = (
            (urlsplit(webhook_url).path or DEFAULT_WEBHOOK_PATH) if webhook_url else None
        )
        self._notifier = TelegramNotifier(services, application.bot, lambda: application.running)

    # --- ChannelRuntime -------------------------------------------------------------------
    @property
    def notifier(self) -> Notifier:
        return self._notifier

    def routes(self) -> list[BaseRoute]:
        if self.webhook_path is None:
            return []
        return [Route(self.webhook_path, self._receive, methods=["POST"], name="telegram_webhook")]

    async def start(self) -> None:
        app = self.application
        await app.initialize()  # getMe
        log.info(
            "telegram_starting bot=%s mode=%s",
            app.bot.username,
            "webhook" if self.webhook_url else "polling",
        )
        await self._set_commands()
        await app.start()
        if self.webhook_url:
            await app.bot.set_webhook(
                url=self.webhook_url, secret_token=self._secret, allowed_updates=ALLOWED_UPDATES
            )
        elif app.updater is not None:
            await app.updater.start_polling(
                timeout=int(self.services.tuning.poll_timeout_s),
                allowed_updates=ALLOWED_UPDATES,
                error_callback=_polling_error,
            )
        log.info("telegram_started bot=%s", app.bot.username)

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        self.services.close()
        log.info("telegram_stopped")

    # --- internals ------------------------------------------------------------------------
    async def _receive(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            log.warning(
                "webhook_refused reason=secret client=%s",
                request.client.host if request.client else None,
            )
            return Response(status_code=403)
        if not self.application.running:
            return Response(status_code=503)  # Telegram delivers it again later
        try:
            update = Update.de_json(await request.json(), self.application.bot)
        except Exception as exc:  # malformed JSON or not an Update
            log.warning("webhook_refused reason=payload error=%r", exc)
            return Response(status_code=400)
        await self.application.update_queue.put(update)
        return Response(status_code=200)

    async def _set_commands(self) -> None:
        """The command menus; a failure here must not keep the bot from starting."""
        bot = self.application.bot

        def commands(*names: str) -> list[BotCommand]:
            return [BotCommand(n, prompts.text(f"telegram.commands.{n}")) for n in names]

        try:
            await bot.set_my_commands(
                commands("start", "help", "my", "cancel"), scope=BotCommandScopeAllPrivateChats()
            )
            if self.services.expert_chat_id is not None:
                await bot.set_my_commands(
                    commands("queue", "stats", "answer"),
                    scope=BotCommandScopeChat(self.services.expert_chat_id),
                )
        except TelegramError as exc:
            log.warning("set_commands_failed error=%s", exc)


def _polling_error(exc: TelegramError) -> None:
    log.warning("polling_failed error=%r", exc)


def build_telegram_channel(
    desk: DeskApi,
    memory: ChannelMemory,
    *,
    token: str,
    api_url: str | None,
    file_url: str | None,
    webhook_url: str | None,
    webhook_secret: str | None,
    expert_chat_id: int | None,
    max_file_bytes: int,
    tuning: Tuning | None = None,
) -> TelegramChannel:
    """The Telegram channel for ``desk``, from plain settings values; ``memory`` keeps the
    updates seen, the card links and the cards' digests across workers and restarts.

    ``api_url`` is a Bot API base such as ``http://host:8081/bot`` (the token is appended);
    ``file_url`` defaults to the matching ``.../file/bot``. Files above ``max_file_bytes`` are
    refused before download (at most 20 MB on Telegram's own servers).
    """
    if not token:
        raise ConfigurationError("telegram token is empty")
    if webhook_url and not webhook_secret:  # the settings check its form; never an open hook
        raise ConfigurationError("a telegram webhook needs a secret token")
    if api_url and not file_url and api_url.rstrip("/").endswith("/bot"):
        file_url = api_url.rstrip("/")[: -len("/bot")] + "/file/bot"
    limit = max_file_bytes if api_url else min(max_file_bytes, TELEGRAM_DOWNLOAD_LIMIT)
    services = BotServices(desk, memory, expert_chat_id, limit, tuning or Tuning())
    application = build_application(
        token, services, base_url=api_url, base_file_url=file_url, webhook=bool(webhook_url)
    )
    return TelegramChannel(
        application, services, webhook_url=webhook_url, webhook_secret=webhook_secret
    )
