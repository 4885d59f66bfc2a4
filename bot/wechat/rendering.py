"""Texts that fit WeChat: byte-length limits, cutting at natural boundaries, numbered parts.

WeChat counts UTF-8 bytes, not characters: a passive reply or a customer-service text holds at
most 2048 bytes (about 680 汉字), and a longer passive reply is silently dropped. These pure
functions cut a text into pieces that fit, preferring to cut after a line, then after a
sentence, then after a clause, and never inside a character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import prompts

MAX_TEXT_BYTES = 2048  # passive replies and customer-service texts
MAX_CUSTOMER_SERVICE_PARTS = 5  # messages per user message since 2023

# Control characters XML 1.0 does not allow (tab, newline and carriage return are fine).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LINE_BREAKS = "\n"
_SENTENCE_ENDS = "。！？；!?;"
_CLAUSE_ENDS = "，、,：: ）)」』》"


def byte_length(text: str) -> int:
    return len(text.encode("utf-8"))


def xml_safe(text: str) -> str:
    """The text without characters XML cannot carry and without a CDATA terminator."""
    return _XML_INVALID.sub("", text).replace("]]>", "]] >")


def fit(text: str, limit: int) -> tuple[str, str]:
    """Split ``text`` into a head of at most ``limit`` UTF-8 bytes and the rest.

    The cut falls after the last line break in the second half of the head if there is one,
    else after a sentence end, else after a clause mark, else at the byte limit (on a character
    boundary). The head never ends with whitespace and the rest never starts with it.
    """
    if limit <= 0:
        return "", text
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text, ""
    head = data[:limit].decode("utf-8", errors="ignore")
    floor = len(head) // 2
    for marks in (_LINE_BREAKS, _SENTENCE_ENDS, _CLAUSE_ENDS):
        cut = max(head.rfind(mark) for mark in marks)
        if cut >= floor:
            head = head[: cut + 1]
            break
    rest = text[len(head) :]
    return head.rstrip(), rest.lstrip()


@dataclass(frozen=True, slots=True)
class Pages:
    """A text cut into messages that fit, and what did not fit in ``max_parts`` messages."""

    parts: tuple[str, ...]
    rest: str = ""


def paginate(text: str, limit: int, max_parts: int, pointer: str) -> Pages:
    """Cut ``text`` into at most ``max_parts`` messages of at most ``limit`` bytes each.

    With more than one part, each starts with a label such as ``（1/3）``. When the text needs
    more parts than allowed, the last part ends with ``pointer`` (e.g. "回复 0 查看余下部分")
    and the remainder comes back in ``rest``.
    """
    text = text.strip()
    if byte_length(text) <= limit or max_parts <= 0:
        if max_parts <= 0:
            return Pages((), text)
        return Pages((text,))
    pointer_room = byte_length(pointer) + 1
    if max_parts == 1:
        head, rest = fit(text, limit - pointer_room)
        return Pages((f"{head}\n{pointer}",), rest)
    label_room = byte_length(_label(max_parts, max_parts)) + 1
    bodies: list[str] = []
    rest = text
    while rest and len(bodies) < max_parts:
        room = limit - label_room
        last_allowed = len(bodies) == max_parts - 1
        if last_allowed and byte_length(rest) > room:
            room -= pointer_room
        head, rest = fit(rest, room)
        bodies.append(head)
    total = len(bodies)
    parts = [f"{_label(i + 1, total)}\n{body}" for i, body in enumerate(bodies)]
    if rest:
        parts[-1] = f"{parts[-1]}\n{pointer}"
    return Pages(tuple(parts), rest)


def _label(index: int, total: int) -> str:
    return prompts.text("wechat.part_label", index=index, total=total)


def join_texts(texts: list[str]) -> str:
    """Several messages shown as one reply (held messages first), separated by a blank line."""
    return "\n\n".join(t.strip() for t in texts if t and t.strip())
