"""Admins and experts in settings are checked when the settings load, not when the store is
first opened: a typo stops start-up with the variable and the entry named."""

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
