"""``build_console``: the console's ASGI app, mounted by ``qadesk serve`` at ``/console``.

Pages are rendered on the server (Jinja2, autoescaped); htmx (vendored in ``web/static``)
refreshes the queue and posts forms without reloading. Errors of the desk become Chinese pages:
no permission → 403, an unknown ticket → 404, a refused action → 409 with the reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

import prompts
from core.errors import (
    AlreadyClaimed,
    DocumentNotFound,
    FaqNotFound,
    NotPermitted,
    PersonNotFound,
    QadeskError,
    TicketNotFound,
)
from desk.service import Desk
from web import auth, expert
from web.config import ConsoleConfig as ConsoleConfig  # the console's settings
from web.handlers import message_part
from web.templating import Templates, render

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "qadesk_console"


def build_console(desk: Desk, config: ConsoleConfig) -> Starlette:
    """The console for ``desk``: sign-in, the expert screens and, when present, the admin
    screens (``web.admin.routes()``, whose paths start with ``/admin``)."""
    if not config.secret:
        raise ValueError("the console needs a secret")
    routes: list[BaseRoute] = [
        Route("/", _home, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        *auth.routes(),
        *expert.routes(),
    ]
    routes += _admin_routes()  # their paths start with /admin; the console's root stays one
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=config.secret,
            session_cookie=SESSION_COOKIE,
            max_age=int(config.session_hours * 3600),
            same_site="lax",
            https_only=config.https_only,
        ),
        Middleware(auth.CsrfMiddleware, secret=config.secret),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            auth.SignInRequired: _sign_in,
            HTTPException: _http_error,
            QadeskError: _desk_error,
        },
    )
    app.state.desk = desk
    app.state.config = config
    app.state.templates = Templates()
    return app


def _admin_routes() -> list[BaseRoute]:
    from web import admin

    return admin.routes()


def _home(request: Request) -> Response:
    return RedirectResponse(f"{request.scope.get('root_path', '')}/queue", status_code=303)


async def _sign_in(request: Request, _: Exception) -> Response:
    return auth.sign_in_redirect(request)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        message = prompts.text("web.errors.not_found")
    elif error.status_code == 403:
        message = prompts.text("web.errors.forbidden")
    else:
        message = str(error.detail)
    return _error_page(request, error.status_code, message)


async def _desk_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, QadeskError)
    if isinstance(error, NotPermitted):
        status = 403
    elif isinstance(error, TicketNotFound | FaqNotFound | PersonNotFound | DocumentNotFound):
        status = 404
    else:
        status = 409
    if isinstance(error, AlreadyClaimed):
        message = prompts.text("web.errors.already_claimed", holder=error.holder or "")
    else:
        message = prompts.error_text(error.code)
    log.info("console refused path=%s code=%s", request.url.path, error.code)
    return _error_page(request, status, message)


def _error_page(request: Request, status: int, message: str) -> Response:
    if request.headers.get("hx-request"):  # shown in the page's message area (status 200)
        response = message_part(request, message, error=True)
        response.headers["HX-Trigger"] = "console-refresh"  # e.g. the queue shows who has it
        return response  # 200: htmx swaps only successful responses
    return render(request, "error.html", {"message": message, "status": status}, status_code=status)
