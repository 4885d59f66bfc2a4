"""The callback endpoints: ``GET /wechat`` (URL verification) and ``POST /wechat`` (messages).

Thin on purpose: the codec checks and opens the callback, the channel state checks that its
signature was not used before for another message, the responder gets the reply from the desk
within WeChat's time, the codec seals it. A forged, stale, replayed or (in safe mode) plaintext
request is answered 403 and a malformed one 400 before anything reaches the desk.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

import prompts
from bot.wechat.delivery import Responder
from bot.wechat.protocol import (
    MAX_BODY_BYTES,
    CallbackCodec,
    CallbackRejected,
    Envelope,
    ForgedCallback,
    MalformedCallback,
)
from bot.wechat.state import WeChatState

log = logging.getLogger(__name__)


class CallbackViews:
    def __init__(self, codec: CallbackCodec, responder: Responder, state: WeChatState) -> None:
        self._codec = codec
        self._responder = responder
        self._state = state

    async def verify(self, request: Request) -> Response:
        try:
            echo = self._codec.verify_url(request.query_params)
        except CallbackRejected as exc:
            return _rejected(exc)
        log.info("wechat_url_verified")
        return PlainTextResponse(echo)

    async def receive(self, request: Request) -> Response:
        arrived = asyncio.get_running_loop().time()
        try:
            body = await _read_body(request)
            envelope = self._codec.open(request.query_params, body)
        except CallbackRejected as exc:
            return _rejected(exc)
        try:
            if not await self._first_use(envelope):
                return _rejected(ForgedCallback("nonce used before with another message"))
        except Exception:  # the desk's store is down: a polite reply, nothing recorded
            log.exception("wechat_nonce_check_failed ref=%s", envelope.inbound.ref)
            return self._sealed(envelope, prompts.error_text("error"))

        async def connected() -> bool:
            return not await request.is_disconnected()

        try:
            text = await self._responder.respond(
                envelope.inbound, self._codec.content_budget(envelope), arrived, connected
            )
        except Exception:  # log first, then a polite reply rather than WeChat's failure notice
            log.exception("wechat_callback_failed ref=%s", envelope.inbound.ref)
            text = prompts.error_text("error")
        return self._sealed(envelope, text)

    async def _first_use(self, envelope: Envelope) -> bool:
        return await self._state.first_use_of(
            envelope.timestamp, envelope.nonce, envelope.fingerprint, self._codec.replay_window_s
        )

    def _sealed(self, envelope: Envelope, text: str | None) -> Response:
        content, media_type = self._codec.seal(envelope, text)
        return Response(content, media_type=media_type)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise MalformedCallback("body too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise MalformedCallback("body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _rejected(exc: CallbackRejected) -> Response:
    log.warning("wechat_callback_rejected status=%s reason=%s", exc.status, exc)
    return PlainTextResponse("forbidden" if exc.status == 403 else "bad request", exc.status)
