"""The WeChat API as the channel uses it: one access token, customer-service text messages.

wechatpy's ``WeChatClient`` does the requests. Two things are changed: the API base URL (a
deployment or a test may point it elsewhere — ``fetch_access_token`` hard-codes the platform's
host, so it is overridden too), and the token: wechatpy's own retry on an expired token
recurses without limit and every worker would fetch its own token (a new token invalidates the
old one). Here a :class:`TokenCache` owns the token: it is shared through a
:class:`TokenStore` (the desk's channel state), refreshed some minutes before it expires, and
refreshed at once when WeChat answers 40001, 40014 or 42001 — then the call is tried once more.

wechatpy uses blocking ``requests``: the async methods run it in a thread of the client's own
small pool.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.weixin.qq.com"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential / token, token expired
WINDOW_CLOSED = 45015  # the user has not written for 48 hours
QUOTA_EXCEEDED = 45047  # more than 5 customer-service messages for one user message
NOT_PERMITTED = 48001  # the account has no customer-service permission (unverified)
NOT_SUBSCRIBED = 43004  # the user unfollowed the account
TRANSIENT = frozenset({-1, 45009, 45011})  # system busy, frequency limits


class WeChatApiError(Exception):
    """WeChat refused a call (``errcode``), or its answer did not arrive (``errcode`` is None;
    ``may_have_arrived`` when the request itself went out: WeChat may have carried it out)."""

    def __init__(self, errcode: int | None, errmsg: str = "", *, may_have_arrived: bool = False):
        self.errcode = errcode
        self.errmsg = errmsg
        self.may_have_arrived = may_have_arrived
        super().__init__(f"errcode={errcode} errmsg={errmsg}")

    @property
    def transient(self) -> bool:
        """Worth trying again later: the network, WeChat busy, a frequency limit."""
        return self.errcode is None or self.errcode in TRANSIENT


class TokenStore(Protocol):
    """Where workers share the access token (called from worker threads)."""

    def load_token(self) -> tuple[str, float] | None: ...

    def save_token(self, token: str, expires_at: float) -> None: ...


class TokenCache:
    """The access token: kept until ``refresh_margin_s`` before expiry, shared through
    ``store``, fetched under a lock so concurrent callers fetch once."""

    def __init__(
        self,
        fetch: Callable[[], tuple[str, int]],
        store: TokenStore | None = None,
        *,
        refresh_margin_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._store = store
        self._margin = refresh_margin_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._rejected: str | None = None  # a token WeChat refused; never adopt it again

    def get(self) -> str:
        with self._lock:
            if self._token and self._fresh(self._expires_at):
                return self._token
            shared = self._store.load_token() if self._store else None
            if shared and shared[0] != self._rejected and self._fresh(shared[1]):
                self._token, self._expires_at = shared
                return shared[0]
            token, expires_in = self._fetch()
            self._token, self._expires_at = token, self._clock() + expires_in
            if self._store:
                self._store.save_token(token, self._expires_at)
            log.info("wechat_token_fetched expires_in=%s", expires_in)
            return token

    def invalidate(self, token: str) -> None:
        """WeChat refused ``token``: the next ``get`` takes a newer one or fetches."""
        with self._lock:
            self._rejected = token
            if self._token == token:
                self._token = None

    def _fresh(self, expires_at: float) -> bool:
        return expires_at - self._clock() > self._margin


class _Client(WeChatClient):  # type: ignore[misc]
    """wechatpy's client pointed at ``base_url``, with its token taken from a TokenCache."""

    def __init__(self, app_id: str, secret: str, base_url: str, timeout_s: float) -> None:
        super().__init__(app_id, secret, timeout=timeout_s, auto_retry=False)
        self.API_BASE_URL = f"{base_url}/cgi-bin/"
        self._token_url = f"{base_url}/cgi-bin/token"
        self.tokens: TokenCache | None = None

    @property
    def access_token(self) -> str:
        assert self.tokens is not None
        return self.tokens.get()

    def fetch_access_token(self) -> dict[str, Any]:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        res = self._http.get(self._token_url, params=params, timeout=self.timeout)
        res.raise_for_status()
        result: dict[str, Any] = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""), client=self)
        return result


class WeChatApi:
    """Customer-service text messages (客服消息) for one Official Account."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        base_url: str | None = None,
        token_store: TokenStore | None = None,
        timeout_s: float = 5.0,
        refresh_margin_s: float = 300.0,
        threads: int = 4,
    ) -> None:
        self._client = _Client(
            app_id, app_secret, (base_url or DEFAULT_API_URL).rstrip("/"), timeout_s
        )
        self.tokens = TokenCache(self._fetch_token, token_store, refresh_margin_s=refresh_margin_s)
        self._client.tokens = self.tokens
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    async def send_text(self, openid: str, content: str) -> None:
        """Send one customer-service text; raises WeChatApiError."""
        if self._pool is None:  # its own threads: pushes must not queue behind the desk's work
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="wechat-api")
        await asyncio.get_running_loop().run_in_executor(
            self._pool, self._call, lambda: self._client.message.send_text(openid, content)
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        self._client._http.close()

    def _fetch_token(self) -> tuple[str, int]:
        try:
            result = self._client.fetch_access_token()
        except WeChatClientException as exc:
            raise WeChatApiError(exc.errcode, str(exc.errmsg or "")) from None
        except (requests.RequestException, ValueError) as exc:
            raise WeChatApiError(None, type(exc).__name__) from None
        return str(result["access_token"]), int(result.get("expires_in", 7200))

    def _call(self, request: Callable[[], Any]) -> dict[str, Any]:
        for attempt in (1, 2):
            token = self.tokens.get()
            try:
                result = request()
            except WeChatClientException as exc:
                code = int(exc.errcode) if exc.errcode is not None else None
                if code in TOKEN_ERRORS and attempt == 1:
                    log.info("wechat_token_refused errcode=%s refreshing=1", code)
                    self.tokens.invalidate(token)
                    continue
                raise WeChatApiError(code, str(exc.errmsg or "")) from None
            except requests.RequestException as exc:
                raise WeChatApiError(
                    None, type(exc).__name__, may_have_arrived=_sent(exc)
                ) from None
            if not isinstance(result, dict):
                raise WeChatApiError(None, "response is not JSON", may_have_arrived=True)
            return result
        raise WeChatApiError(None, "token refused twice")  # pragma: no cover - loop returns


def _sent(error: requests.RequestException) -> bool:
    """Whether a request that failed with ``error`` went out (its answer is what is missing):
    not when the connection was refused or never made."""
    if isinstance(error, requests.ConnectTimeout):
        return False
    text = str(error)
    return not (
        isinstance(error, requests.ConnectionError)
        and ("NewConnectionError" in text or "Connection refused" in text)
    )
