"""Conversions between stored rows and the core value types (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from core.answers import Citation
from core.errors import ConfigurationError
from core.people import Channel, Domain, UserRef, user_from_key


def user_from_row(row: Mapping[str, Any], prefix: str = "") -> UserRef:
    """A UserRef from the ``channel``, ``user_id``, ``chat_id``, ``display_name`` columns
    (``prefix`` selects e.g. ``asker_``; the name column is ``<prefix>name`` then)."""
    name_column = f"{prefix}name" if prefix else "display_name"
    return UserRef(
        Channel(row[f"{prefix}channel"]),
        str(row[f"{prefix}user_id"]),
        row[f"{prefix}chat_id"],
        row[name_column],
    )


def domains_to_text(domains: Iterable[Domain]) -> str:
    """Domains as stored: their values joined with ``|`` in a stable order."""
    order = list(Domain)
    return "|".join(d.value for d in sorted(set(domains), key=order.index))


def domains_from_text(text: str) -> tuple[Domain, ...]:
    """The inverse of :func:`domains_to_text`; unknown names raise ConfigurationError."""
    result: list[Domain] = []
    for part in text.replace(",", "|").split("|"):
        name = part.strip().lower()
        if not name:
            continue
        try:
            result.append(Domain(name))
        except ValueError:
            raise ConfigurationError(f"unknown domain {name!r}") from None
    return tuple(dict.fromkeys(result))


def citations_to_json(citations: Sequence[Citation]) -> list[dict[str, Any]]:
    """Citations as JSON-ready dicts."""
    return [asdict(c) for c in citations]


def citations_from_json(data: Any) -> tuple[Citation, ...]:
    """Citations from stored JSON; fields unknown to this version are ignored."""
    if not isinstance(data, list):
        return ()
    fields = set(Citation.__dataclass_fields__)
    return tuple(
        Citation(**{k: v for k, v in item.items() if k in fields})
        for item in data
        if isinstance(item, dict)
    )


def parse_person_spec(spec: str) -> tuple[UserRef, tuple[Domain, ...]]:
    """A settings entry ``"telegram:123=metrology|food"`` → the user and their domains.

    The ``=domains`` part is optional (an expert without domains takes every domain).
    """
    key, _, domains = spec.partition("=")
    return user_from_key(key), domains_from_text(domains)
