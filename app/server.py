"""The one ASGI app: `/healthz`, the Telegram webhook and the WeChat callback, and the
background work (outbox dispatcher, re-announcement of unclaimed tickets)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app import bootstrap
from app.access_log import strip_query_strings
from app.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings, container: Any = None) -> Starlette:
    """Build the container (unless given) and the ASGI app serving every configured channel."""
    strip_query_strings()  # callback URLs carry signatures and openids
    container = container or bootstrap.build(settings)
    channels = bootstrap.build_channels(settings, container)

    async def healthz(_: Request) -> JSONResponse:
        documents = await asyncio.to_thread(lambda: len(container.knowledge.documents()))
        return JSONResponse(
            {"status": "ok", "documents": documents, "channels": [c.name for c in channels]}
        )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        for channel in channels:
            await channel.start()
            log.info("channel started name=%s", channel.name)
        notifiers = bootstrap.notifiers(container, channels)
        dispatcher = container.dispatcher(notifiers)
        tasks = [
            asyncio.create_task(dispatcher.run_forever(stop), name="outbox"),
            asyncio.create_task(_reannounce_loop(container, stop, 60.0), name="reannounce"),
        ]
        try:
            yield
        finally:
            stop.set()
            for channel in reversed(channels):
                with contextlib.suppress(Exception):
                    await channel.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            container.close()

    routes: list[Any] = [Route("/healthz", healthz)]
    for channel in channels:
        routes += channel.routes()
    return Starlette(routes=routes, lifespan=lifespan)


async def _reannounce_loop(container: Any, stop: asyncio.Event, every: float) -> None:
    """Announce unclaimed tickets again, on a fixed period, until ``stop`` is set."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(container.desk.reannounce_due)
        except Exception:
            log.exception("reannounce failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
