"""What every console handler shares: desk calls off the event loop, a message shown in the
page's message area, and a redirect both htmx and a plain form follow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from web.templating import render

T = TypeVar("T")


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A desk call (blocking: database, index) run in the thread pool."""
    return await run_in_threadpool(function, *args, **kwargs)


def message_part(request: Request, message: str, *, error: bool = False) -> Response:
    """``message`` swapped into the page's message area (``#messages``) by htmx."""
    response = render(request, "message.html", {"message": message, "error": error})
    response.headers["HX-Retarget"] = "#messages"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def redirect(request: Request, target: str) -> Response:
    """Go to ``target`` (a full path): htmx follows ``HX-Redirect``, a form a 303."""
    if request.headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return Response(status_code=303, headers={"Location": target})
