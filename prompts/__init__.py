"""Every text a user sees, as data: Chinese message catalogs in TOML, one file per area.

A key is ``<file stem>.<name>``: ``text("desk.escalated", ticket_id=12)`` reads ``desk.toml``,
entry ``escalated``, and fills ``{ticket_id}`` with ``str.format``. Catalogs load lazily, once.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


class MissingText(KeyError):
    """A key that no catalog defines (a programming error, caught by tests)."""


@cache
def catalog() -> dict[str, Any]:
    """All catalogs merged, keyed ``<file stem>.<name>`` (nested tables join with dots)."""
    merged: dict[str, Any] = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            _flatten(entry.name.removesuffix(".toml"), data, merged)
    return merged


def _flatten(prefix: str, data: dict[str, Any], into: dict[str, Any]) -> None:
    for key, value in data.items():
        full = f"{prefix}.{key}"
        if isinstance(value, dict):
            _flatten(full, value, into)
        else:
            into[full] = value


def raw(key: str) -> Any:
    """The catalog value as stored (a string, a list of strings, a number)."""
    try:
        return catalog()[key]
    except KeyError:
        raise MissingText(key) from None


def text(key: str, **values: object) -> str:
    """The Chinese text for ``key`` with ``{placeholders}`` filled from ``values``."""
    template = raw(key)
    if not isinstance(template, str):
        raise MissingText(f"{key} is not a text")
    return template.format(**values) if values else template


def texts(key: str) -> list[str]:
    """A list of texts (e.g. example questions)."""
    value = raw(key)
    if not isinstance(value, list):
        raise MissingText(f"{key} is not a list")
    return [str(v) for v in value]


def error_text(code: str, reason: str = "") -> str:
    """The user-facing Chinese text for a ``core.errors`` code, with a polite fallback; an
    ingest failure's ``reason`` (``too_long``, ``encrypted``…) reads its own ``ingest.reason``."""
    if reason and (precise := catalog().get(f"ingest.reason.{reason}")) is not None:
        return str(precise)
    return str(catalog().get(f"errors.{code}", catalog()["errors.error"]))
