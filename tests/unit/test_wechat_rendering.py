"""Byte-aware cutting of texts for WeChat's 2048-byte limit."""

from __future__ import annotations

import prompts
from bot.wechat.rendering import (
    MAX_TEXT_BYTES,
    byte_length,
    fit,
    join_texts,
    paginate,
    xml_safe,
)

LAW = (
    "第二十八条 为了保护国家安全、防止欺诈行为、保护人体健康或者安全，列入目录的产品必须经过认证。"
)


def test_fit_keeps_short_text_whole() -> None:
    assert fit("你好", 100) == ("你好", "")


def test_fit_counts_bytes_not_characters() -> None:
    text = "质" * 1000  # 3000 bytes
    head, rest = fit(text, MAX_TEXT_BYTES)
    assert byte_length(head) <= MAX_TEXT_BYTES
    assert len(head) == MAX_TEXT_BYTES // 3  # never half a character
    assert head + rest == text


def test_fit_prefers_a_line_then_a_sentence() -> None:
    text = "甲" * 300 + "\n" + "乙" * 300 + "。" + "丙" * 300
    head, rest = fit(text, 1500)  # room for 500 characters
    assert head == "甲" * 300
    assert rest.startswith("乙")
    head, _ = fit("甲" * 300 + "。" + "乙" * 300, 1500)
    assert head == "甲" * 300 + "。"


def test_fit_ignores_a_boundary_too_early() -> None:
    text = "短。" + "长" * 1000
    head, rest = fit(text, 900)
    assert byte_length(head) == 900  # cut at the limit, not after two characters
    assert head + rest == text


def test_paginate_single_part_with_pointer() -> None:
    pointer = prompts.text("wechat.more_held")
    text = (LAW + "\n") * 60
    pages = paginate(text, 1800, 1, pointer)
    assert len(pages.parts) == 1
    assert byte_length(pages.parts[0]) <= 1800
    assert pages.parts[0].endswith(pointer)
    assert pages.rest
    kept = pages.parts[0].removesuffix(pointer).strip()
    assert (kept + "\n" + pages.rest).replace("\n", "") == text.strip().replace("\n", "")


def test_paginate_numbers_parts_and_stops_at_the_quota() -> None:
    pointer = prompts.text("wechat.more_held")
    text = (LAW + "\n") * 300  # about 40 KB
    pages = paginate(text, MAX_TEXT_BYTES, 5, pointer)
    assert len(pages.parts) == 5
    assert all(byte_length(p) <= MAX_TEXT_BYTES for p in pages.parts)
    assert pages.parts[0].startswith(prompts.text("wechat.part_label", index=1, total=5))
    assert pages.parts[-1].endswith(pointer)
    assert pages.rest


def test_paginate_uses_as_few_parts_as_possible() -> None:
    text = (LAW + "\n") * 40  # about 5.6 KB: three parts
    pages = paginate(text, MAX_TEXT_BYTES, 5, "…")
    assert len(pages.parts) == 3
    assert not pages.rest
    bodies = [p.split("\n", 1)[1] for p in pages.parts]
    assert "\n".join(bodies).replace("\n", "") == text.replace("\n", "")


def test_xml_safe_removes_what_xml_cannot_carry() -> None:
    assert xml_safe("a\x00b\x07c]]>d\n") == "abc]] >d\n"


def test_join_texts_skips_empty() -> None:
    assert join_texts(["甲", "", "  ", "乙"]) == "甲\n\n乙"
