"""The console's CSRF check on a small Starlette app: a state-changing request passes only with
its session's token, as a header (htmx) or a form field (plain and multipart forms), and the
route still reads the whole body afterwards."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from web.auth import CsrfMiddleware, _token_for

SECRET = "x" * 40


async def sign_in(request: Request) -> PlainTextResponse:
    request.session.update({"uid": "telegram:1", "n": "nonce"})
    return PlainTextResponse(_token_for(SECRET, request.session))


async def upload(request: Request) -> PlainTextResponse:
    form = await request.form()
    file = form.get("file")
    size = len(await file.read()) if file is not None and not isinstance(file, str) else 0
    return PlainTextResponse(f"{form.get('note')}:{size}")


def client() -> TestClient:
    app = Starlette(
        routes=[Route("/in", sign_in), Route("/upload", upload, methods=["POST", "DELETE"])],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(CsrfMiddleware, secret=SECRET),
        ],
    )
    return TestClient(app)


def test_only_the_sessions_token_lets_a_post_through():
    c = client()
    assert c.post("/upload", data={"note": "a"}).status_code == 403  # no session at all
    token = c.get("/in").text
    assert c.post("/upload", data={"note": "a"}).status_code == 403
    assert c.post("/upload", data={"note": "a", "csrf_token": "0" * 64}).status_code == 403
    assert c.delete("/upload", headers={"X-CSRF-Token": "nope"}).status_code == 403
    ok = c.post("/upload", data={"note": "笔记", "csrf_token": token})
    assert (ok.status_code, ok.text) == (200, "笔记:0")
    ok = c.post("/upload", data={"note": "h"}, headers={"X-CSRF-Token": token})
    assert ok.text == "h:0"
    files = {"file": ("规定.pdf", b"%PDF" + b"x" * 300_000, "application/pdf")}
    ok = c.post("/upload", data={"note": "m", "csrf_token": token}, files=files)
    assert ok.text == "m:300004"  # the route read the whole upload after the check


def test_a_token_without_its_session_is_refused():
    first, second = client(), client()
    token = first.get("/in").text
    second.cookies.set("session", "forged")
    assert second.post("/upload", data={"csrf_token": token}).status_code == 403
