"""What the expert screens share: the expert check, and a message from the catalog."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

import prompts
from web.auth import ConsoleUser, require_expert
from web.handlers import message_part, redirect


async def staff(request: Request) -> ConsoleUser:
    """The signed-in expert or admin (else the sign-in page, or 403)."""
    return await run_in_threadpool(require_expert, request)


def message(request: Request, key: str, **values: object) -> Response:
    return message_part(request, prompts.text(key, **values))


def go_to(request: Request, path: str) -> Response:
    """Go to ``path`` under the console."""
    return redirect(request, f"{request.scope.get('root_path', '')}{path}")
