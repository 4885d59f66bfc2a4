"""The stand-in Bot API server itself: bodies, long polling, Telegram's checks, faults, files."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.telegram_api import FakeBotApi, serve_asgi
from tests.fakes.telegram_harness import no_proxy


@pytest.fixture
async def api():
    with no_proxy():
        async with FakeBotApi() as server:
            yield server


@pytest.fixture
async def http():
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        yield client


def url(api: FakeBotApi, method: str) -> str:
    return f"{api.base_url}{api.token}/{method}"


async def test_form_json_and_multipart_bodies_are_understood(api, http):
    markup = {"inline_keyboard": [[{"text": "有用", "callback_data": "fb:1:y"}]]}
    form = await http.post(
        url(api, "sendMessage"),
        data={"chat_id": "7", "text": "表单", "reply_markup": json.dumps(markup)},
    )
    body = await http.post(url(api, "sendMessage"), json={"chat_id": 7, "text": "JSON"})
    multi = await http.post(url(api, "sendMessage"), data={"chat_id": "7", "text": "多部分"},
                            files={"document": ("a.txt", b"hello", "text/plain")})  # fmt: skip
    assert [r.status_code for r in (form, body, multi)] == [200, 200, 200]
    assert [m.plain for m in api.messages(7)] == ["表单", "JSON", "多部分"]
    assert api.messages(7)[0].buttons() == [("有用", "fb:1:y")]
    assert api.calls[2].params["document"] == {"filename": "a.txt", "data": b"hello"}
    assert form.json()["result"]["chat"] == {"id": 7, "type": "private"}


async def test_wrong_token_and_unknown_method(api, http):
    bad = await http.post(f"{api.base_url}999:nope/getMe")
    unknown = await http.post(url(api, "sendTelepathy"))
    assert (bad.status_code, unknown.status_code) == (401, 404)
    assert unknown.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


async def test_get_updates_honours_offset_and_timeout(api, http):
    first = await api.push_update({"message": {"text": "a"}})
    await api.push_update({"message": {"text": "b"}})
    batch = (await http.post(url(api, "getUpdates"), data={"offset": "0", "timeout": "0"})).json()[
        "result"
    ]
    assert [u["update_id"] for u in batch] == [first["update_id"], first["update_id"] + 1]
    confirmed = (
        await http.post(url(api, "getUpdates"), data={"offset": str(first["update_id"] + 1)})
    ).json()
    assert [u["message"]["text"] for u in confirmed["result"]] == ["b"]

    started = time.monotonic()
    empty = await http.post(
        url(api, "getUpdates"), data={"offset": str(first["update_id"] + 2), "timeout": "0.3"}
    )
    assert empty.json()["result"] == [] and time.monotonic() - started >= 0.3

    waiting = asyncio.create_task(
        http.post(
            url(api, "getUpdates"), data={"offset": str(first["update_id"] + 2), "timeout": "30"}
        )
    )
    await api.wait_for(lambda: api.polling == 1, what="long poll in flight")
    await api.push_update({"message": {"text": "c"}})
    result = (await asyncio.wait_for(waiting, 5)).json()["result"]
    assert [u["message"]["text"] for u in result] == ["c"]


async def test_messages_are_checked_like_telegram_does(api, http):
    async def send(text: str, **extra: object) -> httpx.Response:
        return await http.post(url(api, "sendMessage"), json={"chat_id": 5, "text": text, **extra})

    assert (await send("<b>好</b> &amp; &lt;", parse_mode="HTML")).status_code == 200
    assert api.messages(5)[0].plain == "好 & <"
    for bad in ["a<br>b", "1 < 2", "a & b", "<b>open", "<i>x</b>"]:
        response = await send(bad, parse_mode="HTML")
        assert (
            response.status_code == 400 and "can't parse entities" in response.json()["description"]
        )
    assert (await send("1 < 2 & 3")).status_code == 200  # no parse mode: taken literally
    assert (await send("长" * 4097)).json()["description"] == "Bad Request: message is too long"
    assert (await send("😀" * 2049)).status_code == 400  # 4098 UTF-16 units
    assert (await send("   ")).status_code == 400
    long_data = {"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]}
    assert (await send("按钮", reply_markup=long_data)).json()[
        "description"
    ] == "Bad Request: BUTTON_DATA_INVALID"

    message = api.messages(5)[0]
    same = {
        "chat_id": 5,
        "message_id": message.message_id,
        "text": message.text,
        "parse_mode": "HTML",
    }
    not_modified = await http.post(url(api, "editMessageText"), json=same)
    assert not_modified.status_code == 400 and "not modified" in not_modified.json()["description"]
    edited = await http.post(url(api, "editMessageText"), json={**same, "text": "改了"})
    assert edited.status_code == 200 and message.plain == "改了" and len(message.edits) == 1


async def test_faults_are_injected_then_used_up(api, http):
    api.fail("sendMessage", 429, retry_after=3)
    api.fail("sendMessage", 502)
    api.blocked.add(9)
    limited = await http.post(url(api, "sendMessage"), json={"chat_id": 1, "text": "x"})
    gateway = await http.post(url(api, "sendMessage"), json={"chat_id": 1, "text": "x"})
    blocked = await http.post(url(api, "sendMessage"), json={"chat_id": 9, "text": "x"})
    fine = await http.post(url(api, "sendMessage"), json={"chat_id": 1, "text": "x"})
    assert limited.status_code == 429 and limited.json()["parameters"] == {"retry_after": 3}
    assert gateway.status_code == 502 and gateway.headers["content-type"].startswith("text/html")
    assert blocked.status_code == 403 and "blocked" in blocked.json()["description"]
    assert fine.status_code == 200
    assert [c.status for c in api.called("sendMessage")] == [429, 502, 403, 200]


async def test_delay_holds_a_method(api, http):
    api.delay("getMe", 0.3)
    started = time.monotonic()
    assert (await http.post(url(api, "getMe"))).status_code == 200
    assert time.monotonic() - started >= 0.3


async def test_files_are_served_through_get_file(api, http):
    document = api.add_file(b"%PDF-1.4 data", "规定.pdf")
    info = (await http.post(url(api, "getFile"), data={"file_id": document["file_id"]})).json()[
        "result"
    ]
    assert info["file_size"] == 13 and document["file_size"] == 13
    download = await http.get(
        f"{api.file_url}{quote(api.token, safe='')}/{quote(info['file_path'])}"
    )
    assert download.content == b"%PDF-1.4 data" and api.downloads == [info["file_path"]]
    missing = await http.post(url(api, "getFile"), data={"file_id": "nope"})
    assert missing.status_code == 400


async def test_webhook_delivery_carries_the_secret_and_blocks_polling(api, http):
    received: list[tuple[str | None, dict]] = []

    async def hook(request: Request) -> Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return Response(status_code=200)

    server, task, port = await serve_asgi(
        Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    )
    try:
        await http.post(
            url(api, "setWebhook"),
            data={"url": f"http://127.0.0.1:{port}/hook", "secret_token": "abc"},
        )
        conflict = await http.post(url(api, "getUpdates"))
        assert conflict.status_code == 409
        update = await api.push_update({"message": {"text": "hi"}})
        assert api.webhook_statuses == [200]
        assert received == [("abc", update)]
    finally:
        server.should_exit = True
        await task
