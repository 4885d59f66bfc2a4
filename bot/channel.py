"""What every channel adapter offers to the server: its HTTP routes, a life cycle, a notifier."""

from __future__ import annotations

from typing import Protocol

from starlette.routing import BaseRoute

from core.ports import Notifier


class ChannelRuntime(Protocol):
    """One channel (Telegram, WeChat…) as the ASGI server runs it.

    ``routes()`` are mounted in the one ASGI app (webhooks, callbacks); ``start()`` runs after
    the app starts (e.g. begins long polling) and ``stop()`` before it stops. ``notifier`` is
    what the outbox dispatcher uses to reach users of this channel.
    """

    name: str

    def routes(self) -> list[BaseRoute]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    @property
    def notifier(self) -> Notifier: ...
