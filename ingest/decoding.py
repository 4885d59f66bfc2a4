"""Bytes of a text file → ``str``: UTF-8, byte-order marks, GB18030/GBK, then detection.

Binary files posing as text are refused here, before any cleaning sees them.
"""

from __future__ import annotations

import codecs
import logging
import re

log = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF = 8192
_CONTROL_BYTES = frozenset(range(32)) - {9, 10, 12, 13, 27}
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.I)


class NotText(ValueError):
    """The bytes are not text in any encoding we accept (a binary, or undecodable)."""


def bom_encoding(data: bytes) -> str | None:
    """The codec named by a byte-order mark at the start of ``data``, if any."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def looks_binary(data: bytes) -> bool:
    """True for bytes that no text file has: NUL bytes (without a UTF-16/32 mark) or many
    control characters in the first few kilobytes."""
    head = data[:_SNIFF]
    if not head or bom_encoding(head) in {"utf-16", "utf-32"}:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte in _CONTROL_BYTES)
    return controls / len(head) > 0.02


def readable_share(text: str) -> float:
    """Share of characters that are not control, private-use or replacement characters
    (1.0 for clean text)."""
    if not text:
        return 1.0
    return 1 - len(_UNREADABLE.findall(text)) / len(text)


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in a ``<meta>`` tag near its start, if Python knows it."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    name = match.group(1).decode("ascii").lower()
    if name in {"gb2312", "gbk"}:
        name = "gb18030"  # a superset: pages labelled gb2312 routinely use GBK characters
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_text(data: bytes, *, prefer: str | None = None) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding)``.

    Tries, in order: ``prefer`` (e.g. an HTML page's declared charset), UTF-8 strictly, a
    byte-order mark, GB18030 strictly (covers GBK and GB2312; when the bytes are valid Big5
    as well, charset-normalizer chooses between the two), then charset-normalizer's best
    guess. Raises :class:`NotText` for binaries and for text that decodes to garbage.
    """
    if looks_binary(data):
        raise NotText("binary content")
    candidates = [prefer] if prefer else []
    candidates += ["utf-8-sig"]
    if bom := bom_encoding(data):
        candidates.append(bom)
    candidates.append("gb18030")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if readable_share(text) >= 0.99:
            if encoding == "gb18030" and encoding != prefer and _also_big5(data):
                return _detect(data, among=["gb18030", "big5"])
            return text, encoding
    return _detect(data)


def _also_big5(data: bytes) -> bool:
    """True when the bytes are valid Big5 too (GB18030 then decodes Traditional text written
    in Big5 into nonsense without any error, so detection has to choose)."""
    try:
        data.decode("big5")
    except UnicodeDecodeError:
        return False
    return True


def _detect(data: bytes, among: list[str] | None = None) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=among).best()
    if best is None:
        raise NotText("no text encoding fits")
    text = str(best)
    if readable_share(text) < 0.99 or best.chaos > 0.3:
        raise NotText(f"undecodable (best guess {best.encoding}, chaos {best.chaos:.2f})")
    log.info("encoding detected encoding=%s chaos=%.2f", best.encoding, best.chaos)
    return text, best.encoding
