"""The moment a message leaves for the platform, told to whoever is delivering it.

A channel's notifier calls :func:`about_to_send` right before the request that puts a message
in front of a user. Until then a failed or interrupted send reached nobody and may simply be
tried again; after it, a send whose answer never came back may have arrived. The outbox
dispatcher listens (:func:`listening`) and records that moment before the request goes out;
outside a delivery (a reply to a user's own message, a test calling a notifier) nobody listens
and the call does nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[str], Awaitable[None]]

_listener: ContextVar[Listener | None] = ContextVar("qadesk_delivery_listener", default=None)


async def about_to_send(progress: str = "") -> None:
    """The next request may deliver a message. ``progress``: what this notification already
    delivered (the channel's own reference, e.g. Telegram message ids). A listener that cannot
    record the moment raises, and then nothing must be sent."""
    listener = _listener.get()
    if listener is not None:
        await listener(progress)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Calls of :func:`about_to_send` in this context (and tasks started in it) reach
    ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
