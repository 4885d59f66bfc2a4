"""The WeChat callback protocol: signatures, safe mode, safe XML parsing, reply envelopes.

wechatpy does the protocol work (``check_signature``, ``WeChatCrypto``, ``parse_message``,
``TextReply``); this module puts the checks in the right order so that nothing reaches the
desk before the request is known to come from WeChat:

1. the signature (plain mode: ``signature`` over token, timestamp, nonce; safe mode:
   ``msg_signature`` over the same and the ``Encrypt`` text) and a fresh timestamp. An account
   in safe mode takes nothing else: a plain signature does not cover the body, so a plaintext
   callback there could carry any text from anyone who saw one callback URL;
2. the body: size-limited, and parsed with defusedxml with DOCTYPE forbidden, before and after
   decryption, so an entity bomb never reaches wechatpy's parser;
3. the message, turned into an :class:`Inbound` with the key re-deliveries share.

A request that fails 1 raises :class:`ForgedCallback` (HTTP 403); one that fails 2 or 3 raises
:class:`MalformedCallback` (HTTP 400). An opened :class:`Envelope` carries its timestamp, nonce
and a fingerprint of the message, so that the channel can refuse a nonce used again with
another message (WeChat's own re-deliveries repeat the request unchanged).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.wechat.rendering import MAX_TEXT_BYTES, byte_length, xml_safe
from core.people import Channel, IncomingMessage, UserRef

MAX_BODY_BYTES = 256 * 1024  # a 2,000-character message is ~6 KB; safe mode adds a third
MAX_ID_CHARS = 64  # openids have 28 characters, account ids 15


class CallbackRejected(Exception):
    """A callback the channel refuses; ``status`` is the HTTP status to answer with."""

    status = 400


class ForgedCallback(CallbackRejected):
    """Wrong or missing signature, or a timestamp too far from now."""

    status = 403


class MalformedCallback(CallbackRejected):
    """Not a WeChat message: unreadable, too large, or XML with a DOCTYPE or entities."""

    status = 400


class InboundKind(StrEnum):
    TEXT = "text"
    EVENT = "event"
    MEDIA = "media"  # image, voice, video, location, link: the desk reads text only
    OTHER = "other"


MEDIA_TYPES = frozenset({"image", "voice", "video", "shortvideo", "location", "link", "file"})


@dataclass(frozen=True, slots=True)
class Inbound:
    """One WeChat message or event, stripped of the protocol.

    ``key`` is the same for every delivery of the message and differs between users and
    accounts (a MsgId is not unique across them): ``wechat:msg:<account>:<openid>:<MsgId>`` for
    messages, ``wechat:evt:<account>:<openid>:<CreateTime>:<event>`` for events (which have no
    MsgId). Logs name the message by :attr:`ref`, which does not reveal the openid.
    """

    kind: InboundKind
    message: IncomingMessage
    key: str
    msg_type: str
    account: str
    event: str = ""
    event_key: str = ""

    @property
    def user(self) -> UserRef:
        return self.message.user

    @property
    def ref(self) -> str:
        return log_ref(self.key)


def log_ref(key: str) -> str:
    """A short name for a message key in logs: the same for every delivery, no openid in it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Envelope:
    """An accepted callback: the message, what is needed to answer it in the same mode, and
    what identifies the request (``timestamp``, ``nonce``; ``fingerprint`` of the message)."""

    inbound: Inbound
    native: Any  # the wechatpy message, to reply to
    nonce: str
    encrypted: bool
    timestamp: str = ""
    fingerprint: str = ""


