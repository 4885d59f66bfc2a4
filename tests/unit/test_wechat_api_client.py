"""The API client against the stand-in API server: one token, refreshed when WeChat says so."""

from __future__ import annotations

import time

import pytest

from bot.wechat.api_client import TokenCache, WeChatApi, WeChatApiError
from tests.fakes.wechat_api import WeChatApiStandIn, serve

OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


class SharedStore:
    def __init__(self) -> None:
        self.value: tuple[str, float] | None = None
        self.saves = 0

    def load_token(self) -> tuple[str, float] | None:
        return self.value

    def save_token(self, token: str, expires_at: float) -> None:
        self.value = (token, expires_at)
        self.saves += 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting_fetch() -> tuple[list[str], object]:
    issued: list[str] = []

    def fetch() -> tuple[str, int]:
        issued.append(f"T{len(issued) + 1}")
        return issued[-1], 7200

    return issued, fetch


def test_token_is_cached_until_shortly_before_expiry() -> None:
    issued, fetch = counting_fetch()
    clock = Clock()
    cache = TokenCache(fetch, refresh_margin_s=300, clock=clock)  # type: ignore[arg-type]
    assert cache.get() == "T1"
    clock.now += 6800
    assert cache.get() == "T1"
    clock.now += 200  # 200 s left: inside the margin
    assert cache.get() == "T2"
    assert issued == ["T1", "T2"]


def test_token_is_shared_through_the_store() -> None:
    store = SharedStore()
    issued_a, fetch_a = counting_fetch()
    issued_b, fetch_b = counting_fetch()
    a = TokenCache(fetch_a, store)  # type: ignore[arg-type]
    b = TokenCache(fetch_b, store)  # type: ignore[arg-type]
    assert a.get() == "T1"
    assert b.get() == "T1"  # the other worker adopts it instead of invalidating it
    assert issued_a == ["T1"]
    assert issued_b == []


def test_refused_token_is_never_adopted_again() -> None:
    store = SharedStore()
    issued, fetch = counting_fetch()
    cache = TokenCache(fetch, store)  # type: ignore[arg-type]
    assert cache.get() == "T1"
    cache.invalidate("T1")
    assert cache.get() == "T2"
    assert issued == ["T1", "T2"]
    assert store.value is not None and store.value[0] == "T2"


@pytest.fixture
async def stand_in():
    api = WeChatApiStandIn()
    async with serve(api.app()) as url:
        yield api, url


async def test_sends_with_one_token(stand_in) -> None:
    api, url = stand_in
    api.note_inbound(OPENID)
    client = WeChatApi(api.app_id, api.secret, base_url=url)
    for i in range(3):
        await client.send_text(OPENID, f"第{i}条")
    assert api.texts_to(OPENID) == ["第0条", "第1条", "第2条"]
    assert api.token_requests == 1
    client.close()


async def test_expired_token_is_refreshed_and_the_call_retried(stand_in) -> None:
    api, url = stand_in
    api.note_inbound(OPENID)
    client = WeChatApi(api.app_id, api.secret, base_url=url)
    await client.send_text(OPENID, "一")
    api.expire_current_token()  # WeChat answers 42001
    await client.send_text(OPENID, "二")
    assert api.texts_to(OPENID) == ["一", "二"]
    assert api.token_requests == 2
    assert api.token_errors == [42001]


async def test_token_invalidated_by_another_fetch_is_refreshed(stand_in) -> None:
    api, url = stand_in
    api.note_inbound(OPENID)
    first = WeChatApi(api.app_id, api.secret, base_url=url)
    second = WeChatApi(api.app_id, api.secret, base_url=url)  # no shared store: it fetches
    await first.send_text(OPENID, "一")
    await second.send_text(OPENID, "二")  # its token invalidates the first one's (40001)
    await first.send_text(OPENID, "三")
    assert api.texts_to(OPENID) == ["一", "二", "三"]
    assert api.token_requests == 3
    assert api.token_errors == [40001]


async def test_refusals_carry_their_errcode(stand_in) -> None:
    api, url = stand_in
    client = WeChatApi(api.app_id, api.secret, base_url=url)
    with pytest.raises(WeChatApiError) as closed:
        await client.send_text(OPENID, "窗口外")
    assert closed.value.errcode == 45015 and not closed.value.transient
    api.note_inbound(OPENID, at=time.time() - 49 * 3600)
    with pytest.raises(WeChatApiError) as old:
        await client.send_text(OPENID, "48 小时以前")
    assert old.value.errcode == 45015
    api.note_inbound(OPENID)
    for i in range(5):
        await client.send_text(OPENID, f"{i}")
    with pytest.raises(WeChatApiError) as quota:
        await client.send_text(OPENID, "第六条")
    assert quota.value.errcode == 45047
    api.unverified = True
    with pytest.raises(WeChatApiError) as unverified:
        await client.send_text(OPENID, "未认证")
    assert unverified.value.errcode == 48001


async def test_wrong_secret_and_unreachable_server() -> None:
    api = WeChatApiStandIn()
    async with serve(api.app()) as url:
        client = WeChatApi(api.app_id, "wrong", base_url=url)
        with pytest.raises(WeChatApiError) as bad:
            await client.send_text(OPENID, "x")
        assert bad.value.errcode == 40125
    offline = WeChatApi(api.app_id, api.secret, base_url=url, timeout_s=1)
    with pytest.raises(WeChatApiError) as down:
        await offline.send_text(OPENID, "x")
    assert down.value.errcode is None and down.value.transient
