"""The WeChat Official Account channel as the server runs it (``bot.channel.ChannelRuntime``).

``build_wechat_channel`` is what the composition root calls with the ``QADESK_WECHAT_*``
settings; the server mounts :meth:`WeChatChannel.routes` (``GET``/``POST /wechat``) in the one
ASGI app, awaits :meth:`~WeChatChannel.start` after start-up and :meth:`~WeChatChannel.stop`
before shutdown, and gives :attr:`~WeChatChannel.notifier` to the outbox dispatcher.
"""

from __future__ import annotations

import asyncio
import binascii
import logging

from starlette.routing import BaseRoute, Route

from bot.wechat.api_client import WeChatApi
from bot.wechat.conversation import Conversation
from bot.wechat.delivery import Responder
from bot.wechat.notifier import WeChatNotifier
from bot.wechat.outbound import Pusher
from bot.wechat.protocol import CallbackCodec
from bot.wechat.state import WeChatState
from bot.wechat.views import CallbackViews
from bot.wechat.wecom_robot import WeComRobot
from core.errors import ConfigurationError
from core.ports import ChannelMemory, Notifier
from desk.api import DeskApi

log = logging.getLogger(__name__)


class WeChatChannel:
    name = "wechat"

    def __init__(
        self,
        *,
        codec: CallbackCodec,
        state: WeChatState,
        responder: Responder,
        pusher: Pusher,
        api: WeChatApi | None,
        robot: WeComRobot | None,
        path: str = "/wechat",
    ) -> None:
        self._state = state
        self._responder = responder
        self._api = api
        self._robot = robot
        self._path = path
        self._views = CallbackViews(codec, responder, state)
        self._started = False
        self._notifier = WeChatNotifier(pusher, state, robot, lambda: self._started)
        self.api = api
        self.responder = responder

    def routes(self) -> list[BaseRoute]:
        return [
            Route(self._path, self._views.verify, methods=["GET"], name="wechat_verify"),
            Route(self._path, self._views.receive, methods=["POST"], name="wechat_callback"),
        ]

    async def start(self) -> None:
        await self._state.load()
        self._started = True
        log.info(
            "wechat_started customer_service=%s robot=%s",
            self._api is not None and self._state.customer_service,
            self._robot is not None,
        )

    async def stop(self) -> None:
        self._started = False
        await self._responder.aclose()
        if self._robot is not None:
            await self._robot.aclose()
        if self._api is not None:
            await asyncio.to_thread(self._api.close)
        self._state.close()
        log.info("wechat_stopped")

    @property
    def notifier(self) -> Notifier:
        return self._notifier


def build_wechat_channel(
    desk: DeskApi,
    memory: ChannelMemory,
    *,
    token: str,
    aes_key: str | None,
    app_id: str | None,
    app_secret: str | None,
    api_url: str | None,
    wecom_robot_url: str | None,
    reply_budget_s: float = 4.0,
) -> WeChatChannel:
    """The channel for one Official Account; ``memory`` keeps what it must share across
    workers and restarts (see ``bot.wechat.state``).

    ``token`` is the callback token; ``aes_key`` (the 43-character EncodingAESKey, needs
    ``app_id``) turns on safe mode; ``app_id`` and ``app_secret`` allow customer-service
    messages (without them answers that miss the budget are held for the user's next message);
    ``api_url`` replaces ``https://api.weixin.qq.com``; ``wecom_robot_url`` announces new
    tickets to a WeCom group; ``reply_budget_s`` is how long a callback waits for the desk
    (WeChat gives up after 5 s).
    """
    if not token:
        raise ConfigurationError("the WeChat callback token is empty")
    if not 0 < reply_budget_s < 5:
        raise ConfigurationError("the WeChat reply budget must stay under 5 seconds")
    if aes_key and not app_id:  # else safe mode would be off without a word
        raise ConfigurationError("WeChat safe mode (EncodingAESKey) needs the AppID")
    try:
        codec = CallbackCodec(token, aes_key or None, app_id)
    except (AssertionError, binascii.Error, ValueError):
        raise ConfigurationError("the WeChat EncodingAESKey is not valid") from None
    state = WeChatState(memory, app_id)
    api = None
    if app_id and app_secret:
        api = WeChatApi(app_id, app_secret, base_url=api_url, token_store=state)
    pusher = Pusher(state, api)
    responder = Responder(state, Conversation(desk, state), pusher, budget_s=reply_budget_s)
    robot = WeComRobot(wecom_robot_url, state) if wecom_robot_url else None
    return WeChatChannel(
        codec=codec, state=state, responder=responder, pusher=pusher, api=api, robot=robot
    )