class CallbackCodec:
    """Verifies, opens and answers callbacks for one Official Account."""

    def __init__(
        self,
        token: str,
        aes_key: str | None = None,
        app_id: str | None = None,
        *,
        max_skew_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token = token
        self._crypto = WeChatCrypto(token, aes_key, app_id) if aes_key and app_id else None
        self._max_skew_s = max_skew_s
        self._clock = clock

    @property
    def safe_mode(self) -> bool:
        return self._crypto is not None

    @property
    def replay_window_s(self) -> float:
        """How long a signed request stays acceptable: timestamps pass ``max_skew_s`` either
        side of now, so a nonce must be remembered for twice that."""
        return 2 * self._max_skew_s

    # --- URL verification -------------------------------------------------------------------
    def verify_url(self, query: Mapping[str, str]) -> str:
        """The ``echostr`` to return unchanged, if the request is signed with our token."""
        self._check_plain_signature(query)
        echo = query.get("echostr")
        if echo is None:
            raise MalformedCallback("no echostr")
        return echo

    # --- messages ---------------------------------------------------------------------------
    def open(self, query: Mapping[str, str], body: bytes) -> Envelope:
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if self.safe_mode and not encrypted:
            raise ForgedCallback("plaintext callback to an account in safe mode")
        if encrypted:
            xml = self._decrypt(query, body)
        else:
            self._check_plain_signature(query)
            _parse_xml(body)
            try:
                xml = body.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedCallback("not UTF-8") from None
        try:
            native = parse_message(xml)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise MalformedCallback(f"not a WeChat message: {type(exc).__name__}") from exc
        if native is None:
            raise MalformedCallback("empty message")
        return Envelope(
            _inbound(native),
            native,
            query.get("nonce", ""),
            encrypted,
            timestamp=query.get("timestamp", ""),
            fingerprint=hashlib.sha256(xml.encode("utf-8")).hexdigest(),
        )

    def seal(self, envelope: Envelope, text: str | None) -> tuple[str, str]:
        """The response body and media type: ``success``, or a text reply to the sender
        (encrypted in safe mode)."""
        if not text:
            return "success", "text/plain"
        xml = self.render(envelope, text)
        if envelope.encrypted and self._crypto is not None:
            xml = self._crypto.encrypt_message(xml, envelope.nonce, str(int(self._clock())))
        return xml, "application/xml"

    def render(self, envelope: Envelope, text: str) -> str:
        """The plain reply XML, sender and receiver swapped."""
        rendered: str = TextReply(message=envelope.native, content=xml_safe(text)).render()
        return rendered

    def content_budget(self, envelope: Envelope) -> int:
        """How many bytes of text fit in a passive reply to this message (the whole reply XML
        stays within WeChat's 2048 bytes)."""
        return MAX_TEXT_BYTES - byte_length(self.render(envelope, ""))

    # --- checks -----------------------------------------------------------------------------
    def _check_fresh(self, query: Mapping[str, str]) -> str:
        timestamp = query.get("timestamp", "")
        try:
            sent = int(timestamp)
        except ValueError:
            raise ForgedCallback("bad timestamp") from None
        if abs(self._clock() - sent) > self._max_skew_s:
            raise ForgedCallback("stale timestamp")
        return timestamp

    def _check_plain_signature(self, query: Mapping[str, str]) -> None:
        timestamp = self._check_fresh(query)
        try:
            check_signature(
                self._token, query.get("signature", ""), timestamp, query.get("nonce", "")
            )
        except InvalidSignatureException:
            raise ForgedCallback("bad signature") from None

    def _decrypt(self, query: Mapping[str, str], body: bytes) -> str:
        if self._crypto is None:
            raise ForgedCallback("safe-mode callback but no EncodingAESKey is configured")
        timestamp = self._check_fresh(query)
        root = _parse_xml(body)
        encrypt = root.findtext("Encrypt")
        if not encrypt:
            raise MalformedCallback("safe-mode body without Encrypt")
        try:
            plain: str = self._crypto.decrypt_message(
                {"Encrypt": encrypt},
                query.get("msg_signature", ""),
                timestamp,
                query.get("nonce", ""),
            )
        except (InvalidSignatureException, InvalidAppIdException):
            raise ForgedCallback("bad msg_signature or app id") from None
        except Exception as exc:  # bad base64, padding or length: not from WeChat
            raise MalformedCallback(f"undecryptable: {type(exc).__name__}") from exc
        _parse_xml(plain.encode("utf-8"))
        return plain


def _parse_xml(body: bytes) -> Element:
    if len(body) > MAX_BODY_BYTES:
        raise MalformedCallback("body too large")
    try:
        root: Element = safe_xml.fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:  # ValueError: odd encodings
        raise MalformedCallback(f"rejected XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise MalformedCallback("root element is not <xml>")
    return root


def _inbound(native: Any) -> Inbound:
    msg_type = str(getattr(native, "type", "") or "").lower()
    openid = str(native.source or "")
    account = str(native.target or "")
    if not openid:
        raise MalformedCallback("no FromUserName")
    if len(openid) > MAX_ID_CHARS or len(account) > MAX_ID_CHARS:
        raise MalformedCallback("FromUserName or ToUserName too long")
    user = UserRef(Channel.WECHAT, openid)
    sender = f"{account}:{openid}"
    if msg_type == "event":
        event = str(getattr(native, "event", "") or "").lower()[:MAX_ID_CHARS]
        raw_key = getattr(native, "key", None) or getattr(native, "scene_id", None) or ""
        key = f"wechat:evt:{sender}:{native.time}:{event}"
        return Inbound(
            InboundKind.EVENT,
            IncomingMessage(user, "", key),
            key,
            msg_type,
            account,
            event=event,
            event_key=str(raw_key),
        )
    raw = getattr(native, "_data", {})
    msg_id = str(raw.get("MsgId") or "")[:MAX_ID_CHARS] if isinstance(raw, dict) else ""
    key = f"wechat:msg:{sender}:{msg_id or f't{native.time}'}"
    if msg_type == "text":
        content = str(getattr(native, "content", "") or "")
        return Inbound(
            InboundKind.TEXT, IncomingMessage(user, content, key), key, msg_type, account
        )
    kind = InboundKind.MEDIA if msg_type in MEDIA_TYPES else InboundKind.OTHER
    return Inbound(kind, IncomingMessage(user, "", key), key, msg_type, account)
