"""The signed-in person's page; admins set a console password there."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from desk.console_access import MIN_PASSWORD
from web.auth import console_desk
from web.expert.common import message, staff
from web.handlers import call
from web.templating import render


async def account(request: Request) -> Response:
    await staff(request)
    return render(request, "expert/account.html", {"min_password": MIN_PASSWORD})


async def set_password(request: Request) -> Response:
    user = await staff(request)
    if not user.is_admin:
        raise HTTPException(403)
    form = await request.form()
    password = str(form.get("password", ""))
    if len(password) < MIN_PASSWORD:
        return message(request, "web.errors.password_short", n=MIN_PASSWORD)
    if password != str(form.get("again", "")):
        return message(request, "web.errors.password_mismatch")
    await call(console_desk(request).set_console_password, user.user, password)
    return message(request, "web.done.password_set")
