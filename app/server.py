"""The one ASGI app: `/healthz`, the Telegram webhook and the WeChat callback, and the
background work (outbox dispatcher, re-announcement of unclaimed tickets, storing the questions
kept on disk during a database outage).

``/healthz`` asks the database for a write lock (bounded by a timeout): 200 with the library's
size when it answers, 503 naming what is down (``{"status": "unavailable", "down":
["database"], …}``) when it does not.

Shutting down ends within a few seconds whatever the database does: retries stop waiting at
once, the dispatcher gives an in-flight send ``STOP_GRACE_S`` (then records it as uncertain),
and each channel gets ``CHANNEL_STOP_S`` to finish what it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from app import bootstrap
from app.access_log import strip_query_strings
from app.settings import Settings

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 2.0  # /healthz answers within about this long
CHANNEL_STOP_S = 5.0
STOP_GRACE_S = 2.0
SPOOL_EVERY_S = 2.0


def create_app(settings: Settings, container: Any = None) -> Starlette:
    """Build the container (unless given) and the ASGI app serving every configured channel."""
    strip_query_strings()  # callback URLs carry signatures and openids
    container = container or bootstrap.build(settings)
    channels = bootstrap.build_channels(settings, container)

    async def healthz(_: Request) -> JSONResponse:
        names = [c.name for c in channels]
        problem = await _database_problem(container)
        waiting = await asyncio.to_thread(container.desk.spooled)
        if problem is not None:
            log.warning("health database down error=%s", problem)
            body = {"status": "unavailable", "down": ["database"], "database": problem}
            return JSONResponse(body | {"spooled": waiting, "channels": names}, status_code=503)
        documents = await asyncio.to_thread(lambda: len(container.knowledge.documents()))
        return JSONResponse(
            {"status": "ok", "documents": documents, "channels": names, "spooled": waiting}
        )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        for channel in channels:
            await channel.start()
            log.info("channel started name=%s", channel.name)
        notifiers = bootstrap.notifiers(container, channels)
        dispatcher = container.dispatcher(notifiers, stop_grace_s=STOP_GRACE_S)
        tasks = [
            asyncio.create_task(dispatcher.run_forever(stop), name="outbox"),
            asyncio.create_task(_reannounce_loop(container, stop, 60.0), name="reannounce"),
            asyncio.create_task(_spool_loop(container, stop, SPOOL_EVERY_S), name="spool"),
        ]
        try:
            yield
        finally:
            stop.set()
            container.store.stop_waiting()  # nothing waits for the database any more
            for channel in reversed(channels):
                try:
                    await asyncio.wait_for(channel.stop(), CHANNEL_STOP_S)
                except Exception:
                    log.exception("channel stop failed name=%s", channel.name)
            await asyncio.gather(*tasks, return_exceptions=True)
            container.close()
            log.info("shutdown complete")

    routes: list[Any] = [Route("/healthz", healthz)]
    for channel in channels:
        routes += channel.routes()
    console = bootstrap.build_console(settings, container)
    if console is not None:
        routes.append(Mount("/console", app=console))
    return Starlette(routes=routes, lifespan=lifespan)


async def _database_problem(container: Any) -> str | None:
    """What is wrong with the database, or None; a probe that does not answer in time is a
    problem too."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_S):
            problem: str | None = await asyncio.to_thread(
                container.store.check, HEALTH_TIMEOUT_S / 2
            )
    except TimeoutError:
        return f"no answer within {HEALTH_TIMEOUT_S:.0f} s"
    return problem


async def _spool_loop(container: Any, stop: asyncio.Event, every: float) -> None:
    """Store the questions kept on disk while the database was away, until ``stop``."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(container.desk.drain_spool)
        except Exception:
            log.exception("spool drain failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def _reannounce_loop(container: Any, stop: asyncio.Event, every: float) -> None:
    """Announce unclaimed tickets again, on a fixed period, until ``stop`` is set."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(container.desk.reannounce_due)
        except Exception:
            log.exception("reannounce failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
