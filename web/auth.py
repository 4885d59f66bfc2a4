"""Who is signed in to the console, and what they may do.

A signed session cookie (Starlette's ``SessionMiddleware``, itsdangerous) holds only the user's
key and a per-sign-in nonce; every request looks the person up in the desk, so a role taken
away ends their next request. The CSRF token is an HMAC of the key and nonce under the console
secret: every POST, PUT, PATCH and DELETE must carry it (``X-CSRF-Token`` header, as htmx sends
it from ``hx-headers`` on ``<body>``, or a ``csrf_token`` form field), else 403.

Signing in: a one-time link the bot sends (``/console`` on Telegram, 控制台 on WeChat) opens a
page with one button; pressing it spends the link (once, in the database). Admins who set a
password may sign in with it. Both are rate limited by the desk.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import prompts
from core.errors import LoginRefused
from core.people import Person, Role, UserRef
from desk.service import Desk
from web.config import ConsoleConfig
from web.handlers import redirect
from web.templating import render

log = logging.getLogger(__name__)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
# sign-in forms: posted before there is a session (the link itself is the secret there)
CSRF_EXEMPT = frozenset({"/login", "/login/password"})


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """The signed-in expert or admin."""

    user: UserRef
    name: str
    role: Role

    @property
    def key(self) -> str:
        return self.user.key

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class SignInRequired(Exception):
    """Raised by :func:`require_expert` / :func:`require_admin` without a session; the console
    answers with the sign-in page (a redirect, or ``HX-Redirect`` for htmx)."""


def console_desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def console_config(request: Request) -> ConsoleConfig:
    config: ConsoleConfig = request.app.state.config
    return config


def current_user(request: Request) -> ConsoleUser | None:
    """The signed-in staff member, or None (looked up once per request)."""
    if hasattr(request.state, "console_user"):
        found: ConsoleUser | None = request.state.console_user
        return found
    user: ConsoleUser | None = None
    key = request.session.get("uid") if "session" in request.scope else None
    if isinstance(key, str):
        person = console_desk(request).staff_member(key)
        if person is not None:
            user = _console_user(person)
        else:
            request.session.clear()
    request.state.console_user = user
    return user


def require_expert(request: Request) -> ConsoleUser:
    """The signed-in expert or admin; SignInRequired without a session."""
    user = current_user(request)
    if user is None:
        raise SignInRequired
    return user


def require_admin(request: Request) -> ConsoleUser:
    """The signed-in admin; SignInRequired without a session, 403 for an expert."""
    user = require_expert(request)
    if not user.is_admin:
        raise HTTPException(403, prompts.text("web.errors.forbidden"))
    return user


def csrf_token(request: Request) -> str:
    """The CSRF token of this session ('' without one)."""
    if "session" not in request.scope:
        return ""
    return _token_for(console_config(request).secret, request.session)


def _token_for(secret: str, session: dict[str, object]) -> str:
    key, nonce = session.get("uid"), session.get("n")
    if not isinstance(key, str) or not isinstance(nonce, str):
        return ""
    message = f"csrf|{key}|{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def start_session(request: Request, person: Person) -> None:
    request.session.clear()
    request.session["uid"] = person.user.key
    request.session["n"] = secrets.token_urlsafe(12)
    request.state.console_user = _console_user(person)


def client_of(request: Request) -> str:
    """Who is signing in, for rate limiting: the peer address."""
    return request.client.host if request.client else "unknown"


def _console_user(person: Person) -> ConsoleUser:
    name = person.user.display_name or person.user.user_id
    return ConsoleUser(person.user, name, person.role)


class CsrfMiddleware:
    """Refuses (403) any state-changing request without this session's CSRF token."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "")
        path = scope["path"][len(root) :] if scope["path"].startswith(root) else scope["path"]
        if path in CSRF_EXEMPT:
            await self.app(scope, receive, send)
            return
        expected = _token_for(self.secret, scope.get("session") or {})
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        given = headers.get(CSRF_HEADER, "")
        replay = receive
        if not given:
            body = await _read_body(receive)
            replay = _replaying(body)
            form = await _form(scope, body)
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else ""
            await form.close()  # uploaded files are parsed again by the route
        if not expected or not hmac.compare_digest(given, expected):
            log.warning("console csrf refused path=%s", path)
            response = Response(prompts.text("web.errors.csrf"), status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, replay, send)


async def _read_body(receive: Receive) -> list[Message]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replaying(messages: list[Message]) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    return receive


async def _form(scope: Scope, messages: list[Message]) -> FormData:
    request = Request(scope, _replaying(messages))
    try:
        return await request.form()
    except Exception:
        return FormData()


# --- sign-in pages ------------------------------------------------------------------------------
def login_page(request: Request) -> Response:
    """GET /login: with ``?token=`` the confirmation of a login link (spent only by its
    button, so link previews cannot use it), else how to get one (and the admin password
    form)."""
    token = request.query_params.get("token", "")
    return render(request, "login.html", {"token": token, "next": _next(request)})


async def login_with_link(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token", ""))
    desk = console_desk(request)
    try:
        person = await run_in_threadpool(desk.sign_in_with_link, token, client_of(request))
    except LoginRefused as refused:
        return _refused(request, refused, token="")
    start_session(request, person)
    return RedirectResponse(_next_from(request, form), status_code=303)


async def login_with_password(request: Request) -> Response:
    form = await request.form()
    desk = console_desk(request)
    try:
        person = await run_in_threadpool(
            desk.sign_in_with_password,
            str(form.get("user", "")),
            str(form.get("password", "")),
            client_of(request),
        )
    except LoginRefused as refused:
        return _refused(request, refused, token="")
    start_session(request, person)
    return RedirectResponse(_next_from(request, form), status_code=303)


def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse(f"{request.scope.get('root_path', '')}/login", status_code=303)


def sign_in_redirect(request: Request) -> Response:
    """Where a request without a session goes: the sign-in page, coming back afterwards."""
    root = request.scope.get("root_path", "")
    return redirect(request, f"{root}/login?next={quote(request.url.path)}")


def _refused(request: Request, refused: LoginRefused, token: str) -> Response:
    message = prompts.text(f"web.login.{refused.reason}")
    status = 429 if refused.reason == "rate_limited" else 403
    return render(
        request, "login.html", {"token": token, "error": message, "next": ""}, status_code=status
    )


def _next(request: Request) -> str:
    return _safe_next(request, request.query_params.get("next", ""))


def _next_from(request: Request, form: FormData) -> str:
    """Where to go after signing in: the page asked for (on this console), else the queue."""
    return _safe_next(request, str(form.get("next", "") or ""))


def _safe_next(request: Request, value: str) -> str:
    root = request.scope.get("root_path", "")
    if value.startswith(root + "/") and not value.startswith("//"):
        return value
    return f"{root}/queue"


def routes() -> list[Route]:
    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_with_link, methods=["POST"]),
        Route("/login/password", login_with_password, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
