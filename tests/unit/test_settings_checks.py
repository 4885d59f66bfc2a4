"""Settings are checked when they load, not when the store or a channel is first opened: a
typo in the admins or experts, or a missing or malformed secret, stops start-up with the
variable named (and never the secret's value)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_well_formed_people_load_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QADESK_ADMINS", "telegram:1, console:admin")
    monkeypatch.setenv("QADESK_EXPERTS", "telegram:2=metrology|food,wechat:o-3")
    settings = Settings(_env_file=None)
    assert settings.admins == ["telegram:1", "console:admin"]
    assert settings.experts == ["telegram:2=metrology|food", "wechat:o-3"]


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("QADESK_ADMINS", "12345", "not a channel:user_id key"),
        ("QADESK_ADMINS", "telgram:1", "unknown channel"),
        ("QADESK_EXPERTS", "telegram:2=metrology|cooking", "unknown domain 'cooking'"),
    ],
)
def test_a_malformed_entry_stops_the_settings_with_its_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None)
    assert variable in str(raised.value) and problem in str(raised.value)


AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
HOOK = "https://desk.example.cn/hooks/tg"


@pytest.mark.parametrize(
    ("values", "variable", "problem"),
    [
        ({"telegram_token": "t", "telegram_webhook_url": HOOK}, "WEBHOOK_SECRET", "must be set"),
        (
            {"telegram_token": "t", "telegram_webhook_url": HOOK, "telegram_webhook_secret": "a b"},
            "WEBHOOK_SECRET",
            "A-Z a-z 0-9 _ -",
        ),
        (
            {
                "telegram_token": "t",
                "telegram_webhook_url": "ftp://x.cn/tg",
                "telegram_webhook_secret": "ok",
            },
            "WEBHOOK_URL",
            "http(s)",
        ),
        ({"wechat_aes_key": AES_KEY[:-1], "wechat_app_id": "wx1"}, "AES_KEY", "43 characters"),
        ({"wechat_aes_key": AES_KEY}, "AES_KEY", "needs QADESK_WECHAT_APP_ID"),
        ({"console_enabled": True}, "CONSOLE_SECRET", "at least 32"),
        ({"console_enabled": True, "console_secret": "too-short"}, "CONSOLE_SECRET", "at least"),
    ],
)
def test_a_missing_or_malformed_secret_stops_the_settings(
    values: dict[str, object], variable: str, problem: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, **values)  # type: ignore[arg-type]
    message = str(raised.value)
    assert f"QADESK_{'TELEGRAM_' if 'WEBHOOK' in variable else ''}" in message
    assert variable in message and problem in message
    assert "too-short" not in message and AES_KEY[:-1] not in message  # values stay out


def test_well_formed_secrets_load() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_token="t",
        telegram_webhook_url=HOOK,
        telegram_webhook_secret="abc_DEF-123",
        wechat_aes_key=AES_KEY,
        wechat_app_id="wx1",
        console_enabled=True,
        console_secret="s" * 32,
    )
    assert settings.wechat_aes_key is not None and settings.console_secret is not None
